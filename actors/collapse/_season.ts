/**
 * The channel's season: a periodic curve of known period (`season_us`, e.g. one day), as the first
 * `season_harmonics` harmonics of that period in the samples' own timestamps. The season is a
 * property of the channel, not of a regime (a level shift does not reset the daily cycle), so it
 * is kept once per channel, like the running noise scale, and the run-length hypotheses model the
 * value less its season. Each sample's season is estimated from the samples before it.
 *
 * The fit is a small structural time-series model of its own, a Kalman filter over a reference
 * level (a slow random walk, LEVEL_STEP_VARIANCE noise variances per sample) plus the harmonics
 * (fixed, but forgotten with a half-life of SEASON_HALF_LIFE_PERIODS periods, so a season that
 * changes shape is followed). It does not learn from the regimes' lines: a line that follows part
 * of the swing would feed the season its own delayed copy (tried: the fit drifted in phase and
 * grew). Nor may its level follow the swing (a fast walk took a quarter of the daily amplitude);
 * instead, when the detector confirms a change, `seasonRelevel` makes the level unknown again, so
 * it moves to the new regime in a few samples while the harmonics stay. Residuals are clipped at
 * RESIDUAL_CLIP predictive sds, so a jump or an outlier moves the harmonics by a bounded amount.
 * The harmonics carry a Gaussian prior of SEASON_PRIOR_VARIANCE noise variances each, which keeps
 * the fit small while little of a period has been seen.
 *
 * The same fit, on the log of the squared residuals, gives the season of the noise's variance
 * (service metrics are noisier at their daily peak), which the kernel uses as each sample's
 * variance relative to its regime's.
 *
 * A block lives in the state array: SEASON_COEFFS coefficients (the level first), then their
 * covariance (in noise variances, full square, row-major).
 */
import { cosFast } from "../math/mod.ts";
import { WEEKEND_FEATURES, weekendFeatures } from "./_weekend.ts";

/** Harmonics a season may have. */
export const SEASON_HARMONICS_MAX = 4;
/** Coefficients: the level, a cosine and a sine per harmonic, then the weekend's (_weekend.ts). */
export const SEASON_COEFFS = 1 + 2 * SEASON_HARMONICS_MAX + WEEKEND_FEATURES;
/** Values of the season block in the state: coefficients and their covariance. */
export const SEASON_BLOCK = SEASON_COEFFS + SEASON_COEFFS * SEASON_COEFFS;

/**
 * The values of a season block with room for its first `room` coefficients: the coefficients
 * and the covariance's first `room` rows, in the block's layout (rows SEASON_COEFFS apart, so the
 * room-by-room corner lies where it lies in a whole block). SEASON_BLOCK for all of them; a
 * state without a season keeps the level's alone (the coefficient and its variance, which its
 * saved form holds), SEASON_COEFFS + 1 values.
 */
export function seasonBlockLength(room: number): number {
  return room * (SEASON_COEFFS + 1);
}

/** The coefficients a season block of `length` values has room for (`seasonBlockLength`). */
export function seasonRoomOf(block: Float64Array): number {
  return block.length / (SEASON_COEFFS + 1);
}
/**
 * Prior variance of each harmonic's coefficient, in noise variances (a season up to ~30 sigmas).
 */
export const SEASON_PRIOR_VARIANCE = 100;
/**
 * The harmonics' memory: their weights halve every this many periods. A service's daily swing grows
 * with its load (requests growing 1% a day), and a fit that remembers longer lags behind it by a
 * misfit that peaks at the nightly trough, where the noise is smallest. 2 gave fewer false changes
 * on every seed of the metrics feed than 4 (figures: docs/methods/collapse.md).
 */
export const SEASON_HALF_LIFE_PERIODS = 2;
/**
 * Variance of the reference level's step per sample, in noise variances: over a day of minutes a
 * tenth of a noise scale, still far too slow to follow the swing. At 1e-8 it could not follow a
 * channel's trend (service memory grows by up to 2 noise scales a day), and the lag leaked into
 * the harmonics and the weekend's level, which then swung by it at each weekend; 1e-5 gave fewer
 * false changes on the metrics feed than 1e-8, 1e-6 and 1e-4 (figures: docs/methods/collapse.md).
 */
