/**
 * Where two kit runs of the same frames first publish different bytes, and that place in words,
 * for the checks' messages.
 */
import { bytesEqual, type SampleFrame } from "../../protocol/mod.ts";
import type { KindStep, KitOutput } from "./kind_run.ts";

/** The first output where two runs differ: its frame and index, and each run's output there. */
export interface RunDifference {
  frame: number;
  output: number;
  a: KitOutput | undefined;
  b: KitOutput | undefined;
}

/** The first output where `a` and `b` differ in bytes, or undefined when they publish the same. */
export function firstDifference(
  a: readonly KindStep[],
  b: readonly KindStep[],
): RunDifference | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i]?.outputs ?? [], y = b[i]?.outputs ?? [];
    for (let k = 0; k < Math.max(x.length, y.length); k++) {
      const p = x[k], q = y[k];
      if (p === undefined || q === undefined || !bytesEqual(p.data, q.data)) {
        return { frame: i, output: k, a: p, b: q };
      }
    }
  }
  return undefined;
}

/** Outputs the runs published, in all. */
export function outputCount(steps: readonly KindStep[]): number {
  return steps.reduce((n, s) => n + s.outputs.length, 0);
}

/**
 * `frame 3 (channel cpu, seq0 48): output 0 (level_high on troupe.out.level.cpu) differs in the
 * second run`, with `second` naming what the second run is.
 */
export function describeDifference(
  d: RunDifference,
  frames: readonly SampleFrame[],
  second: string,
): string {
  const f = frames[d.frame];
  const where = f === undefined
    ? `frame ${d.frame}`
    : `frame ${d.frame} (channel ${f.channel}, seq0 ${f.seq0})`;
  const what = (o: KitOutput) => `(${o.type ?? "columns"} on ${o.subject})`;
  return `${where}: output ${d.output} ${
    d.a === undefined
      ? `${what(d.b!)} appears only ${second}`
      : d.b === undefined
      ? `${what(d.a)} is missing ${second}`
      : `${what(d.a)} differs ${second}`
  }`;
}
