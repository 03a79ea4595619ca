/**
 * Timers on a clock that moves only when told, for a host under test (its `timers` and `now`):
 * what falls due runs in time order as the clock is moved on.
 */
import type { HostTimers } from "../../actors/runtime/mod.ts";

/** A clock at `startMs` and its timers. */
export function virtualTime(startMs: number) {
  let now = startMs;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: HostTimers = {
    setTimeout: (fn, ms) => {
      due.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void due.delete(h as number),
  };
  return {
    timers,
    now: () => now,
    /** Moves the clock on by `ms`, running what falls due, in time order. */
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const next = [...due.entries()].filter(([, d]) => d.at <= end)
          .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!next) break;
        due.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
  };
}