export const LEVEL_STEP_VARIANCE = 1e-5;
/** Prior variance of the reference level about the first value, in noise variances. */
const LEVEL_PRIOR_VARIANCE = 1e4;
/** Residuals beyond this many noise scales are clipped before the fit learns from them. */
const RESIDUAL_CLIP = 3;

const TWO_PI = 2 * Math.PI;
const HALF_PI = Math.PI / 2;

/**
 * The features of time `t` (microseconds) for `period` (microseconds), into `f`: 1 (the level),
 * then cos and sin of each harmonic's angle; with `weekend`, then the weekend's (_weekend.ts).
 */
export function seasonFeatures(
  t: number,
  period: number,
  harmonics: number,
  f: Float64Array,
  weekend = false,
): void {
  let phase = t % period;
  if (phase < 0) phase += period;
  const angle = TWO_PI * (phase / period);
  const c1 = cosFast(angle);
  const s1 = cosFast(angle - HALF_PI);
  let c = c1, s = s1;
  f[0] = 1;
  for (let k = 0; k < harmonics; k++) {
    f[1 + 2 * k] = c;
    f[2 + 2 * k] = s;
    // cos and sin of (k + 2) angle from those of (k + 1) angle.
    const cn = c * c1 - s * s1;
    s = s * c1 + c * s1;
    c = cn;
  }
  if (weekend) weekendFeatures(t, f, 1 + 2 * harmonics);
}

/** The season at features `f` (the harmonics only, not the level), of the first `m` features. */
export function seasonValue(block: Float64Array, f: Float64Array, m: number): number {
  let v = 0;
  for (let i = 1; i < m; i++) v += block[i]! * f[i]!;
  return v;
}

/**
 * A season of nothing learned, its level at `x`: zero harmonics, the prior covariance (of the
 * coefficients the block has room for).
 */
export function seasonReset(block: Float64Array, x: number): void {
  block.fill(0);
  block[0] = x;
  block[SEASON_COEFFS] = LEVEL_PRIOR_VARIANCE;
  const room = seasonRoomOf(block);
  for (let i = 1; i < room; i++) {
    block[SEASON_COEFFS + i * SEASON_COEFFS + i] = SEASON_PRIOR_VARIANCE;
  }
}

/**
 * A change was confirmed: the reference level is unknown again (its variance back to the prior,
 * its covariance with the harmonics dropped), so it moves to the new regime within a few samples
 * while the harmonics stay as learned.
 */
export function seasonRelevel(block: Float64Array): void {
  const C = SEASON_COEFFS, room = seasonRoomOf(block);
  for (let i = 1; i < room; i++) {
    block[C + i] = 0;
    block[C + i * C] = 0;
  }
  block[C] = LEVEL_PRIOR_VARIANCE;
}

/**
 * Of the weekend's features (_weekend.ts), the noise's variance season has the first, the weekend's
 * smooth level: a weekend has its own noise as it has its own level. Service noise grows with the
 * load, so a weekend at two thirds of a weekday's load is quieter than a weekday night, and with
 * the daily features alone the regimes saw each weekend's quieter noise as a change in the noise on
 * Friday night and the louder one back as another on Sunday night or Monday; with the first
 * feature the metrics feed's false changes fell, most of all around Friday midnight. All five of
 * the weekend's features gave more false changes than one, as a log-variance learnt from two days
 * a week cannot hold five coefficients (figures: docs/methods/collapse.md).
 */
const SPREAD_WEEKEND_FEATURES = 1;

/** The harmonics of a season of `m` features (its level, the harmonics, the weekend's). */
export function seasonHarmonics(m: number, weekend: boolean): number {
  return (m - 1 - (weekend ? WEEKEND_FEATURES : 0)) / 2;
}

/**
 * The features of the noise's variance season beside a season of `harmonics`: 0 beside no season
 * (of 0 features, whose `seasonHarmonics` are -1/2).
 */
