/**
 * Wilder's average true range over bar columns: the true range is the largest of high − low and the
 * distances from the previous close to the high and the low (high − low on the first bar); the
 * average is their mean over the first `period` bars, then smoothed with weight 1 / period.
 */
import { checkPeriod, checkSameLength, outputFor } from "./_check.ts";

/** Options of {@link atr}. */
export interface AtrOptions {
  period: number;
  /** Where to write (as long as the input); a new array when absent. */
  out?: Float64Array;
}

/** The columns ATR reads. */
export interface HighLowClose {
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
}

/** Bars needed before the first value. */
export function atrWarmup(period: number): number {
  return period;
}

/** Wilder's ATR of the bars, per bar. */
export function atr(bars: HighLowClose, options: AtrOptions): Float64Array {
  const { period } = options;
  const { high, low, close } = bars;
  checkPeriod("atr", "period", period);
  checkSameLength("atr", [high, low, close]);
  const n = close.length;
  const out = outputFor("atr", n, options.out);
  const w = 1 / period;
  let avg = 0;
  for (let i = 0; i < n; i++) {
    const h = high[i]!, l = low[i]!;
    let tr = h - l;
    if (i > 0) {
      const pc = close[i - 1]!;
      const up = Math.abs(h - pc), down = Math.abs(l - pc);
      if (up > tr) tr = up;
      if (down > tr) tr = down;
    }
    if (i < period - 1) {
      avg += tr;
      out[i] = NaN;
    } else if (i === period - 1) {
      avg = (avg + tr) / period;
      out[i] = avg;
    } else {
      avg += (tr - avg) * w;
      out[i] = avg;
    }
  }
  return out;
}
