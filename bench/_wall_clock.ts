/**
 * The wall clock in microseconds, from a thread's `performance.now()` time: one clock for every
 * process of a benchmark, on Node and Deno alike (Deno's `process.hrtime` starts at its process's
 * start, so the monotonic clock is not shared there), so that a benchmark's timelines (its
 * frames, each process's stalls) line up with each other. The kernel's own timeline (`perf record
 * -k CLOCK_MONOTONIC`; perf takes no CLOCK_REALTIME for its events) is a fixed offset away, which
 * `monotonicMinusWallUs` reads where the runtime shares that clock (Node).
 */
import process from "node:process";

/** `performance.now()` time `ms` of this thread on the wall clock, in µs. */
export function wallUs(ms: number): number {
  return Math.round((performance.timeOrigin + ms) * 1000);
}

/** CLOCK_MONOTONIC less the wall clock now, in µs; null where the runtime does not share it. */
export function monotonicMinusWallUs(): number | null {
  if ("Deno" in globalThis) return null;
  return Math.round(Number(process.hrtime.bigint()) / 1000) - wallUs(performance.now());
}
