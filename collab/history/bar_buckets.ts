/**
 * The bars of a history answer, folded from the same samples as its line (M4Buckets): OHLC bars
 * of one size over [t0, t1), aligned to the Unix epoch as the bars actor's are, so a 1m bar here
 * is the bars actor's 1m bar of the same samples. The size is the smallest usual one (1s, 5s, ...,
 * 1d, then whole days) that gives at most `bars_max` bars over the range: a range wider than its
 * budget is answered with larger bars, each the merge of the smaller ones it covers (open of the
 * first, largest high, smallest low, close of the last, counts summed), so no spike is lost.
 * Samples are added frame by frame, in any order of frames. Pure: typed arrays in, typed arrays
 * out.
 */
import type { HistoryBars } from "../../protocol/mod.ts";

/** The bar sizes a history answer uses, seconds, smallest first; past them, whole days. */
export const HISTORY_BAR_SIZES_S = [
  1,
  5,
  15,
  30,
  60,
  300,
  900,
  1800,
  3600,
  4 * 3600,
  86_400,
] as const;

/** Options of a BarBuckets. */
export interface BarBucketsOptions {
  /** The range, µs since the epoch, t1 exclusive. */
  t0: number;
  t1: number;
  /** Bars the answer may hold at most (at least 1). */
  bars_max: number;
}

/** The smallest bar size (µs) giving at most `barsMax` epoch-aligned bars over [t0, t1). */
export function historyBarSizeUs(t0: number, t1: number, barsMax: number): number {
  const fits = (us: number) => Math.floor((t1 - 1) / us) - Math.floor(t0 / us) + 1 <= barsMax;
  for (const s of HISTORY_BAR_SIZES_S) if (fits(s * 1e6)) return s * 1e6;
  let days = Math.max(2, Math.ceil((t1 - t0) / 86_400e6 / barsMax));
  while (!fits(days * 86_400e6)) days++;
  return days * 86_400e6;
}

/** Folds samples into the epoch-aligned bars of one size over [t0, t1). */
export class BarBuckets {
  readonly t0: number;
  readonly t1: number;
  readonly size_us: number;
  /** The first bar's index (its start over `size_us`). */
  readonly #first: number;
  /** Per slot: first t, open, high, low, last t, close, count. */
  readonly #slots: Float64Array;
  readonly #slotCount: number;

  constructor(options: BarBucketsOptions) {
    const { t0, t1, bars_max } = options;
    if (!(t1 > t0) || !Number.isFinite(t0) || !Number.isFinite(t1)) {
      throw new RangeError(`BarBuckets needs finite t0 < t1, got t0 ${t0} and t1 ${t1}`);
    }
    if (!Number.isSafeInteger(bars_max) || bars_max < 1) {
      throw new RangeError(`BarBuckets bars_max must be an integer >= 1, got ${bars_max}`);
    }
    this.t0 = t0;
    this.t1 = t1;
    this.size_us = historyBarSizeUs(t0, t1, bars_max);
    this.#first = Math.floor(t0 / this.size_us);
    this.#slotCount = Math.floor((t1 - 1) / this.size_us) - this.#first + 1;
    this.#slots = new Float64Array(this.#slotCount * SLOT);
  }

  /** Adds the samples of one frame (those outside [t0, t1) and NaN values are skipped). */
  add(t: Float64Array, v: Float64Array): void {
    const { t0, t1, size_us } = this;
    const first = this.#first;
    const s = this.#slots;
    // The bar the last sample fell in: a frame's samples mostly share one (no division each).
    let lo = Infinity, hi = -Infinity, o = 0;
    for (let i = 0; i < t.length; i++) {
      const ti = t[i]!;
      const vi = v[i]!;
      if (!(ti >= t0 && ti < t1) || vi !== vi) continue;
      if (!(ti >= lo && ti < hi)) {
        const k = Math.floor(ti / size_us);
        lo = k * size_us;
        hi = lo + size_us;
        o = (k - first) * SLOT;
      }
      const n = s[o + COUNT]!;
      s[o + COUNT] = n + 1;
      if (n === 0) {
        s[o + FIRST_T] = s[o + LAST_T] = ti;
        s[o + OPEN] =
          s[o + HIGH] =
          s[o + LOW] =
          s[o + CLOSE] =
            vi;
        continue;
      }
      if (vi > s[o + HIGH]!) s[o + HIGH] = vi;
      else if (vi < s[o + LOW]!) s[o + LOW] = vi;
      // Frames may come out of order: the open is the earliest sample, the close the latest.
      if (ti >= s[o + LAST_T]!) (s[o + LAST_T] = ti), (s[o + CLOSE] = vi);
      else if (ti < s[o + FIRST_T]!) (s[o + FIRST_T] = ti), (s[o + OPEN] = vi);
    }
  }

  /** The bars that hold a sample, in time order. */
  bars(): HistoryBars {
    const s = this.#slots;
    let made = 0;
    for (let k = 0; k < this.#slotCount; k++) if (s[k * SLOT + COUNT]! > 0) made++;
    const col = () => new Float64Array(made);
    const out: HistoryBars = {
      size_us: this.size_us,
      t: col(),
      open: col(),
      high: col(),
      low: col(),
      close: col(),
      count: col(),
    };
    let j = 0;
    for (let k = 0; k < this.#slotCount; k++) {
      const o = k * SLOT;
      if (s[o + COUNT] === 0) continue;
      out.t[j] = (this.#first + k) * this.size_us;
      out.open[j] = s[o + OPEN]!;
      out.high[j] = s[o + HIGH]!;
      out.low[j] = s[o + LOW]!;
      out.close[j] = s[o + CLOSE]!;
      out.count[j] = s[o + COUNT]!;
      j++;
    }
    return out;
  }
}

const FIRST_T = 0, OPEN = 1, HIGH = 2, LOW = 3, LAST_T = 4, CLOSE = 5, COUNT = 6;
const SLOT = 7;
