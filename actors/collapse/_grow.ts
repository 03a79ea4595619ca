/**
 * The hot loop of the collapse kernel: every kept run-length hypothesis carries its line ahead,
 * scores the sample with its robust Student-t predictive (relative to the prior's) and absorbs the
 * sample with its posterior inlier weight. Runs runs_max times per sample, so it allocates nothing
 * and reads what every hypothesis shares from one Growth record set once per sample.
 */
import { expFast, log1pFast } from "../math/mod.ts";
import type { CollapseState } from "./_state.ts";

/** A sample whose inlier weight is below this leaves a hypothesis' line as it was. */
const WEIGHT_MIN = 1e-12;

/** What every hypothesis' growth at one sample shares. */
export interface Growth {
  /** Samples the lines advance (1, more after missed samples). */
  steps: number;
  x: number;
  /** 1 / the prior predictive's density at x: every density is taken relative to it. */
  invPrior: number;
  /** Prior beta of the noise variance, and the variance floor of quantised data. */
  beta0: number;
  varFloor: number;
  /** Growth factor of every hypothesis' mass: 1 - hazard. */
  grow: number;
  /** Variance of the level's step per sample, in noise variances. */
  drift: number;
  /** Variance of the slope's step per sample, in noise variances. */
  slopeDrift: number;
  /**
   * What a hypothesis keeps of its noise variance's evidence over these steps: its weighted count
   * and spread are multiplied by it before the sample enters (1: kept whole, the default).
   */
  keepNoise: number;
  /**
   * The observation x (prewhitened: y - rho y_prev, rho the residuals' autocorrelation over the
   * steps) is ha level + hb slope + noise, ha = 1 - rho and hb = rho steps.
   */
  ha: number;
  hb: number;
  /** The noise variance of this sample relative to the regime's (its season; 1 without one). */
  g: number;
}

/** The constants of a frame, read once from the header. */
export interface FrameConstants {
  keep: number;
  eps: number;
  alpha0: number;
}

/**
 * Sum of the grown masses [0] and of the masses before growth [1], as growRuns leaves them (a
 * typed array: no boxed doubles).
 */
export const GROW_SUMS = new Float64Array(2);

/**
 * Growth: every hypothesis carries its line `steps` samples ahead, scores x with its robust
 * Student-t predictive (relative to the prior's), and absorbs x with its posterior inlier weight.
 * This is the hot loop (runs_max times per sample): one division, one square root, one exp and
 * one log1p per hypothesis.
 */
export function growRuns(
  state: CollapseState,
  runs: number,
  growth: Growth,
  c: FrameConstants,
): void {
  const { prob, weight, level, slope, p00, p01, p11, spread } = state;
  const { steps, x, invPrior, beta0, varFloor, grow, drift, slopeDrift, ha, hb, g } = growth;
  const keepNoise = growth.keepNoise;
  const { keep, eps, alpha0 } = c;
  let total = 0;
  let sumP = 0;
  for (let i = 0; i < runs; i++) {
    const s = slope[i]!;
    const lv = level[i]! + steps * s;
    const q11 = p11[i]!;
    const c01 = p01[i]! + steps * q11;
    const c00 = p00[i]! + steps * (p01[i]! + c01) + steps * drift;
    const c11 = q11 + steps * slopeDrift;
    // The noise variance's evidence fades (noise_half_life_samples): alpha and beta shrink
    // together, so its estimate stays and its certainty is that of the recent samples.
    const w = weight[i]! * keepNoise;
    const a = alpha0 + 0.5 * w;
    const s2 = spread[i]! * keepNoise;
    const b0 = beta0 + s2;
    const bMin = a * varFloor;
    // The Student-t predictive has nu = 2a and s^2 = b (1 + c00) / a; iden = 1 / (nu s^2). One
    // division gives both iden and 1 / a', where a' >= GAMMA_SERIES_MIN is the argument of the
    // gamma-ratio series (a itself, or a + 4 after four steps of its recurrence).
    const as = a < 6 ? a + 4 : a;
    // The sample observes ha level + hb slope (prewhitened; ha 1 and hb 0 without autocorrelation):
    // m = P h, hph = h' P h.
    const m0 = ha * c00 + hb * c01;
    const m1 = ha * c01 + hb * c11;
    const hph = ha * m0 + hb * m1;
    const bk = 2 * (g + hph) * (b0 > bMin ? b0 : bMin);
    const q = 1 / (bk * as);
    const iden = as * q;
    const ia = bk * q;
    const d = x - (ha * lv + hb * s);
    const dd = d * d;
    const norm = studentNorm(a, as, iden, ia);
    const ratio = invPrior * norm * expFast(-(a + 0.5) * log1pFast(dd * iden));
    const good = keep * ratio;
    const gm = good + eps;
    const p = prob[i]!;
    sumP += p;
    const np = p * gm * grow;
    prob[i] = np;
    total += np;
    // x enters with inlier weight wi = good / gm: as one observation of variance sigma^2 / wi, a
    // Kalman update of the line whose gain is P h / (h' P h + 1 / wi).
    if (good > WEIGHT_MIN * gm) {
      // One division: kg = 1 / (hph + g / wi) and wi itself.
      const den = hph * good + g * gm;
      const r = 1 / (gm * den);
      const kg = good * gm * r;
      const g0 = m0 * kg;
      const g1 = m1 * kg;
      level[i] = lv + g0 * d;
      slope[i] = s + g1 * d;
      p00[i] = c00 - g0 * m0;
      p01[i] = c01 - g0 * m1;
      p11[i] = c11 - g1 * m1;
      spread[i] = s2 + 0.5 * dd * kg;
      weight[i] = w + good * den * r;
    } else {
      weight[i] = w;
      spread[i] = s2;
      level[i] = lv;
      p00[i] = c00;
      p01[i] = c01;
    }
  }
  GROW_SUMS[0] = total;
  GROW_SUMS[1] = sumP;
}

/**
 * The Student-t predictive's normaliser, sqrt(iden) Gamma(a + 1/2) / Gamma(a), as
 * _gamma_ratio.ts computes it: the series at a' = `as` (1 / a' is `ia`), and when a' = a + 4 (a
 * under 6) four steps of the recurrence. Small enough for the engines to inline into growRuns.
 */
function studentNorm(a: number, as: number, iden: number, ia: number): number {
  const series = 1 +
    ia * (-1 / 8 + ia * (1 / 128 + ia * (5 / 1024 + ia * (-21 / 32768 + ia * (-399 / 262144)))));
  let norm = Math.sqrt(as * iden) * series;
  if (as !== a) {
    // Four steps of the recurrence G(a) = G(a + 1) a / (a + 1/2) (see _gamma_ratio.ts).
    norm *= a * (a + 1) * (a + 2) * (a + 3) / ((a + 0.5) * (a + 1.5) * (a + 2.5) * (a + 3.5));
  }
  return norm;
}
