/// <reference lib="dom" />
/**
 * The live view of one channel chart, drawn incrementally: while a chart follows the live edge, its
 * scales stay fixed between repaints, so an update scrolls the plot (and the time axis under it)
 * left by whole pixels and paints only the strip on the right where the new samples land. The
 * plot's columns are kept in a ring canvas as wide as the plot: a scroll only moves the ring's
 * start, a strip is painted at its ring columns (translated by whole pixels, in two passes where it
 * wraps), and the canvas shown gets the ring's two halves in order. Copying the canvas onto itself
 * instead (one `drawImage` with "copy") cost Chromium a snapshot and a layer the size of the plot
 * per chart per frame, which made frames slower than with rings (docs/performance.md, "Figures
 * behind the code"). Everything is painted by one function, `#paintFrom(x0)`,
 * clipped to the columns right of `x0`: a strip and a full repaint draw the same geometry at the
 * same pixel positions, so the strip joins the old picture without a seam. A repaint of the whole
 * plot (new scales) happens when a new sample leaves the y range, when the scroll would exceed half
 * the plot, or when the chart asks for one (annotations, a resize, and every so often to tighten
 * the scales, if fresh ones would differ: `LIVE_STYLE.refresh_slack`).
 *
 * The scales live in `_live_scales.ts`, the axes in `_live_axes.ts`, the band, lines and overlays
 * in `_live_marks.ts`; this file keeps the ring and decides what to paint.
 *
 * uPlot keeps the axes, zoom and focus of a pinned (zoomed) chart: this canvas sits in uPlot's
 * wrapper under its cursor layer, so drag-to-zoom still works, and is hidden while pinned. The
 * canvas is the page's own or, in the live-plot worker, an OffscreenCanvas transferred from it
 * (the drawing is the same).
 */
import { decimate, DECIMATE_COLUMNS } from "./decimate.ts";
import {
  cutLabelEnd,
  firstLabelTick,
  labelClearFrom,
  paintGrid,
  paintTimeLabels,
  paintValueAxis,
} from "./_live_axes.ts";
import { paintBand, paintLine, paintOverlays } from "./_live_marks.ts";
import { ColumnRaster, type ColumnTarget, RASTER_ROWS_BELOW } from "./_live_raster.ts";
import { LiveScales } from "./_live_scales.ts";
import {
  type Context2D,
  LIVE_STYLE,
  liveFont,
  type LiveOverlays,
  type PlotRect,
} from "./_live_style.ts";

export { LIVE_STYLE } from "./_live_style.ts";
export type { LiveMarker, LiveOverlays, PlotRect } from "./_live_style.ts";

/** Live updates between two repaints with fresh scales (when the frame has room for one). */
export const LIVE_UPDATES_PER_REPAINT = 100;

/** What an update did: nothing, a strip (scrolled `px`), or a whole repaint. */
export type PaintKind = "none" | "strip" | "full";

/** A canvas a LivePlot draws on: the page's, or an OffscreenCanvas in a worker. */
export type LiveCanvas = HTMLCanvasElement | OffscreenCanvas;

export class LivePlot {
  readonly canvas: LiveCanvas;
  /** The canvas shown, and the ring the plot's columns are painted in (see the module's note). */
  readonly #out: Context2D;
  readonly #ring: OffscreenCanvas;
  readonly #ctx: OffscreenCanvasRenderingContext2D;
  /** The ring column of the plot's left edge. */
  #shift = 0;
  /** Where the paint under way starts (#inRing sets it; kept to allocate nothing per paint). */
  readonly #at: StripStart = { x0: 0, from: 0, tick: 0, label: 0 };
  readonly #scales = new LiveScales();
  /** The last sample time painted (NaN: nothing painted yet: the next update repaints). */
  #lastT = NaN;
  /** The earliest time whose overlays changed since the last paint (Infinity: none). */
  #dirtyFromT = Infinity;
  #repaint = true;
  readonly #dec = Array.from({ length: DECIMATE_COLUMNS }, () => new Float64Array(0));
  readonly #src: Float64Array[] = [];
  /** A whole repaint's band and lines, and whether this paint has rasterized them yet. */
  readonly #raster = new ColumnRaster();
  #rastered = false;
  /** Paints by kind since the page started (the tests and the bench read them). */
  readonly paints = { none: 0, strip: 0, full: 0 };

