/**
 * Wilder's relative strength index over a column: the average gain and average loss of the last
 * `period` changes, seeded with their simple mean over the first `period` changes and then smoothed
 * with weight 1 / period (Wilder 1978), RSI = 100 − 100 / (1 + gain / loss), 100 when the average
 * loss is 0. out[i] is NaN before `period + 1` values (`period` changes).
 */
import { checkPeriod, outputFor } from "./_check.ts";

/** Options of {@link rsi}. */
export interface RsiOptions {
  period: number;
  /** Where to write (as long as the input); a new array when absent. */
  out?: Float64Array;
}

/** Bars needed before the first value. */
export function rsiWarmup(period: number): number {
  return period + 1;
}

/** Wilder's RSI of `src`, per value, in [0, 100]. */
export function rsi(src: Float64Array, options: RsiOptions): Float64Array {
  const { period } = options;
  checkPeriod("rsi", "period", period);
  const n = src.length;
  const out = outputFor("rsi", n, options.out);
  const w = 1 / period;
  let gain = 0, loss = 0;
  if (n > 0) out[0] = NaN;
  for (let i = 1; i < n; i++) {
    const d = src[i]! - src[i - 1]!;
    const g = d > 0 ? d : 0, l = d > 0 ? 0 : -d;
    if (i < period) {
      gain += g;
      loss += l;
      out[i] = NaN;
      continue;
    }
    if (i === period) {
      gain = (gain + g) / period;
      loss = (loss + l) / period;
    } else {
      gain += (g - gain) * w;
      loss += (l - loss) * w;
    }
    out[i] = loss === 0 ? 100 : 100 - 100 / (gain / loss + 1);
  }
  return out;
}
