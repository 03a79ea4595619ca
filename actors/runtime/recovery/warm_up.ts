/**
 * The background restore of a start's dormant instances (Slot.dormant): a start restores at once
 * only the instances the journal holds inputs for past their snapshots, and takes inputs again;
 * the others are restored when first used (an input, a tick, a read of their state) or by this
 * pass, a slice at a time between the host's other work, so that a host of many instances takes
 * inputs again before it has made them all, and has made them all within seconds.
 */
import { type HostTimers, type Slot, wake } from "../instances/mod.ts";

/**
 * Dormant instances restored a slice: at about 20 µs each (a kernel's state copied out of its
 * snapshot, a machine revived, an id window), some 10 ms of the host's thread, after which what
 * came meanwhile (inputs, timers, the feed's pulls) goes first.
 */
export const WAKES_PER_SLICE = 512;

/** What the background restore works with. */
export interface WarmUpParts {
  timers: HostTimers;
  /** The host's slots: a slot no longer there (its partition let go) is not restored. */
  slots: ReadonlyMap<string, Slot>;
  /** Whether the host is stopping: the pass ends (a dormant instance needs no stop). */
  closing(): boolean;
  /** Told how many of the dormant slots the pass has not reached yet, after each slice. */
  left(count: number): void;
}

/** Restores `dormant`'s instances a slice at a time, each slice after the host's other work. */
export function warmUp(dormant: readonly Slot[], parts: WarmUpParts): void {
  let next = 0;
  parts.left(dormant.length);
  const slice = () => {
    if (parts.closing()) return;
    const end = Math.min(dormant.length, next + WAKES_PER_SLICE);
    for (; next < end; next++) {
      const slot = dormant[next]!;
      if (slot.dormant !== undefined && parts.slots.get(slot.stream) === slot) wake(slot);
    }
    parts.left(dormant.length - next);
    if (next < dormant.length) parts.timers.setTimeout(slice, 0);
  };
  if (dormant.length > 0) parts.timers.setTimeout(slice, 0);
}
