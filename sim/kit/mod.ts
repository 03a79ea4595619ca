/**
 * troupe's test kit for actor kinds (`troupe/testing`): run a kind frame by frame as a host does
 * (`runKind`, with control changes between frames), and the checks a kind should pass before it
 * runs live: save-then-load at every frame changes no byte, under the defaults and under settings
 * off them (`checkSaveLoad`), framing changes no finding (`checkFraming`), the kernel reads no
 * clock and no Math.random (`checkPure`), two fresh loads of its module publish the same bytes
 * and take no clock or randomness as they load (`checkModule`), a control change is applied, at
 * its sample, and kept through save and load (`checkControl`), and a recording (`troupe
 * record`'s, or `recordKind`'s) still replays to the same outputs (`checkReplay`). Each check
 * throws a KindCheckError that names where, and what to look at.
 */
export { checkControl, type CheckControlOptions } from "./check_control.ts";
export { checkFraming, framesOf, FRAMINGS_DEFAULT, type Series } from "./check_framing.ts";
export { checkModule, type CheckModuleOptions } from "./check_module.ts";
export { checkPure } from "./check_pure.ts";
export { checkReplay, type CheckReplayOptions } from "./check_replay.ts";
export { checkSaveLoad } from "./check_save_load.ts";
export { KindCheckError } from "./kit_error.ts";
export { type OffDefaultConfig, offDefaultConfig } from "./off_default_config.ts";
export { recordKind } from "./record_kind.ts";
export {
  type KindRunOptions,
  type KindStep,
  KIT_FRAMES_MAX,
  type KitControl,
  type KitOutput,
  runKind,
} from "./kind_run.ts";
