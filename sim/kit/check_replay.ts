/**
 * The replay check, after Temporal's `Worker.runReplayHistory`: a recording made with an earlier
 * build of a kind is replayed through the kind as it is now, and every output must equal the
 * recorded one. When the code no longer reproduces it, the check fails naming the first output
 * that differs and how, so a change that moves a verdict is seen before it ships.
 */
import type { AnyActorDefinition } from "../../protocol/mod.ts";
import { mismatchPlace, replay, type ReplayResult } from "../recording/mod.ts";
import { KindCheckError } from "./kit_error.ts";

/** Options of `checkReplay`. */
export interface CheckReplayOptions {
  /** The kinds to run, beside troupe's own (a recording names the kinds it ran). */
  kinds?: readonly AnyActorDefinition[];
  /** Accept a recording whose writer did not close it. */
  acceptUnclosed?: boolean;
}

/** Replays `path` with `--verify`; throws KindCheckError at the first output that differs. */
export async function checkReplay(
  path: string,
  options: CheckReplayOptions = {},
): Promise<ReplayResult> {
  const { ACTOR_KINDS } = await import("../../actors/mod.ts");
  const registry: Record<string, AnyActorDefinition> = { ...ACTOR_KINDS };
  for (const def of options.kinds ?? []) registry[def.kind] = def;
  const result = await replay(path, {
    verify: true,
    registry,
    threads: 1,
    acceptUnclosed: options.acceptUnclosed ?? false,
  });
  const v = result.verify;
  if (result.skippedKinds.length > 0) {
    throw new KindCheckError(
      `Cannot verify ${path}: it holds outputs of kinds not given to checkReplay: ${
        result.skippedKinds.join(", ")
      }`,
    );
  }
  if (v === undefined || !v.ok) {
    const f = v?.first;
    const what = f === undefined
      ? "the recording could not be verified whole"
      : f.kind === "different"
      ? `${mismatchPlace(f)} differs (recorded id ${f.recordedId}): ${f.detail}`
      : f.kind === "missing"
      ? `${mismatchPlace(f)} (recorded id ${f.recordedId}) is no longer produced`
      : `${mismatchPlace(f)} (id ${f.replayedId}) is produced but not recorded`;
    throw new KindCheckError(
      `The code no longer reproduces ${path}: ${what} (${v?.equal ?? 0} equal, ${
        v?.different ?? 0
      } different, ${v?.missing ?? 0} missing, ${v?.extra ?? 0} extra); bump the kind's ` +
        "version if the change is meant",
    );
  }
  return result;
}
