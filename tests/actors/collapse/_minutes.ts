/**
 * The collapse tests' clock of minutes and their way of feeding the kernel: samples a minute apart
 * from a Monday 00:00 UTC (so days and weekends fall where the season expects them), in frames of
 * `batch`.
 */
import {
  type CollapseChange,
  collapseKernel,
  type CollapseState,
} from "../../../actors/collapse/kernel.ts";

export const DAY_US = 86_400e6;
/** A minute apart. */
export const DT = 60e6;
/** A Monday 00:00 UTC. */
export const T0 = 1_700_438_400_000_000;

/** Steps `state` over `values` (sample `from + i` at T0 + (from + i) × DT), `batch` a frame. */
export function runMinutes(
  state: CollapseState,
  values: readonly number[],
  from = 0,
  batch = 500,
): { changes: CollapseChange[]; prob: number[] } {
  const changes: CollapseChange[] = [];
  const prob: number[] = [];
  for (let i = 0; i < values.length; i += batch) {
    const n = Math.min(batch, values.length - i);
    const v = Float64Array.from({ length: n }, (_, k) => values[i + k]!);
    const t = Float64Array.from({ length: n }, (_, k) => T0 + (from + i + k) * DT);
    const r = collapseKernel.step(state, { channel: "c", seq0: from + i, t, v });
    changes.push(...r.changes);
    prob.push(...r.changeProb);
  }
  return { changes, prob };
}
