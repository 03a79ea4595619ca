/**
 * The bars a card's candle strip draws while its line shows a history answer: the answer's bars,
 * then the bars that closed live after them, as the line draws the answer's samples and then the
 * ring's (`pastWithTail`). A window that goes on (an incident still open) kept drawing the
 * answer's bars alone, and the strip stopped where the answer ended while the line went on.
 *
 * The answer's bars may be coarser than the live ones (a window of an hour is answered in 5 s
 * bars, the bars actor closes 1 s ones): the live bars are folded into the answer's size, on the
 * same epoch-aligned boundaries (open of the first, largest high, smallest low, close of the
 * last). A live bar in the answer's last bucket is folded into that bar: the answer may have
 * read only part of it, and folding what it already counted changes nothing (the open stays the
 * answer's, a high or low counted twice is the same high or low, the close is the newest).
 * Live bars coarser than the answer's cannot be split: the answer's are drawn alone then. Pure.
 */

/** Bar columns: start (seconds since the epoch), open, high, low, close, in time order. */
export type BarColumns = readonly [
  ArrayLike<number>,
  ArrayLike<number>,
  ArrayLike<number>,
  ArrayLike<number>,
  ArrayLike<number>,
];

/** Bars of one size: their columns and the size (seconds). */
export interface SizedBars {
  bars: BarColumns;
  sizeS: number;
}

/**
 * `past`'s bars followed by the bars `held` live from the answer's last bar on that start no
 * later than `untilS` (the window's end: a window that stays where it was pinned takes none past
 * it), folded into the answer's size; `past.bars` itself when no live bar continues them.
 */
export function barsWithTail(past: SizedBars, held: SizedBars, untilS: number): BarColumns {
  const [pt] = past.bars, live = held.bars, [lt] = live;
  if (!(held.sizeS <= past.sizeS)) return past.bars;
  const lastStart = pt.length > 0 ? pt[pt.length - 1]! : -Infinity;
  let to = lt.length;
  while (to > 0 && lt[to - 1]! > untilS) to--;
  let from = to;
  while (from > 0 && lt[from - 1]! >= lastStart) from--;
  if (from === to) return past.bars;
  const out = past.bars.map((c) => Array.from(c)) as number[][];
  const [t, open, high, low, close] = out as [number[], number[], number[], number[], number[]];
  for (let i = from; i < to; i++) {
    const start = bucketOf(lt[i]!, past.sizeS), n = t.length;
    if (n > 0 && t[n - 1] === start) {
      high[n - 1] = Math.max(high[n - 1]!, live[2][i]!);
      low[n - 1] = Math.min(low[n - 1]!, live[3][i]!);
      close[n - 1] = live[4][i]!;
      continue;
    }
    t.push(start);
    open.push(live[1][i]!);
    high.push(live[2][i]!);
    low.push(live[3][i]!);
    close.push(live[4][i]!);
  }
  return out.map((c) => Float64Array.from(c)) as unknown as BarColumns;
}

/** The start (seconds) of the epoch-aligned bar of `sizeS` seconds that holds time `tS`: in
 *  whole microseconds, as bars are stamped, turned to seconds as the strip turns a bar's start
 *  (`* 1e-6`), so that a bar's own start is its bucket's, bit for bit. */
export function bucketOf(tS: number, sizeS: number): number {
  const us = Math.round(tS * 1e6), size = Math.round(sizeS * 1e6);
  return Math.floor(us / size) * size * 1e-6;
}
