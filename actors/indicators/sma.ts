/**
 * Simple moving average over a column: out[i] is the mean of src[i - period + 1 .. i], NaN before
 * `period` values. A running sum (one add and one subtract per value), not a sum per window.
 */
import { checkPeriod, outputFor } from "./_check.ts";

/** Options of {@link sma}. */
export interface SmaOptions {
  period: number;
  /** Where to write (as long as the input); a new array when absent. */
  out?: Float64Array;
}

/** Bars needed before the first value. */
export function smaWarmup(period: number): number {
  return period;
}

/** The simple moving average of `src`, per value. */
export function sma(src: Float64Array, options: SmaOptions): Float64Array {
  const { period } = options;
  checkPeriod("sma", "period", period);
  const n = src.length;
  const out = outputFor("sma", n, options.out);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += src[i]!;
    if (i >= period) sum -= src[i - period]!;
    out[i] = i >= period - 1 ? sum / period : NaN;
  }
  return out;
}
