/**
 * Where a host's input resumes after a crash: after the lowest source position any of its
 * instances took, not the highest. A host killed with appends in flight journaled one channel
 * further than another (appends to different journal streams are pipelined), so the frames the
 * other missed sit in the feed below the highest position journaled; resuming after the highest
 * skipped them. Each instance drops what it took already (by source position, see `_slot.ts`),
 * so reading again from the lowest loses nothing and applies nothing twice. `Host.start` decides
 * it once, for whatever input the host was given (it used to be decided twice: by the host for
 * its dead-letter decisions, and by a wrapper the two launchers put around their own inputs only).
 */
/** The lowest source position any of `instances` took, when below `resumeAfter`; else it. */
export function lowestSourcePosition(
  resumeAfter: number,
  instances: ReadonlyArray<{ srcPos: number }>,
): number {
  let low = resumeAfter;
  for (const i of instances) if (i.srcPos > 0 && i.srcPos < low) low = i.srcPos;
  return low;
}
