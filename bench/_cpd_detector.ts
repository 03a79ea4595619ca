/**
 * The change-point detector `bench cpd` scores: the collapse kernel run over a series given by
 * index (one sample a second, in frames of FRAME_SAMPLES), alone or over a series' dimensions.
 */
import {
  type CollapseChange,
  type CollapseConfig,
  collapseKernel,
  defaultCollapseConfig,
} from "../actors/collapse/mod.ts";

/** The name the kernel's changes are made under. */
const NAME = "cpd";
/** Samples per frame fed to the kernel. */
const FRAME_SAMPLES = 500;
/** Microseconds between samples of a series fed by index. */
const STEP_US = 1_000_000;

/** Runs the kernel over `values` (NaN: missing) and returns the changes it confirmed. */
export function detectChanges(
  values: ArrayLike<number>,
  config: CollapseConfig = defaultCollapseConfig,
): CollapseChange[] {
  const n = values.length;
  const v = Float64Array.from(values);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = i * STEP_US;
  const state = collapseKernel.init(config, NAME);
  const changes: CollapseChange[] = [];
  for (let i = 0; i < n; i += FRAME_SAMPLES) {
    const end = Math.min(n, i + FRAME_SAMPLES);
    const frame = { channel: NAME, seq0: i, t: t.subarray(i, end), v: v.subarray(i, end) };
    changes.push(...collapseKernel.step(state, frame).changes);
  }
  return changes;
}

/** Change indices of a multivariate series: each dimension's, merged within `min_gap_samples`. */
export function detectSeries(
  dimensions: readonly ArrayLike<number>[],
  config: CollapseConfig = defaultCollapseConfig,
): number[] {
  const all = dimensions.flatMap((d) => detectChanges(d, config).map((c) => c.changeIndex))
    .sort((a, b) => a - b);
  const merged: number[] = [];
  for (const c of all) {
    const last = merged[merged.length - 1];
    if (last === undefined || c - last > config.min_gap_samples) merged.push(c);
  }
  return merged;
}
