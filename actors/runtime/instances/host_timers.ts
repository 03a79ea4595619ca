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
 * `timers` whose callbacks cannot throw into the process: an error one throws is said in one
 * line to `log` (the host's) and goes no further, so one failed timer (a snapshot, a rebuild, a
 * gauge) never ends a host. The simulator's hosts take its timers as they are, so a bug there
 * still ends the run that found it.
 */
export function containedTimers(timers: HostTimers, log: (line: string) => void): HostTimers {
  return {
    setTimeout: (fn, ms) =>
      timers.setTimeout(() => {
        try {
          fn();
        } catch (err) {
          log(`a timer failed: ${errorLine(err)}`);
        }
      }, ms),
    clearTimeout: (h) => timers.clearTimeout(h),
  };
}

/** An error as one line of a log: its stack's first frames say where a bug is. */
export function errorLine(err: unknown): string {
  const stack = (err as Error)?.stack;
  return stack ? stack.split("\n").slice(0, 3).join(" | ") : String(err);
}
