/// <reference lib="dom" />
/**
 * Candles of one channel's closed bars (`troupe.out.bars.<channel>`, type `bar`), drawn with uPlot:
 * the four price series fix the scales and draw nothing themselves; a draw hook paints each bar's
 * wick and body. Bars come about once a second, so it redraws through the FrameLoop like the line
 * chart, from a SeriesRing.
 */
import uPlot from "uplot";
import { el } from "./dom.ts";
import type { FrameLoop } from "./frame_loop.ts";
import { SeriesRing } from "./series_ring.ts";

/** Bounds of a candle chart. */
export const CANDLE_LIMITS = { bars: 240, height_px: 110 } as const;

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
  readonly #loop: FrameLoop;
  readonly #one = [
    new Float64Array(1),
    new Float64Array(1),
    new Float64Array(1),
    new Float64Array(1),
    new Float64Array(1),
  ];
  /** The bar size shown (the first seen: `1s`). */
  size: string | undefined;
  bars = 0;

  constructor(parent: HTMLElement, width: number, loop: FrameLoop) {
    this.#loop = loop;
    const body = el("div", { class: "candles" });
    parent.append(body);
    const price = { paths: NO_PATH, points: { show: false } };
    this.#plot = new uPlot(
      {
        width,
        height: CANDLE_LIMITS.height_px,
        scales: { x: { time: true } },
        legend: { show: false },
        series: [{}, { ...price }, { ...price }, { ...price }, { ...price }],
        // One line of `HH:MM:SS` (UTC) as the line chart above it: uPlot's default two-line
        // labels put a date under the first tick, which ran into the next at 10 s ticks.
        axes: [{ ...AXIS, space: 90, values: clockLabels }, { ...AXIS, size: 50 }],
        hooks: { draw: [(u) => drawCandles(u)] },
      },
      [[], [], [], [], []],
      body,
    );
  }

  /** Adds one closed bar of size `size`; bars of other sizes are skipped. */
  add(size: string, bar: Bar): void {
    this.size ??= size;
    if (size !== this.size) return;
    const one = this.#one;
    one[0]![0] = bar.t;
    one[1]![0] = bar.open;
    one[2]![0] = bar.high;
    one[3]![0] = bar.low;
    one[4]![0] = bar.close;
    this.#ring.append(one, 0, 1, 1e-6);
    this.bars++;
    this.#loop.mark(this);
  }

  flush(): void {
    const r = this.#ring;
    this.#plot.batch(() =>
      this.#plot.setData([r.view(0), r.view(1), r.view(2), r.view(3), r.view(4)])
    );
  }

  resize(width: number): void {
    this.#plot.setSize({ width, height: CANDLE_LIMITS.height_px });
  }
}

function clockLabels(_u: uPlot, splits: number[]): string[] {
  return splits.map((s) => new Date(s * 1000).toISOString().slice(11, 19));
}

function drawCandles(u: uPlot): void {
  const [ts, open, high, low, close] = u.data as unknown as Float64Array[];
  if (!ts || ts.length === 0) return;
  const ctx = u.ctx;
  // The bar size is the smallest gap between bars: the first gap may span a pause in the feed.
  let step = Infinity;
  for (let i = 1; i < ts.length; i++) step = Math.min(step, ts[i]! - ts[i - 1]! || Infinity);
  if (!Number.isFinite(step)) step = 1;
  const bodyPx = Math.max(
    1,
    (u.valToPos(ts[0]! + step, "x", true) - u.valToPos(ts[0]!, "x", true)) * 0.7,
  );
  ctx.save();
  for (let i = 0; i < ts.length; i++) {
    const x = u.valToPos(ts[i]!, "x", true);
    const up = close![i]! >= open![i]!;
    ctx.strokeStyle = ctx.fillStyle = up ? "#5ed17d" : "#ff5d5d";
    ctx.beginPath();
    ctx.moveTo(x, u.valToPos(high![i]!, "y", true));
    ctx.lineTo(x, u.valToPos(low![i]!, "y", true));
    ctx.stroke();
    const yo = u.valToPos(open![i]!, "y", true), yc = u.valToPos(close![i]!, "y", true);
    ctx.fillRect(x - bodyPx / 2, Math.min(yo, yc), bodyPx, Math.max(1, Math.abs(yc - yo)));
  }
  ctx.restore();
}
