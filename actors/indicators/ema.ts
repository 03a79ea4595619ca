/**
 * Exponential moving average over a column with weight 2 / (period + 1), seeded with the first
 * value (trading-signals' convention; TA-Lib seeds with the first period's mean instead, and the
 * two agree to ~1e-9 only after ~30 periods). out[i] is NaN before `period` values: the seed's
 * weight is still large there.
 */
import { checkPeriod, outputFor } from "./_check.ts";

/** Options of {@link ema}. */
export interface EmaOptions {
  period: number;
  /** Where to write (as long as the input); a new array when absent. */
  out?: Float64Array;
  /**
   * Index of the first value to use; out is NaN before `from + period - 1` (MACD's signal line).
   */
  from?: number;
}

/** Bars needed before the first value. */
export function emaWarmup(period: number): number {
  return period;
}

/** The exponential moving average of `src`, per value. `out` may be `src` itself. */
export function ema(src: Float64Array, options: EmaOptions): Float64Array {
  const { period } = options;
  checkPeriod("ema", "period", period);
  const from = options.from ?? 0;
  const n = src.length;
  const out = outputFor("ema", n, options.out);
  const k = 2 / (period + 1), k1 = 1 - k;
  const valid = from + period - 1;
  let prev = src[from]!;
  for (let i = 0; i < from && i < n; i++) out[i] = NaN;
  for (let i = from; i < n; i++) {
    prev = src[i]! * k + prev * k1;
    out[i] = i >= valid ? prev : NaN;
  }
  return out;
}