  constructor(canvas: LiveCanvas) {
    this.canvas = canvas;
    const out = canvas.getContext("2d") as Context2D | null;
    this.#ring = new OffscreenCanvas(1, 1);
    const ctx = this.#ring.getContext("2d");
    if (!out || !ctx) throw new Error("Cannot draw the live chart: the canvas has no 2d context");
    this.#out = out;
    this.#ctx = ctx;
  }

  /** Sizes the canvas (CSS pixels) and sets the plot's rectangle (device pixels); repaints next. */
  layout(widthCss: number, heightCss: number, rect: PlotRect, dpr: number): void {
    this.#scales.dpr = dpr;
    this.canvas.width = Math.round(widthCss * dpr);
    this.canvas.height = Math.round(heightCss * dpr);
    if ("style" in this.canvas) {
      this.canvas.style.width = `${widthCss}px`;
      this.canvas.style.height = `${heightCss}px`;
    }
    this.#scales.rect = { ...rect };
    // The ring holds the plot's rows and the time labels' under them: nothing is painted above.
    this.#ring.width = Math.max(1, rect.width);
    this.#ring.height = Math.max(1, this.canvas.height - rect.top);
    // Sizing a canvas resets its state: the font is set here, once, not per paint.
    this.#ctx.font = this.#out.font = liveFont(dpr);
    this.#shift = 0;
    this.#repaint = true;
  }

  /** Asks for a whole repaint with new scales at the next update. */
  invalidate(): void {
    this.#repaint = true;
  }

