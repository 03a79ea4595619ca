/**
 * A host's periodic round (snapshots due, gauges, progress), run every period on the host's
 * timers until stopped: rescheduled whatever a round did, so that one failed round does not end
 * the rounds.
 */
import type { HostTimers } from "../instances/mod.ts";

/** Rounds under way: `stop()` ends them. */
export class PeriodicRounds {
  readonly #timers: HostTimers;
  #timer: unknown;
  #stopped = false;

  /** Starts running `round` every `periodMs` on `timers`. */
  constructor(timers: HostTimers, periodMs: number, round: () => void) {
    this.#timers = timers;
    const tick = () => {
      try {
        round();
      } finally {
        if (!this.#stopped) this.#timer = timers.setTimeout(tick, periodMs);
      }
    };
    this.#timer = timers.setTimeout(tick, periodMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
  }
}
