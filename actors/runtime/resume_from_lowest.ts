/**
 * Where a host's input resumes after a crash: after the lowest source position any of its
 * instances took, not the highest. A host killed with appends in flight journaled one channel
 * further than another (appends to different journal streams are pipelined), so the frames the
 * other missed sit in the feed below the highest position journaled; resuming after the highest
 * skipped them. Each instance drops what it took already (by source position, see `_slot.ts`),
 * so reading again from the lowest loses nothing and applies nothing twice.
 */
import type { InputSource } from "./input_source.ts";

/** The lowest source position any of `instances` took, when below `resumeAfter`; else it. */
export function lowestSourcePosition(
  resumeAfter: number,
  instances: ReadonlyArray<{ srcPos: number }>,
): number {
  let low = resumeAfter;
  for (const i of instances) if (i.srcPos > 0 && i.srcPos < low) low = i.srcPos;
  return low;
}

/** `input`, started after the lowest source position of `instances()` (when below its own). */
export function resumeFromLowest(
  input: InputSource,
  instances: () => ReadonlyArray<{ srcPos: number }>,
): InputSource {
  return {
    ...input,
    start(deliver, resumeAfter) {
      return input.start(deliver, lowestSourcePosition(resumeAfter, instances()));
    },
    stop: () => input.stop(),
    ...(input.firstPosition ? { firstPosition: () => input.firstPosition!() } : {}),
    ...(input.health ? { health: () => input.health!() } : {}),
  };
}
