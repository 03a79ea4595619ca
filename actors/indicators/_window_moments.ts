/**
 * The mean and population standard deviation of a trailing window of a column (bollinger, zscore).
 * The deviation is summed around the window's own mean (two passes over `period` values), not
 * from running sums of squares, which cancel badly at prices of 1e4 and above.
 */

/** The mean of the `period` values of `src` that end at index `end`. */
export function windowMean(src: Float64Array, end: number, period: number): number {
  let sum = 0;
  for (let j = end - period + 1; j <= end; j++) sum += src[j]!;
  return sum / period;
}

/** The population standard deviation of the `period` values ending at `end`, around `mean`. */
export function windowStddev(
  src: Float64Array,
  end: number,
  period: number,
  mean: number,
): number {
  let ss = 0;
  for (let j = end - period + 1; j <= end; j++) {
    const d = src[j]! - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / period);
}
