/**
 * A thread's stalls as a timeline on the wall clock: the gaps in which its event loop stood still
 * and the collections in it (`LoopGaps`), in microseconds, to be written beside a phase's frames
 * (`bench latency --timeline DIR`) and lined up with them and with the scheduler's events of
 * `perf record -k CLOCK_MONOTONIC` (`monotonic_minus_wall_us` apart). With the process's id, to
 * find its threads there.
 */
import process from "node:process";
import type { LoopGaps } from "./_loop_gaps.ts";
import { monotonicMinusWallUs, wallUs } from "./_wall_clock.ts";

/** A thread's stalls, each list in order of start. */
export interface StallTimeline {
  pid: number;
  /** CLOCK_MONOTONIC less the wall clock, µs (a time here plus this is perf's); null: unknown. */
  monotonic_minus_wall_us: number | null;
  /** `[start µs, length µs, on a CPU µs, waiting for one µs]`; -1: not known. */
  gaps: [number, number, number, number][];
  /** `[start µs, pause µs, kind, V8's flags]`. */
  gcs: [number, number, string, number][];
}

/** What `gaps` kept so far, on the wall clock. */
export function stallTimeline(gaps: LoopGaps): StallTimeline {
  const us = (ms: number | undefined) => ms === undefined ? -1 : Math.round(ms * 1000);
  const kept = gaps.stretches();
  return {
    pid: process.pid,
    monotonic_minus_wall_us: monotonicMinusWallUs(),
    gaps: kept.gaps.map((g) => [wallUs(g.startMs), us(g.ms), us(g.onCpuMs), us(g.waitMs)]),
    gcs: kept.gcs.map((g) => [wallUs(g.startMs), us(g.ms), g.kind, g.flags]),
  };
}
