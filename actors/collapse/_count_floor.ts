/**
 * The variance floor of few counts. A channel of counts (integer values, a quantum of at least 1)
 * has at least the Poisson variance of its predicted rate, quantum x rate; the running scale from
 * differences cannot see that where counts are few, since its differences are mostly 0 (an errors
 * channel at under one per interval by night), and a single count then reads as a change. The
 * floor applies where the predicted count is under COUNT_FLOOR_MAX, where the Poisson law is
 * skewed and discrete; above it the learnt scale fits counts as it fits any other value.
 *
 * The floor is quasi-Poisson: phi x quantum x rate, with the dispersion phi learnt per channel as
 * the running mean of the squared residual over quantum x rate (floor 1: a channel is never taken
 * as less dispersed than Poisson). It holds what the season's misfit adds to the counts' own
 * noise: on the metrics feed the errors channels' false changes fell with it, where fixed
 * multiples of the Poisson variance that cut as many lost labelled changes. The Poisson law as the
 * noise's seasonal factor itself (the regime's variance then in units of the rate) was worse, the
 * Gaussian predictive being too narrow for the skewed counts (figures: docs/methods/collapse.md).
 */
import { H_COUNT_N, H_COUNT_PHI } from "./_state.ts";

/**
 * The predicted count under which the Poisson floor applies. Checked on the metrics feed's
 * false changes (seeds 1-5, then 6-8 held out): 10 cut fewer (875 against 899), 20 cut 846 and
 * kept recall (461 of 464), 40 and over lost labelled changes (454 of 464; without a bound 430),
 * as the floor then covered request channels, whose generator noise is below Poisson.
 */
export const COUNT_FLOOR_MAX = 20;

/**
 * The least rate the floor takes: an additive season predicts a rate near 0, or under it, by night
 * on a weekend, where a single count then read as a change. Checked with the learnt dispersion on
 * the metrics feed (seeds 1 to 16, false changes / labelled changes found): 0.01 gave 782 / 1404,
 * 0.05 784 / 1403, 0.2 771 / 1403, 0.35 770 / 1402, 0.5 762 / 1403 (without the dispersion,
 * 800 / 1403). Above 0.2 the differences are within what any change moves the feed's false
 * changes by (a false change relevels the season), so the least that helped was kept.
 */
export const COUNT_RATE_MIN = 0.2;

/**
 * The dispersion's learning rate per count sample (its first samples are averaged): a memory of
 * 1000 count samples (17 hours of minutes), long enough that a night's misfit is in it. Seeds 1
 * to 16, false changes / labelled changes found: 0.0002 787 / 1404 and 0.001 784 / 1403 with a
 * rate floor of 0.05; with COUNT_RATE_MIN, 0.0005 775 / 1404, 0.001 771 / 1403, 0.003 781 / 1401.
 */
export const DISPERSION_RATE = 0.001;

/**
 * Whether a sample x predicted at `predicted` is a few counts: an integer of at least 0 on a
 * channel whose quantum is at least 1, predicted under COUNT_FLOOR_MAX.
 */
export function isFewCounts(x: number, predicted: number, quantum: number): boolean {
  return x >= 0 && quantum >= 1 && Math.floor(x) === x && predicted < COUNT_FLOOR_MAX;
}

/**
 * The variance floor, in units of the noise's seasonal factor g, for a sample x whose predicted
 * value is `predicted`: varFloor itself, or the quasi-Poisson variance phi x quantum x rate over g
 * where x is a few counts (the rate is `predicted`, at least COUNT_RATE_MIN; phi the channel's
 * learnt dispersion, at least 1).
 */
export function countFloor(
  data: Float64Array,
  x: number,
  predicted: number,
  quantum: number,
  g: number,
  varFloor: number,
): number {
  if (!isFewCounts(x, predicted, quantum)) return varFloor;
  const rate = predicted > COUNT_RATE_MIN ? predicted : COUNT_RATE_MIN;
  const learnt = data[H_COUNT_PHI]!;
  const phi = learnt > 1 ? learnt : 1;
  const floor = phi * quantum * rate / g;
  return floor > varFloor ? floor : varFloor;
}

/**
 * The dispersion learns from a few counts x predicted at `predicted`: the running mean of
 * (x - rate)^2 / (quantum x rate), the rate at least COUNT_RATE_MIN. A format-8 state from before
 * it holds 0 in both slots, which reads as no dispersion learnt yet.
 */
export function learnDispersion(
  data: Float64Array,
  x: number,
  predicted: number,
  quantum: number,
): void {
  if (!isFewCounts(x, predicted, quantum)) return;
  const rate = predicted > COUNT_RATE_MIN ? predicted : COUNT_RATE_MIN;
  const n = data[H_COUNT_N]! + 1;
  data[H_COUNT_N] = n;
  const e = x - rate;
  const step = n * DISPERSION_RATE >= 1 ? DISPERSION_RATE : 1 / n;
  data[H_COUNT_PHI] = data[H_COUNT_PHI]! + step * (e * e / (quantum * rate) - data[H_COUNT_PHI]!);
}
