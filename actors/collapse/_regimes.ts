/**
 * The run-length hypotheses' bookkeeping around the hot loop: opening a regime (the channel's
 * first, or a new one at the current sample), normalising and pruning the posterior and reading it
 * (the most probable regime, the mass and most probable start of the regimes newer than the last
 * change), and the lifecycle phase decided per sample.
 */
import type { Running } from "./_running.ts";
import {
  type CollapseState,
  H_KAPPA0,
  H_PRUNE,
  H_RECOVER,
  H_SLOPE_VAR,
  H_SUSPECT,
} from "./_state.ts";

const STABLE = 0, SUSPECT = 1, COLLAPSED = 2, RECOVERING = 3;

/** Opens the first regime at the channel's first valid sample j (x: deseasonalised). */
export function openFirst(state: CollapseState, r: Running, x: number, j: number): void {
  const kappa0 = state.data[H_KAPPA0]!;
  state.prob[0] = 1;
  state.start[0] = j;
  openRun(state, 0, x, kappa0, 0);
  r.runs = 1;
  r.level = x;
  r.trend = 0;
  r.prevY = x;
  r.segStart = j;
  r.regime = j;
  r.missed = 0;
  r.lastProb = 0;
  r.lastRun = 0;
}

/**
 * A regime that began at x: its prior, centred on x and updated by it, its slope centred on
 * `slope` (the slope the channel had: see SLOPE_CARRIED) with the prior's spread.
 */
export function openRun(
  state: CollapseState,
  i: number,
  x: number,
  kappa0: number,
  slope: number,
): void {
  state.weight[i] = 1;
  state.level[i] = x;
  state.slope[i] = slope;
  state.p00[i] = 1 / (kappa0 + 1);
  state.p01[i] = 0;
  state.p11[i] = state.data[H_SLOPE_VAR]!;
  state.spread[i] = 0;
}

/**
 * Normalises the grown hypotheses, drops those under `prune_prob`, and reads the posterior: the
 * most probable run (its line becomes the running level and trend), and the mass and most probable
 * start of the regimes newer than `newer`. Returns that mass; the candidate's slot is in PICK[0].
 */
export const PICK = new Int32Array(1);
export function normalise(state: CollapseState, r: Running, total: number, newer: number): number {
  const { prob, start, columns } = state;
  const prune = state.data[H_PRUNE]!;
  const inv = 1 / total;
  const runs = r.runs;
  let kept = 0;
  let best = 0;
  let bestP = -1;
  let mass = 0;
  let cand = -1;
  let candP = -1;
  for (let i = 0; i < runs; i++) {
    const p = prob[i]! * inv;
    if (p < prune) continue;
    if (kept !== i) {
      for (let f = 1; f < columns.length; f++) columns[f]![kept] = columns[f]![i]!;
    }
    prob[kept] = p;
    if (p > bestP) {
      bestP = p;
      best = kept;
    }
    if (start[kept]! > newer) {
      mass += p;
      if (p > candP) {
        candP = p;
        cand = kept;
      }
    }
    kept++;
  }
  r.runs = kept;
  r.level = state.level[best]!;
  r.trend = state.slope[best]!;
  r.lastRun = r.index - 1 - start[best]!;
  PICK[0] = cand;
  return mass;
}

/** The next lifecycle phase after a valid sample (the machine's states, decided per sample). */
export function nextPhase(
  phase: number,
  confirmed: boolean,
  mass: number,
  sinceChange: number,
  data: Float64Array,
): number {
  if (confirmed) return COLLAPSED;
  const suspect = data[H_SUSPECT]!;
  switch (phase) {
    case STABLE:
      return mass >= suspect ? SUSPECT : STABLE;
    case SUSPECT:
      return mass < suspect ? STABLE : SUSPECT;
    case COLLAPSED:
      return RECOVERING;
    default:
      return sinceChange >= data[H_RECOVER]! && mass < suspect ? STABLE : RECOVERING;
  }
}
