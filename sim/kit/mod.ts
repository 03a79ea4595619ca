/**
 * troupe's test kit for actor kinds (`troupe/testing`): run a kind frame by frame as a host does
 * (`runKind`), and the checks a kind should pass before it runs live: save-then-load at every frame
 * changes no byte (`checkSaveLoad`), framing changes no finding (`checkFraming`), the kernel reads
 * no clock and no Math.random (`checkPure`), and a recording (`troupe record`'s, or `recordKind`'s)
 * still replays to the same outputs (`checkReplay`). Each check throws a KindCheckError that names
 * where and how.
 */
export { checkFraming, framesOf, FRAMINGS_DEFAULT, type Series } from "./check_framing.ts";
export { checkPure } from "./check_pure.ts";
export { checkReplay, type CheckReplayOptions } from "./check_replay.ts";
export { checkSaveLoad } from "./check_save_load.ts";
export { KindCheckError } from "./kit_error.ts";
export { recordKind } from "./record_kind.ts";
export {
  type KindRunOptions,
  type KindStep,
  KIT_FRAMES_MAX,
  type KitOutput,
  runKind,
} from "./kind_run.ts";
