/**
 * A periodic round's time-based snapshots: at most SNAPSHOTS_PER_ROUND_MAX, taken at once or,
 * given a slice size, in slices of that many, each next slice on a zero-delay timer, so that the
 * host takes input between them (a capture encodes the instance's state on the host's thread).
 */
import type { HostTimers } from "../instances/mod.ts";
import { SNAPSHOTS_PER_ROUND_MAX, type Snapshotter } from "../recovery/mod.ts";

/** What a round of snapshots reads: the snapshotter, its timers, and whether it is stopping. */
export interface SnapshotRoundParts {
  snapshotter: Snapshotter;
  timers: HostTimers;
  /** True once the host is closing or failed: the slices left are not taken. */
  stopped: () => boolean;
}

/** Takes the snapshots due at `now` (each instance's every `everyMs`), in slices of `slice`. */
export function snapshotRound(
  parts: SnapshotRoundParts,
  now: number,
  everyMs: number,
  slice: number | undefined,
): void {
  const { snapshotter } = parts;
  if (slice === undefined) {
    snapshotter.captureDue(now, everyMs);
    return;
  }
  let left = SNAPSHOTS_PER_ROUND_MAX;
  const step = () => {
    if (parts.stopped()) return;
    const n = Math.min(slice, left);
    left -= n;
    const more = snapshotter.captureDue(now, everyMs, n);
    if (more && left > 0) parts.timers.setTimeout(step, 0);
  };
  step();
}
