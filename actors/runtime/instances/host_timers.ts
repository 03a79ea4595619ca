/**
 * The timers a host uses for backoff and periodic work (snapshots, gauges): passed in, so that
 * the simulator can run hosts on virtual time.
 */

/** The timers a host uses (backoff, periodic snapshots and gauges). */
export interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The runtime's own timers. */
export const REAL_TIMERS: HostTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * `timers` whose callbacks cannot throw into the process: an error one throws is told to
 * `failed` (the host logs it) and goes no further, so one failed timer (a snapshot, a rebuild, a
 * gauge) never ends a host. The simulator's hosts take its timers as they are, so a bug there
 * still ends the run that found it.
 */
export function containedTimers(timers: HostTimers, failed: (err: unknown) => void): HostTimers {
  return {
    setTimeout: (fn, ms) =>
      timers.setTimeout(() => {
        try {
          fn();
        } catch (err) {
          failed(err);
        }
      }, ms),
    clearTimeout: (h) => timers.clearTimeout(h),
  };
}
