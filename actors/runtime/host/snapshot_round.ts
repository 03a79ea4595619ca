/**
 * A periodic round's time-based snapshots: at most what the snapshotter's `roundMax` allows (100,
 * or enough for every instance to have its turn within `snapshots.max_age_ms`), taken at once or,
 * given a slice size, in slices of that many, each next slice on a zero-delay timer, so that the
 * host takes input between them (a capture encodes the instance's state on the host's thread).
 * A round ends with the snapshot that is no instance's (the edge's decisions), saved alone when
 * it is due and no instance's was taken to carry it.
 */
import type { HostTimers } from "../instances/mod.ts";
import type { Snapshotter } from "../recovery/mod.ts";

/** A host's periodic round comes every second, or every `everyMs` (its snapshots') when shorter. */
export function roundPeriodMs(everyMs: number): number {
  return Math.min(everyMs, 1000);
}

/**
 * What a round of snapshots reads: the snapshotter, its timers, whether it is stopping, and how
 * many instances the host holds.
 */
export interface SnapshotRoundParts {
  snapshotter: Snapshotter;
  timers: HostTimers;
  /** True once the host is closing or failed: the slices left are not taken. */
  stopped: () => boolean;
  /** The host's instances. */
  instances: () => number;
}

/** Takes the snapshots due at `now` (each instance's every `everyMs`), in slices of `slice`. */
export function snapshotRound(
  parts: SnapshotRoundParts,
  now: number,
  everyMs: number,
  slice: number | undefined,
): void {
  const { snapshotter } = parts;
  let left = snapshotter.roundMax(roundPeriodMs(everyMs), parts.instances());
  if (slice === undefined) {
    snapshotter.captureDue(now, everyMs, left);
    snapshotter.captureExtra();
    return;
  }
  const step = () => {
    if (parts.stopped()) return;
    const n = Math.min(slice, left);
    left -= n;
    const more = snapshotter.captureDue(now, everyMs, n);
    if (more && left > 0) parts.timers.setTimeout(step, 0);
    else snapshotter.captureExtra();
  };
  step();
}
