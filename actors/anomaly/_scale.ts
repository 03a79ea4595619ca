/**
 * The scale of a channel's prediction error that a finding's band states, made honest for paging:
 * the largest of the recent error (what the dashboard's band draws), the long-run departures on
 * the side the value went, and the channel's resolution. A finding's σ is what the page budget
 * reads its departure by (Chebyshev's bound, docs/methods/paging.md), so it must not shrink to
 * nothing in a quiet stretch (the recent error forgets in about 10 samples), nor forget the
 * bursts a channel makes (a bursty channel's next burst is no news). Each constant's origin is on
 * docs/methods/anomaly.md ("A finding's σ"). Private to the anomaly folder; the kernel keeps the
 * long-run departures and the resolution in its state.
 */

/** σ over the mean absolute error of a Gaussian: sqrt(π / 2). */
export const SIGMA_PER_MAE = 1.2533141373155003;

/** σ over the mean of a Gaussian's positive part (E[max(Z, 0)] = 1 / sqrt(2π)): sqrt(2π). */
export const SIGMA_PER_SIDE_MEAN = 2.5066282746310002;

/**
 * The long-run departures' weight: a span of 1,000 samples, two orders above the recent error's
 * 10, so that a quiet stretch must last about that long to shrink them.
 */
export const LONG_ALPHA = 0.001;

/** σ of a reading's rounding at resolution q, over q: a uniform error on ±q/2 has σ q/√12. */
export const SIGMA_PER_QUANTUM = 1 / Math.sqrt(12);

/**
 * A finding's σ: the largest of the recent mean absolute error's σ (`recentMae`), the long-run
 * departures' on the value's side (`sideMean`, the mean of that side's part of the residuals),
 * and the resolution's (`quantum`, Infinity while unknown).
 */
export function findingSigma(recentMae: number, sideMean: number, quantum: number): number {
  let sigma = SIGMA_PER_MAE * recentMae;
  const long = SIGMA_PER_SIDE_MEAN * sideMean;
  if (long > sigma) sigma = long;
  const floor = quantum < Infinity ? quantum * SIGMA_PER_QUANTUM : 0;
  return floor > sigma ? floor : sigma;
}

/** Decimals a value is looked at with at most: a float64 holds 17 significant digits. */
const DECIMALS_MAX = 17;

/**
 * The resolution `x` is written with: 10^-d for the fewest decimals d that give `x` back (1 for
 * an integer); the resolution of a channel not yet seen to move.
 */
export function decimalQuantum(x: number): number {
  if (!Number.isFinite(x)) return 1;
  for (let d = 0; d < DECIMALS_MAX; d++) {
    const scale = 10 ** d;
    if (Math.round(x * scale) / scale === x) return 1 / scale;
  }
  return 10 ** -DECIMALS_MAX;
}
