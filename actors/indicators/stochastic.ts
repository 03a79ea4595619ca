/**
 * The stochastic oscillator (Lane) over bar columns: the fast %K is where the close sits in the
 * range of the last `k` bars' highs and lows, × 100 (0 when the range is empty); %K is its simple
 * mean over `smooth` bars (the "slow" stochastic; smooth = 1 gives the fast one) and %D the simple
 * mean of %K over `d` bars.
 */
import { checkPeriod, checkSameLength, outputFor } from "./_check.ts";
import type { HighLowClose } from "./atr.ts";
import { highest, lowest } from "./highest.ts";
import { sma } from "./sma.ts";

/** Options of {@link stochastic}. */
export interface StochasticOptions {
  k: number;
  smooth: number;
  d: number;
  /** Where to write each series (as long as the input); new arrays when absent. */
  kOut?: Float64Array;
  dOut?: Float64Array;
  /** Scratch of the input's length (the fast %K); a new array when absent. */
  scratch?: Float64Array;
}

/** The stochastic's two series. */
export interface StochasticSeries {
  k: Float64Array;
  d: Float64Array;
}

/** Bars needed before %K's first value. */
export function stochasticKWarmup(k: number, smooth: number): number {
  return k + smooth - 1;
}

/** Bars needed before %D's first value. */
export function stochasticDWarmup(k: number, smooth: number, d: number): number {
  return k + smooth + d - 2;
}

/** The stochastic %K and %D of the bars, per bar, in [0, 100]. */
export function stochastic(bars: HighLowClose, options: StochasticOptions): StochasticSeries {
  const { k, smooth, d } = options;
  checkPeriod("stochastic", "k", k);
  checkPeriod("stochastic", "smooth", smooth);
  checkPeriod("stochastic", "d", d);
  const { high, low, close } = bars;
  checkSameLength("stochastic", [high, low, close]);
  const n = close.length;
  const kOut = outputFor("stochastic", n, options.kOut);
  const dOut = outputFor("stochastic", n, options.dOut);
  const fast = outputFor("stochastic", n, options.scratch);
  // Highest high into kOut and lowest low into dOut, as scratch, before they hold %K and %D.
  highest(high, { period: k, out: kOut });
  lowest(low, { period: k, out: dOut });
  for (let i = 0; i < n; i++) {
    if (i < k - 1) {
      fast[i] = NaN;
      continue;
    }
    const hi = kOut[i]!, lo = dOut[i]!;
    const range = hi - lo;
    fast[i] = ((close[i]! - lo) * 100) / (range === 0 ? 1 : range);
  }
  smaFrom(fast, smooth, k - 1, kOut);
  smaFrom(kOut, d, k + smooth - 2, dOut);
  return { k: kOut, d: dOut };
}

// A simple moving average of src[from..], NaN before from + period - 1.
function smaFrom(src: Float64Array, period: number, from: number, out: Float64Array): void {
  const n = src.length;
  if (from >= n) {
    out.fill(NaN);
    return;
  }
  out.fill(NaN, 0, from);
  sma(src.subarray(from), { period, out: out.subarray(from) });
}
