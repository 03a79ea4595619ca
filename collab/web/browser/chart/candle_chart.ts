/// <reference lib="dom" />
/**
 * Candles of one channel's closed bars (`troupe.out.bars.<channel>`, type `bar`), drawn with uPlot:
 * the four price series fix the scales and draw nothing themselves; a draw hook paints each bar's
 * wick and body, clipped to the plot and at most `body_px_max` wide (the first few bars of a feed
 * were wide flat slabs over the y labels). Bars come about once a second, so it redraws through
 * the FrameLoop like the line chart, from a SeriesRing. Given the line chart, it shows the same
 * time span whenever that changes (live, pinned, zoomed, from history; `rangeChanged`), in the
 * frame the line draws it (the loop flushes the line first: `after`), with the same ticks
 * (time_labels.ts), so that a candle sits under the stretch of line it sums up. A range view
 * read from history draws the answer's bars instead (`showPast`), so a day's
 * range shows a day of candles, not the few minutes of bars received live, and after them the
 * bars that close live (a window that goes on with an open incident). It redraws only when
 * bars came or its range moved by half a pixel or more (a sub-pixel move would draw the same
 * picture), and draws only the bars in its range: the ring holds up to `bars` of them, four
 * minutes of 1 s bars, of which a live window of seconds shows a few, and drawing them all cost a
 * market card's every frame (`troupe up`'s page). With its card off screen, once it has drawn, it
 * draws nothing (a bar coming only marks it) and redraws when the card comes back into view, as
 * the line's live view does. The card's header (`quote`) says the last close, the change over
 * the window the line shows (that window's bars), and the bar size.
 */
import uPlot from "uplot";
import { el } from "../dom.ts";
import { firstAfter, type Flushable, type FrameLoop, SeriesRing, TIME_AXIS } from "../plot/mod.ts";
import { OnScreen } from "./on_screen.ts";
import { LIVE_MARGINS_CSS } from "./channel_chart.ts";
import type { HistoryBars } from "../../../../protocol/mod.ts";
import { type BarColumns, barsWithTail } from "./_bars_tail.ts";
import { VALUE_AXIS } from "./_chart_options.ts";

/** Bounds of a candle chart; `move_px_min` is the least move of its range (device pixels) that
 *  redraws it. */
export const CANDLE_LIMITS = {
  bars: 240,
  /** Bar sizes followed, the latest gaps kept of each, and the gap, in bars of its size, over
   *  which (the shortest of those kept) a size's bars are too sparse to draw as candles. */
  sizes_max: 16,
  gaps_kept: 4,
  sparse_bars: 4,
  height_px: 110,
  body_px_max: 12,
  move_px_min: 0.5,
} as const;

/** Options of a CandleChart. */
export interface CandleChartOptions {
  loop: FrameLoop;
  /** The line chart whose x range (seconds) the candles share, else their own: flushed first in
   *  a frame that flushes both, so that they take its range of that frame. */
  line?: CandleLine;
  /** Where the last close, the change and the bar size are written. */
  quote?: HTMLElement;
  /** What its value axis says (`price`, or the line's unit). */
  unit?: string;
}

/** What the candles read of their line chart. */
export interface CandleLine extends Flushable {
  xRange(): { min: number; max: number };
}

/** One closed bar as the bars actor publishes it (`t` microseconds, the bar's start). */
export interface Bar {
  t: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

const NO_PATH = () => null;
const AXIS = { stroke: "#8a96a3", grid: { stroke: "#2a323c", width: 1 }, ticks: { show: false } };

export class CandleChart {
  readonly #ring = new SeriesRing(5, CANDLE_LIMITS.bars);
  readonly #plot: uPlot;
  #disposed = false;
  readonly #loop: FrameLoop;
  readonly #one = [
    new Float64Array(1),
    new Float64Array(1),
    new Float64Array(1),
    new Float64Array(1),
    new Float64Array(1),
  ];
  /** Per bar size seen (at most `sizes_max`): its last bar's start and the latest gaps between
   *  its bars (µs), by which a size is sparse. */
  readonly #seen = new Map<string, { t: number; gaps: number[] }>();
  /** The bar size shown: the finest seen that is not sparse (`1s` over `1m`: a page that met a
   *  minute's bar first showed `1m bars` and no candle in a live window of seconds). */
  size: string | undefined;
  bars = 0;
  /** Redraws so far (the tests read it). */
  draws = 0;
  /** Its line, flushed before it in a frame (FrameLoop). */
  readonly after: Flushable | undefined;

