/**
 * Simple moving average over a column: out[i] is the mean of src[i - period + 1 .. i], NaN before
 * `period` values. A running sum (one add and one subtract per value), not a sum per window.
 */
import { checkPeriod, outputFor } from "./_check.ts";
import type { WindowOptions } from "./_window_options.ts";

/** Options of {@link sma}. */
export type SmaOptions = WindowOptions;

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
  const from = Math.min(n, Math.max(0, options.from ?? 0));
  const start = Math.max(0, from - period + 1);
  out.fill(NaN, 0, from);
  let sum = 0;
  for (let i = start; i < from; i++) sum += src[i]!;
  for (let i = from; i < n; i++) {
    sum += src[i]!;
    if (i - period >= start) sum -= src[i - period]!;
    out[i] = i >= period - 1 ? sum / period : NaN;
  }
  return out;
}