export function spreadFeatures(harmonics: number, weekend: boolean): number {
  return 1 + 2 * harmonics + (weekend ? SPREAD_WEEKEND_FEATURES : 0);
}

const PF = new Float64Array(SEASON_COEFFS);

/**
 * One step of the fit: `x` observed at features `f` (the first `m`), with noise scale `sigma`;
 * `forget` (< 1) discounts what was learned of the harmonics. The residual is clipped at
 * RESIDUAL_CLIP standard deviations of the prediction.
 */
export function seasonLearn(
  block: Float64Array,
  f: Float64Array,
  m: number,
  x: number,
  sigma: number,
  forget: number,
): void {
  const C = SEASON_COEFFS;
  // Time update (the level steps as a random walk, the harmonics' covariance is discounted) and
  // P f. P is symmetric, so both read and update its upper triangle only, and the update writes
  // both halves. Features that are 0 (the weekend's, on a weekday: the last ones) add nothing to
  // P f, and what was learned of them is not discounted while they are 0: the discount is D P D,
  // D the square root of 1 / forget for the observed harmonics and 1 for the level and the idle
  // features. Forgetting makes room for new samples of a coefficient; where none come, it only
  // inflated the weekend's variances, about 5 times over five weekdays at a half-life of 2
  // periods, so that each Friday night's first samples moved the weekend as if it were barely
  // learned (not discounting them gave fewer false changes on the metrics feed, with the weekend
  // in the noise's season or without: docs/methods/collapse.md).
  const inflate = 1 / Math.sqrt(forget);
  const shrink = 1 / forget;
  let n = m;
  while (n > 1 && f[n - 1] === 0) n--;
  for (let i = 0; i < m; i++) PF[i] = 0;
  for (let i = 0; i < n; i++) {
    const row = C + i * C;
    // Off the diagonal: the level's row by the square root of the harmonics' discount.
    const scale = i === 0 ? inflate : shrink;
    const pii = i === 0 ? block[C]! + LEVEL_STEP_VARIANCE : block[row + i]! * shrink;
    block[row + i] = pii;
    const fi = f[i]!;
    let acc = PF[i]! + pii * fi;
    for (let j = i + 1; j < n; j++) {
      const p = block[row + j]! * scale;
      block[row + j] = p;
      acc += p * f[j]!;
      PF[j] = PF[j]! + p * fi;
    }
    const idle = i === 0 ? 1 : inflate;
    for (let j = n; j < m; j++) {
      const p = block[row + j]! * idle;
      block[row + j] = p;
      PF[j] = PF[j]! + p * fi;
    }
    PF[i] = acc;
  }
  let fpf = 0;
  for (let i = 0; i < n; i++) fpf += f[i]! * PF[i]!;
  // Clipped at RESIDUAL_CLIP sd of the prediction, so an unknown level is not held back.
  let e = x - block[0]! - seasonValue(block, f, m);
  const lim = RESIDUAL_CLIP * sigma * Math.sqrt(1 + fpf);
  if (e > lim) e = lim;
  else if (e < -lim) e = -lim;
  const den = 1 / (1 + fpf);
  for (let i = 0; i < m; i++) {
    const row = C + i * C;
    const ki = PF[i]! * den;
    block[i] = block[i]! + ki * e;
    for (let j = i; j < m; j++) {
      const v = block[row + j]! - ki * PF[j]!;
      block[row + j] = v;
      block[C + j * C + i] = v;
    }
  }
  // Forgetting must not wind the harmonics' covariance up where f never reaches (a period equal
  // to the sampling interval, say): past the prior's trace, their rows and columns are scaled
  // back (D P D with D diagonal, so it stays a covariance).
  let trace = 0;
  for (let i = 1; i < m; i++) trace += block[C + i * C + i]!;
  const cap = (m - 1) * SEASON_PRIOR_VARIANCE;
  if (trace > cap) {
    const d = Math.sqrt(cap / trace);
    for (let i = 1; i < m; i++) {
      block[C + i] = block[C + i]! * d;
      block[C + i * C] = block[C + i * C]! * d;
      for (let j = 1; j < m; j++) block[C + i * C + j] = block[C + i * C + j]! * d * d;
    }
  }
}
