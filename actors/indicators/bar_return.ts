/**
 * The n-bar return of a column: (x[i] − x[i − n]) / x[i − n], as a fraction (0.05 is +5 %).
 */
import { checkPeriod, outputFor } from "./_check.ts";
import type { WindowOptions } from "./_window_options.ts";

/** Options of {@link barReturn}. */
export type BarReturnOptions = WindowOptions;

/** Bars needed before the first value. */
export function barReturnWarmup(period: number): number {
  return period + 1;
}

/** The `period`-bar return of `src`, per value. */
export function barReturn(src: Float64Array, options: BarReturnOptions): Float64Array {
  const { period } = options;
  checkPeriod("return", "period", period);
  const n = src.length;
  const out = outputFor("return", n, options.out);
  const from = Math.min(n, Math.max(0, options.from ?? 0));
  out.fill(NaN, 0, from);
  for (let i = from; i < n; i++) {
    if (i < period) {
      out[i] = NaN;
      continue;
    }
    const past = src[i - period]!;
    out[i] = (src[i]! - past) / past;
  }
  return out;
}
