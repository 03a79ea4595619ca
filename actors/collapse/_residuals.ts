/**
 * Serially correlated noise: the running lag-1 autocorrelation of the most probable regime's
 * one-step residuals, kept in the state's header, by which the kernel prewhitens each sample when
 * `ar_max` is above 0.
 */
import { H_AR_C0, H_AR_C1, H_AR_E, H_AR_N } from "./_state.ts";

/** The residuals' moments: their rate (half-life ~1000 samples) and the largest weight it gives. */
const AR_RATE = 1 / 1443;
const AR_WEIGHT_MAX = 1443;
/** Independent residuals the autocorrelation's estimate is shrunk towards 0 by. */
const AR_PRIOR_SAMPLES = 100;
/** Residuals are clipped at this many noise scales before they enter the autocorrelation. */
const AR_CLIP = 3;

/**
 * The residuals' lag-1 autocorrelation so far, within [0, cap], shrunk towards 0 by a prior of
 * AR_PRIOR_SAMPLES independent residuals: a change not yet confirmed also makes residuals
 * correlated, and short series cannot tell the two apart.
 */
export function autocorrelation(data: Float64Array, cap: number): number {
  const c0 = data[H_AR_C0]!;
  const c1 = data[H_AR_C1]!;
  if (!(c0 > 0 && c1 > 0)) return 0;
  const n = data[H_AR_N]!;
  const w = n < AR_WEIGHT_MAX ? n : AR_WEIGHT_MAX;
  const phi = c1 / c0 * (w / (w + AR_PRIOR_SAMPLES));
  return phi < cap ? phi : cap;
}

/**
 * The running moments of the most probable regime's one-step residuals (clipped, so a jump or an
 * outlier adds a bounded amount): variance and lag-1 covariance, rate as the noise scale's.
 */
export function trackResiduals(data: Float64Array, e: number, sigma: number): void {
  const lim = AR_CLIP * sigma;
  if (e > lim) e = lim;
  else if (e < -lim) e = -lim;
  const n = data[H_AR_N]! + 1;
  data[H_AR_N] = n;
  const rate = n * AR_RATE >= 1 ? AR_RATE : 1 / n;
  data[H_AR_C0] = data[H_AR_C0]! + rate * (e * e - data[H_AR_C0]!);
  if (n > 1) data[H_AR_C1] = data[H_AR_C1]! + rate * (e * data[H_AR_E]! - data[H_AR_C1]!);
  data[H_AR_E] = e;
}