  readonly #options: CandleChartOptions;
  /** The range and bars last drawn (a range the line repeats draws nothing new); `#added`
   *  counts every bar taken, across a change of size. */
  #drawn = { min: NaN, max: NaN, added: -1 };
  #added = 0;
  /** The bars of the history shown (seconds, open, high, low, close), while the line shows one. */
  #past: BarColumns | undefined;
  /** Their size, which the header says while they are drawn (`5m`), and in seconds. */
  #pastSize: string | undefined;
  #pastSizeS = NaN;
  /** Off screen, what came waits (`#added` still counts it) until the strip is back in view. */
  readonly #screen: OnScreen;

  constructor(parent: HTMLElement, width: number, options: CandleChartOptions) {
    this.#loop = options.loop;
    this.#options = options;
    this.after = options.line;
    const body = el(
      "div",
      { class: "candles" },
      el("span", { class: "y-unit" }, options.unit ?? ""),
    );
    parent.append(body);
    // The card's (`parent`), as its line's: the header the quote is written in is in it too.
    this.#screen = new OnScreen(parent, () => this.#loop.mark(this));
    const price = { paths: NO_PATH, points: { show: false } };
    this.#plot = new uPlot(
      {
        width,
        height: CANDLE_LIMITS.height_px,
        scales: { x: { time: true } },
        legend: { show: false },
        // The line chart's margins (its live view's): one time axis, pixel for pixel.
        padding: [null, LIVE_MARGINS_CSS.right, null, null],
        series: [{}, { ...price }, { ...price }, { ...price }, { ...price }],
        // The line chart's time axis (steps, ticks and one-line UTC labels): uPlot's default
        // two-line labels put a date under the first tick, which ran into the next at 10 s ticks.
        axes: [{ ...AXIS, ...TIME_AXIS }, VALUE_AXIS],
        hooks: { draw: [(u) => drawCandles(u)] },
      },
      [[], [], [], [], []],
      body,
    );
  }

  /**
   * Adds one closed bar of size `size`. The strip draws the finest size seen whose bars are not
   * sparse (each a dot far from the next: a feed sampled once a minute closes a `1s` bar a
   * minute); bars of other sizes are skipped, and a change of the size drawn starts the strip
   * again.
   */
  add(size: string, bar: Bar): void {
    if (this.#disposed) return;
    const pick = this.#seeBar(size, bar.t);
    if (pick !== this.size) {
      this.#ring.clear();
      this.bars = 0;
      this.size = pick;
    }
    if (size !== this.size) return;
    const one = this.#one;
    one[0]![0] = bar.t;
    one[1]![0] = bar.open;
    one[2]![0] = bar.high;
    one[3]![0] = bar.low;
    one[4]![0] = bar.close;
    this.#ring.append(one, 0, 1, 1e-6);
    this.bars++;
    this.#added++;
    this.#loop.mark(this);
  }

  /** Draws `bars` (a history answer's, for the range the line shows from history) instead of
   *  the bars held live, then those that close after them (`barsWithTail`); undefined: the live
   *  bars again. */
  showPast(bars: HistoryBars | undefined): void {
    if (!bars && !this.#past) return;
    this.#past = bars &&
      [bars.t.map((t) => t * 1e-6), bars.open, bars.high, bars.low, bars.close];
    this.#pastSizeS = bars ? bars.size_us * 1e-6 : NaN;
    this.#pastSize = bars && sizeName(this.#pastSizeS);
    this.#added++;
    this.#loop.mark(this);
  }

  /** Notes a bar of `size` starting at `tUs`; the size to draw: the finest seen not sparse. */
  #seeBar(size: string, tUs: number): string {
    const seen = this.#seen.get(size);
    if (seen) {
      if (tUs > seen.t) seen.gaps.push(tUs - seen.t);
      if (seen.gaps.length > CANDLE_LIMITS.gaps_kept) seen.gaps.shift();
      seen.t = Math.max(seen.t, tUs);
    } else if (this.#seen.size < CANDLE_LIMITS.sizes_max) {
      this.#seen.set(size, { t: tUs, gaps: [] });
    }
    let pick: string | undefined;
    for (const [name, { gaps }] of this.#seen) {
      // Sparse: even the shortest of its latest gaps spans many bars (one pause is no matter).
      const sparse = gaps.length >= 2 &&
        Math.min(...gaps) > CANDLE_LIMITS.sparse_bars * sizeS(name) * 1e6;
      if (!sparse && (pick === undefined || sizeS(name) < sizeS(pick))) pick = name;
    }
    return pick ?? this.size ?? size;
  }

  /** The bars drawn: how many, the first's and the last's start (seconds), the highest high
   *  (the tests read it). */
  shownBars(): { count: number; first: number; last: number; high: number } {
    const t = this.#plot.data[0] ?? [], high = this.#plot.data[2] ?? [];
    return {
      count: t.length,
      first: t[0] ?? NaN,
      last: t[t.length - 1] ?? NaN,
      high: Math.max(...(high as number[])),
    };
  }

  /** The line's range changed: the candles take it in the frame being drawn (the line's flush
   *  calls this) or the next, if it differs. */
  rangeChanged(): void {
    const range = this.#options.line?.xRange();
    if (range && this.#moved(range)) this.#loop.mark(this);
  }

  /** Whether `range` puts either end of the strip half a pixel or more from where it was drawn. */
  #moved(range: { min: number; max: number }): boolean {
    const { min, max } = this.#drawn;
    const pxPerS = this.#plot.bbox.width / (range.max - range.min);
    const by = Math.max(Math.abs(range.min - min), Math.abs(range.max - max)) * pxPerS;
    return !(by < CANDLE_LIMITS.move_px_min);
  }

  /** Frees the strip's plot and stops watching it (its card is taken off the page). */
  dispose(): void {
    this.#disposed = true;
    this.#screen.stop();
    this.#plot.destroy();
  }

  flush(): void {
    if (this.#disposed) return;
    if (!this.#screen.on && this.draws > 0) return;
    const r = this.#ring;
    const got = this.#options.line?.xRange();
    const range = got && Number.isFinite(got.min) && got.max > got.min ? got : undefined;
    const came = this.#added !== this.#drawn.added;
    if (range && !came && !this.#moved(range)) return;
    // Drawing an answer, the live bars after it are drawn up to the range's end: a later end
    // may take more of them.
    const grew = this.#past !== undefined && !(range && range.max <= this.#drawn.max);
    this.#drawn = { min: range?.min ?? NaN, max: range?.max ?? NaN, added: this.#added };
    this.draws++;
    // A move alone (the line scrolled): the bars uPlot holds are the ring's still (its views
    // change only with an append), and the header says the same: only the x scale is set.
    if (range && !came && !grew) {
      this.#plot.setScale("x", range);
      return this.#writeQuote(range);
    }
    this.#plot.batch(() => {
      const held = [r.view(0), r.view(1), r.view(2), r.view(3), r.view(4)] as const;
      // The answer's bars, and the bars that closed live after them (a window that goes on).
      const bars = this.#past
        ? barsWithTail(
          { bars: this.#past, sizeS: this.#pastSizeS },
          { bars: held, sizeS: sizeS(this.size ?? "") },
          range?.max ?? Infinity,
        )
        : held;
      this.#plot.setData(bars as unknown as uPlot.AlignedData, !range);
      if (range) this.#plot.setScale("x", range);
    });
    this.#writeQuote(range);
  }

  /** Where the time axis runs, CSS pixels from the page's left (tests compare it). */
  plotX(): { left: number; width: number } {
    const over = this.#plot.over.getBoundingClientRect();
    return { left: over.left, width: over.width };
  }

  /** The x range shown, seconds (tests read it). */
  xRange(): { min: number; max: number } {
    return { min: this.#plot.scales.x!.min!, max: this.#plot.scales.x!.max! };
  }

  /**
   * `last 101.2 · +0.52% (4m) · 1s bars`: the change over the window the line shows, from the
   * open of the first bar drawn in it to the close of the last, and that window's width (without a
   * line, over the bars drawn). The header sits over the chart: a change over bars the chart does
   * not show contradicted the line under it. Written only when its text differs (a live window
   * moves it every frame).
   */
  #writeQuote(range: { min: number; max: number } | undefined): void {
    const quote = this.#options.quote;
    const [ts, open, , , close] = this.#plot.data as unknown as Float64Array[];
    if (!quote || !ts || !open || !close || ts.length === 0) return;
    // Bars that start in the window (a bar that started before it sums up time it does not show).
    const lo = range ? firstAfter(ts, range.min - 1e-6) : 0;
    const hi = (range ? firstAfter(ts, range.max) : ts.length) - 1;
    const bars = `${this.#pastSize ?? this.size} bars`;
    let text: string, change = NaN;
    if (hi < lo) {
      // No bar starts in the window: the last close before its end, without a change.
      const at = Math.max(0, hi);
      text = `last ${Number(close[at]!.toPrecision(6))} · ${bars}`;
      quote.dataset.last = String(close[at]);
    } else {
      const last = close[hi]!, first = open[lo]!;
      change = first === 0 ? 0 : ((last - first) / Math.abs(first)) * 100;
      const sign = change > 0 ? "+" : "";
      const over = spanLabel(range ? range.max - range.min : ts[hi]! - ts[lo]!);
      text = `last ${Number(last.toPrecision(6))} · ${sign}${change.toFixed(2)}%` +
        `${over ? ` (${over})` : ""} · ${bars}`;
      quote.dataset.last = String(last);
    }
    quote.dataset.change = String(change);
    if (quote.textContent !== text) quote.textContent = text;
  }

  resize(width: number): void {
    this.#plot.setSize({ width, height: CANDLE_LIMITS.height_px });
  }
}

/** A bar size's seconds (`1s`, `5m`, `1h`, `1d`); Infinity for a name of another shape. */
function sizeS(size: string): number {
  const m = /^(\d+)([smhd])$/.exec(size);
  return m
    ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "s" | "m" | "h" | "d"]
    : Infinity;
}

/** A bar size of `s` seconds by its largest whole unit: `1d`, `4h`, `5m`, `15s`. */
function sizeName(s: number): string {
  for (const [unit, per] of [["d", 86_400], ["h", 3600], ["m", 60]] as const) {
    if (s % per === 0) return `${s / per}${unit}`;
  }
  return `${s}s`;
}

/** A span of seconds in words: `45s`, `4m`, `1h`, `3d`. */
function spanLabel(s: number): string {
  if (!(s > 0)) return "";
  if (s < 120) return `${Math.round(s)}s`;
  if (s < 3570) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/**
 * Paints the bars in the x range (and one either side, which the clip cuts), up bars then down
 * bars, each colour one path of wicks and its bodies: the bars out of range cost nothing.
 */
function drawCandles(u: uPlot): void {
  const [ts, open, high, low, close] = u.data as unknown as Float64Array[];
  const { min, max } = u.scales.x!;
  if (!ts || ts.length === 0 || min === undefined || max === undefined) return;
  const lo = Math.max(0, firstAfter(ts, min) - 1);
  const hi = Math.min(ts.length, firstAfter(ts, max) + 1);
  if (hi <= lo) return;
  // The bar size is the smallest gap between bars: the first gap may span a pause in the feed.
  let step = Infinity;
  for (let i = Math.max(1, lo); i < Math.min(ts.length, hi + 1); i++) {
    step = Math.min(step, ts[i]! - ts[i - 1]! || Infinity);
  }
  if (!Number.isFinite(step)) step = 1;
  const bodyPx = Math.min(
    CANDLE_LIMITS.body_px_max * devicePixelRatio,
    Math.max(1, (u.valToPos(ts[lo]! + step, "x", true) - u.valToPos(ts[lo]!, "x", true)) * 0.7),
  );
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  for (const up of [true, false]) {
    ctx.strokeStyle = ctx.fillStyle = up ? "#5ed17d" : "#ff5d5d";
    ctx.beginPath();
    for (let i = lo; i < hi; i++) {
      if (close![i]! >= open![i]! !== up) continue;
      const x = u.valToPos(ts[i]!, "x", true);
      ctx.moveTo(x, u.valToPos(high![i]!, "y", true));
      ctx.lineTo(x, u.valToPos(low![i]!, "y", true));
      const yo = u.valToPos(open![i]!, "y", true), yc = u.valToPos(close![i]!, "y", true);
      ctx.fillRect(x - bodyPx / 2, Math.min(yo, yc), bodyPx, Math.max(1, Math.abs(yc - yo)));
    }
    ctx.stroke();
  }
  ctx.restore();
}
