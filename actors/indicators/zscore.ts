/**
 * The z-score of a column's value against its last `period` values (the current one included):
 * (x − mean) / population standard deviation, 0 when the window has no spread (every value equals
 * the mean). Used on volumes: how unusual this bar's volume is for the symbol.
 */
import { checkPeriod, outputFor } from "./_check.ts";
import { windowMean, windowStddev } from "./_window_moments.ts";
import type { WindowOptions } from "./_window_options.ts";

/** Options of {@link zscore}. */
export type ZscoreOptions = WindowOptions;

/** Bars needed before the first value. */
export function zscoreWarmup(period: number): number {
  return period;
}

/** The z-score of each value of `src` in its trailing window of `period` values. */
export function zscore(src: Float64Array, options: ZscoreOptions): Float64Array {
  const { period } = options;
  checkPeriod("zscore", "period", period);
  const n = src.length;
  const out = outputFor("zscore", n, options.out);
  const from = Math.min(n, Math.max(0, options.from ?? 0));
  out.fill(NaN, 0, from);
  for (let i = from; i < n; i++) {
    if (i < period - 1) {
      out[i] = NaN;
      continue;
    }
    const mean = windowMean(src, i, period);
    const sd = windowStddev(src, i, period, mean);
    out[i] = sd === 0 ? 0 : (src[i]! - mean) / sd;
  }
  return out;
}
