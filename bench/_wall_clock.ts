/**
 * The wall clock in microseconds (`CLOCK_REALTIME`), from a thread's `performance.now()` time:
 * one clock for every process of a benchmark, on Node and Deno alike (Deno's `process.hrtime`
 * starts at its process's start, so the monotonic clock is not shared there), so that a
 * benchmark's timelines (its frames, each process's stalls) line up with each other and with the
 * kernel's, as `perf record -k CLOCK_REALTIME` stamps the scheduler's events.
 */

/** `performance.now()` time `ms` of this thread on the wall clock, in µs. */
export function wallUs(ms: number): number {
  return Math.round((performance.timeOrigin + ms) * 1000);
}