  /** Overlays at or after `t` (seconds) changed: the next update repaints from there. */
  invalidateFrom(t: number): void {
    if (t < this.#dirtyFromT) this.#dirtyFromT = t;
  }

  /** The time range shown, seconds. */
  range(): { min: number; max: number } {
    const s = this.#scales;
    return { min: s.tR - s.rect.width / s.k, max: s.tR };
  }

  /** The plot's place in the canvas (device pixels) and the device pixel ratio. */
  place(): { left: number; width: number; dpr: number } {
    const s = this.#scales;
    return { left: s.rect.left, width: s.rect.width, dpr: s.dpr };
  }

  /** The time at CSS pixel `x` from the canvas's left edge (for drag-to-zoom). */
  timeAt(xCss: number): number {
    return this.#scales.tAt(xCss * this.#scales.dpr);
  }

  /**
   * Shows `cols` (time in seconds, value, expected, lower, upper; oldest first) and `overlays`.
   * `refresh` asks for new scales now if they would differ from the current ones (see
   * `LIVE_STYLE.refresh_slack`). Returns what was painted.
   */
  update(cols: readonly Float64Array[], overlays: LiveOverlays, refresh = false): PaintKind {
    const s = this.#scales;
    const t = cols[0]!;
    const n = t.length;
    if (n < 2 || s.rect.width < 4) return this.#count("none");
    const tLast = t[n - 1]!;
    if (
      this.#repaint || !(tLast >= this.#lastT) || this.#outOfRange(cols) ||
      (refresh && s.differs(s.fit(cols)))
    ) {
      return this.#full(cols, overlays);
    }
    if (tLast === this.#lastT && this.#dirtyFromT === Infinity) return this.#count("none");
    const d = Math.ceil((tLast - s.tR) * s.k);
    if (d > s.rect.width / 2) return this.#full(cols, overlays);
    if (d > 0) {
      this.#scroll(d);
      s.tR += d / s.k;
    }
    // From a few pixels left of the last sample painted: the line's join there is redrawn whole.
    let x0 = Math.floor(s.x(this.#lastT)) - 3 * s.dpr;
    if (this.#dirtyFromT < Infinity) {
      x0 = Math.min(x0, Math.floor(s.x(this.#dirtyFromT)) - 8 * s.dpr);
    }
    this.#paintFrom(Math.max(x0, s.rect.left), cols, overlays);
    this.#compose();
    this.#lastT = tLast;
    this.#dirtyFromT = Infinity;
    return this.#count("strip");
  }

  /** Repaints everything at the current scales (what the strips should have painted). */
  redraw(cols: readonly Float64Array[], overlays: LiveOverlays): void {
    if (!Number.isFinite(this.#scales.k)) return;
    this.#paintFrom(0, cols, overlays);
    this.#compose();
  }

  #count(kind: PaintKind): PaintKind {
    this.paints[kind]++;
    return kind;
  }

  /** Whether a sample newer than the last painted falls outside the y range. */
  #outOfRange(cols: readonly Float64Array[]): boolean {
    const t = cols[0]!;
    const from = firstAfter(t, this.#lastT);
    const { yMin, yMax } = this.#scales;
    for (let c = 1; c < DECIMATE_COLUMNS; c++) {
      const col = cols[c]!;
      for (let i = from; i < t.length; i++) {
        const y = col[i]!;
        if (y < yMin || y > yMax) return true;
      }
    }
    return false;
  }

  /** New scales from the window, and a repaint of everything. */
  #full(cols: readonly Float64Array[], overlays: LiveOverlays): PaintKind {
    const t = cols[0]!;
    const tLast = t[t.length - 1]!;
    this.#scales.take(this.#scales.fit(cols), tLast);
    this.#shift = 0;
    this.#paintFrom(0, cols, overlays);
    this.#compose();
    this.#lastT = tLast;
    this.#dirtyFromT = Infinity;
    this.#repaint = false;
    return this.#count("full");
  }

  /** Moves the plot and the time axis under it `d` pixels left: the ring's start moves. */
  #scroll(d: number): void {
    this.#shift = (this.#shift + d) % this.#scales.rect.width;
  }

  /** Shows the ring on the canvas: its columns from the plot's left edge on, then the rest. */
  #compose(): void {
    const out = this.#out;
    const { left, top, width } = this.#scales.rect;
    const h = this.#ring.height, s = this.#shift;
    out.clearRect(left, top, width, h);
    out.drawImage(this.#ring, s, 0, width - s, h, left, top, width - s, h);
    if (s > 0) out.drawImage(this.#ring, 0, 0, s, h, left + width - s, top, s, h);
    // The leftmost time label, once the scroll cut it, is not shown at all.
    const end = cutLabelEnd(this.#ctx, this.#scales);
    if (end > left) {
      const y = top + this.#scales.rect.height;
      out.clearRect(left, y, end - left, this.canvas.height - y);
    }
  }

  /**
   * Paints the plot's columns at or right of `x0` (#paintPlot, which draws in the canvas's
   * coordinates) into the ring: translated by whole pixels to their ring columns, in two passes
   * where they wrap, else in one. No closure, pass list or object: this runs for every chart each
   * frame (where the strip starts is kept in #at).
   */
  #inRing(x0: number, cols: readonly Float64Array[], overlays: LiveOverlays): void {
    const s = this.#scales, { left, width } = s.rect;
    const from = Math.min(Math.max(x0, left), left + width);
    // The labels repainted start at or left of the strip (a label ends at its tick).
    const at = this.#at;
    at.x0 = x0;
    at.from = from;
    at.tick = firstLabelTick(s, x0);
    const a = at.label = labelClearFrom(s, from, at.tick);
    const start = (a - left + this.#shift) % width;
    const right = left + width;
    if (start + (right - a) <= width) {
      this.#pass(start - a, a, right, cols, overlays);
      return;
    }
    const wrap = a + width - start;
    this.#pass(start - a, a, wrap, cols, overlays);
    this.#pass(start - a - width, wrap, right, cols, overlays);
  }

  /**
   * One pass of #inRing: columns `lo` to `hi` of the canvas, `tx` pixels off in the ring. Its one
   * clip is the plot's rows from #at's `from` and the label row's from its `label`, both cleared;
   * everything is painted under it: one save, clip and restore a pass (they had been three, and
   * `save` and `clip` came after `drawImage` alone among the canvas calls in the page's profile).
   */
  #pass(
    tx: number,
    lo: number,
    hi: number,
    cols: readonly Float64Array[],
    overlays: LiveOverlays,
  ): void {
    const ctx = this.#ctx, at = this.#at, { top, height } = this.#scales.rect;
    const bottom = top + height, rows = this.canvas.height - bottom;
    const plotLo = Math.max(lo, at.from), labelLo = Math.max(lo, at.label);
    ctx.save();
    ctx.translate(tx, -top);
    ctx.beginPath();
    if (labelLo === plotLo) {
      // Mostly: no label reaches left of the strip, and the clip is one rectangle.
      ctx.rect(plotLo, top, hi - plotLo, height + rows);
    } else {
      if (hi > plotLo) ctx.rect(plotLo, top, hi - plotLo, height);
      ctx.rect(labelLo, bottom, hi - labelLo, rows);
    }
    ctx.clip();
    if (hi > plotLo) ctx.clearRect(plotLo, top, hi - plotLo, height);
    ctx.clearRect(labelLo, bottom, hi - labelLo, rows);
    paintTimeLabels(ctx, this.#scales, at.tick);
    if (hi > plotLo) this.#paintPlot(cols, overlays);
    ctx.restore();
  }

  /** Clears and paints every column at or right of `x0` (device pixels); 0 repaints all. */
  #paintFrom(x0: number, cols: readonly Float64Array[], overlays: LiveOverlays): void {
    this.#rastered = false;
    this.#inRing(x0, cols, overlays);
    if (x0 < this.#scales.rect.left) paintValueAxis(this.#out, this.#scales, this.canvas.height);
  }

  /** What #paintFrom paints in the plot's columns from #at's `from` on (into the ring, clipped). */
  #paintPlot(cols: readonly Float64Array[], overlays: LiveOverlays): void {
    const ctx = this.#ctx, s = this.#scales, { x0, from } = this.#at;
    const { left, width } = s.rect;
    const right = left + width;
    paintGrid(ctx, s, from);
    // The samples from the one before the strip's left edge on (no views: nothing is allocated).
    let view = cols;
    let first = Math.max(0, firstAfter(cols[0]!, s.tAt(from)) - 1);
    // Only a whole repaint decimates: a strip draws its few samples as they are, so its left edge
    // is the same geometry the paint before drew there.
    const columns = Math.ceil(right - from);
    if (x0 < left && cols[0]!.length - first > LIVE_STYLE.points_per_px * columns) {
      view = this.#decimated(cols.map((c) => c.subarray(first)), columns);
      first = 0;
    }
    if (x0 < left) this.#paintWhole(view, first);
    else paintSeries(ctx, s, view, first);
    paintOverlays(ctx, s, overlays, from);
  }

  /**
   * A whole repaint's band and lines: rasterized once per paint (`_live_raster.ts`: a thousand
   * rectangles as one image) and drawn in each pass, under its clip, where the rectangles were.
   */
  #paintWhole(view: readonly Float64Array[], first: number): void {
    const s = this.#scales, { left, top, width, height } = s.rect, raster = this.#raster;
    if (!this.#rastered) {
      raster.begin(left, top, width, height + RASTER_ROWS_BELOW * s.dpr);
      paintSeries(raster, s, view, first);
      this.#rastered = true;
    }
    this.#ctx.drawImage(raster.canvas(), left, top);
  }

  #decimated(view: Float64Array[], columns: number): Float64Array[] {
    const size = 2 * columns;
    if (this.#dec[0]!.length < size) {
      for (let c = 0; c < DECIMATE_COLUMNS; c++) this.#dec[c] = new Float64Array(size);
    }
    const m = decimate(view, this.#dec, columns);
    const src = this.#src;
    for (let c = 0; c < DECIMATE_COLUMNS; c++) src[c] = this.#dec[c]!.subarray(0, m);
    return src;
  }
}

/** Where a paint starts: the column asked for (0: all), the plot's first column painted, the first
 *  tick whose label is painted, and the label row's first column cleared. */
interface StripStart {
  x0: number;
  from: number;
  tick: number;
  label: number;
}

/** The index of the first time after `t` in ascending `times` (times.length if none). */
export function firstAfter(times: Float64Array, t: number): number {
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The band and the two lines from sample `first` of `view` on, into `target`. */
function paintSeries(
  target: ColumnTarget,
  s: LiveScales,
  view: readonly Float64Array[],
  first: number,
): void {
  paintBand(target, s, view, first);
  paintLine(target, s, view[0]!, view[2]!, first, LIVE_STYLE.expected);
  paintLine(target, s, view[0]!, view[1]!, first, LIVE_STYLE.value);
}
