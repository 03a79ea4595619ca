/**
 * The highest value over the last `period` values of a column (the upper Donchian channel when the
 * column is the highs), and its mirror {@link lowest}. The extreme is rescanned only when the value
 * that held it leaves the window, so a column costs O(n) on most data and O(n·period) at worst
 * (a steadily falling column, for `highest`), without a deque to allocate.
 */
import { checkPeriod, outputFor } from "./_check.ts";
import type { WindowOptions } from "./_window_options.ts";

/** Options of {@link highest} and {@link lowest}. */
export type ExtremeOptions = WindowOptions;

/** Bars needed before the first value. */
export function extremeWarmup(period: number): number {
  return period;
}

/** The highest of the last `period` values of `src`, per value. */
export function highest(src: Float64Array, options: ExtremeOptions): Float64Array {
  return extreme(src, options, 1, "highest");
}

/** The lowest of the last `period` values of `src`, per value. */
export function lowest(src: Float64Array, options: ExtremeOptions): Float64Array {
  return extreme(src, options, -1, "lowest");
}

// sign 1 finds maxima; -1 finds minima (compares -x, which is exact).
function extreme(src: Float64Array, options: ExtremeOptions, sign: number, name: string) {
  const { period } = options;
  checkPeriod(name, "period", period);
  const n = src.length;
  const out = outputFor(name, n, options.out);
  const from = Math.min(n, Math.max(0, options.from ?? 0));
  out.fill(NaN, 0, from);
  let at = -Infinity, best = -Infinity; // forces a scan of the first window
  for (let i = from; i < n; i++) {
    const x = sign * src[i]!;
    if (at <= i - period) {
      // The extreme left the window: rescan it.
      at = i;
      best = x;
      for (let j = i - 1; j > i - period && j >= 0; j--) {
        const y = sign * src[j]!;
        if (y > best) {
          best = y;
          at = j;
        }
      }
    } else if (x >= best) {
      best = x;
      at = i;
    }
    out[i] = i >= period - 1 ? sign * best : NaN;
  }
  return out;
}
