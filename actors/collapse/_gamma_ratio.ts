/**
 * Gamma(a + 1/2) / Gamma(a), the normalising constant of a Student-t density with 2a degrees of
 * freedom, without a log-gamma: the asymptotic series for a >= 6, and below it four steps of the
 * recurrence G(a) = G(a + 1) a / (a + 1/2) taken at once, so that the series is always evaluated
 * at 4.5 or more (relative error below 1e-7 for every a >= 0.5). The kernel inlines the same
 * computation in its per-hypothesis loop (sharing one division with the predictive's scale); keep
 * the two in step.
 */

/** Where the series alone is used. */
export const GAMMA_SERIES_MIN = 6;

/** Gamma(a + 1/2) / Gamma(a) for a >= 0.5. */
export function gammaHalfRatio(a: number): number {
  return Math.sqrt(a + (a < GAMMA_SERIES_MIN ? 4 : 0)) * gammaHalfRatioOverSqrt(a);
}

/**
 * Gamma(a + 1/2) / (Gamma(a) sqrt(a')) with a' = a for a >= GAMMA_SERIES_MIN and a' = a + 4
 * below: the caller multiplies by its own square root (the kernel folds sqrt(a') into one with
 * the predictive's scale).
 */
export function gammaHalfRatioOverSqrt(a: number): number {
  if (a >= GAMMA_SERIES_MIN) return gammaHalfSeries(a);
  return gammaRecurrence(a) * gammaHalfSeries(a + 4);
}

/**
 * The factor of four steps of the recurrence, G(a) = G(a + 4) a (a + 1) (a + 2) (a + 3) /
 * ((a + 1/2) (a + 3/2) (a + 5/2) (a + 7/2)) for G(a) = Gamma(a + 1/2) / Gamma(a).
 */
export function gammaRecurrence(a: number): number {
  const num = a * (a + 1) * (a + 2) * (a + 3);
  const den = (a + 0.5) * (a + 1.5) * (a + 2.5) * (a + 3.5);
  return num / den;
}

/** Gamma(a + 1/2) / (Gamma(a) sqrt(a)) by its asymptotic series; accurate for a >= 4.5. */
export function gammaHalfSeries(a: number): number {
  const i = 1 / a;
  return 1 +
    i * (-1 / 8 + i * (1 / 128 + i * (5 / 1024 + i * (-21 / 32768 + i * (-399 / 262144)))));
}
