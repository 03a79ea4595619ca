/**
 * Bollinger bands (Bollinger 2001) over a column: the middle band is the mean of the last `period`
 * values, the bands are `stddevs` population standard deviations above and below it; %B is where
 * the value sits between the bands (0.5 when they coincide) and the bandwidth is their distance
 * over the middle. Each window's deviation is summed around its own mean (see _window_moments.ts).
 */
import { checkPeriod, outputFor } from "./_check.ts";
import { windowMean, windowStddev } from "./_window_moments.ts";

/** Options of {@link bollinger}. */
export interface BollingerOptions {
  period: number;
  /** Band half-width in standard deviations (2 by default). */
  stddevs?: number;
  /** Where to write each series (as long as the input); new arrays when absent. */
  upper?: Float64Array;
  middle?: Float64Array;
  lower?: Float64Array;
  pctB?: Float64Array;
  bandwidth?: Float64Array;
  /** Compute only from this index on (out is NaN before it): a scan needs the last values only. */
  from?: number;
}

/** The five Bollinger series. */
export interface BollingerSeries {
  upper: Float64Array;
  middle: Float64Array;
  lower: Float64Array;
  pctB: Float64Array;
  bandwidth: Float64Array;
}

/** Bars needed before the first value. */
export function bollingerWarmup(period: number): number {
  return period;
}

/** The Bollinger bands, %B and bandwidth of `src`, per value. */
export function bollinger(src: Float64Array, options: BollingerOptions): BollingerSeries {
  const { period } = options;
  const k = options.stddevs ?? 2;
  checkPeriod("bollinger", "period", period);
  if (!Number.isFinite(k) || k < 0) {
    throw new RangeError(
      `Cannot compute bollinger: stddevs must be a finite number >= 0, got ${k}`,
    );
  }
  const n = src.length;
  const upper = outputFor("bollinger", n, options.upper);
  const middle = outputFor("bollinger", n, options.middle);
  const lower = outputFor("bollinger", n, options.lower);
  const pctB = outputFor("bollinger", n, options.pctB);
  const bandwidth = outputFor("bollinger", n, options.bandwidth);
  const from = Math.min(n, Math.max(0, options.from ?? 0));
  for (const col of [upper, middle, lower, pctB, bandwidth]) col.fill(NaN, 0, from);
  for (let i = from; i < n; i++) {
    if (i < period - 1) {
      upper[i] =
        middle[i] =
        lower[i] =
        pctB[i] =
        bandwidth[i] =
          NaN;
      continue;
    }
    const mean = windowMean(src, i, period);
    const width = windowStddev(src, i, period, mean) * k;
    const up = mean + width, lo = mean - width;
    upper[i] = up;
    middle[i] = mean;
    lower[i] = lo;
    pctB[i] = up === lo ? 0.5 : (src[i]! - lo) / (up - lo);
    bandwidth[i] = (up - lo) / mean;
  }
  return { upper, middle, lower, pctB, bandwidth };
}
