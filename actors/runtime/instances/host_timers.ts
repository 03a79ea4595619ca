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
