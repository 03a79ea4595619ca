/// <reference lib="dom" />
/**
 * The live view of one channel chart, drawn incrementally: while a chart follows the live edge,
 * its scales stay fixed between repaints, so an update scrolls the plot (and the time axis under
 * it) left by whole pixels and paints only the strip on the right where the new samples land.
 * The plot's columns are kept in a ring canvas as wide as the plot: a scroll only moves the ring's
 * start, a strip is painted at its ring columns (translated by whole pixels, in two passes where
 * it wraps), and the canvas shown gets the ring's two halves in order. Copying the canvas onto
 * itself instead (one `drawImage` with "copy") cost Chromium a snapshot and a layer the size of
 * the plot per chart per frame: on 16 charts, a standalone page timed frames at p50 4.7–6.9 ms
 * that way and 3.0–3.4 ms with rings (load 5–6). Everything is painted by one function,
 * `#paintFrom(x0)`, clipped to the columns right of `x0`: a strip and a full repaint draw the same
 * geometry at the same pixel positions, so the strip joins the old picture without a seam. A repaint
 * of the whole plot (new scales) happens when a new sample leaves the y range, when the scroll
 * would exceed half the plot, or when the chart asks for one (annotations, a resize, and every so
 * often to tighten the scales, if fresh ones would differ: `LIVE_STYLE.refresh_slack`).
 *
 * uPlot keeps the axes, zoom and focus of a pinned (zoomed) chart: this canvas sits in uPlot's
 * wrapper under its cursor layer, so drag-to-zoom still works, and is hidden while pinned. The
 * canvas is the page's own or, in the live-plot worker, an OffscreenCanvas transferred from it
 * (the drawing is the same).
 */
import { decimate, DECIMATE_COLUMNS } from "./decimate.ts";

/** A marker in time: seconds since the epoch; `y` NaN for a full-height line. */
export interface LiveMarker {
  t: number;
  y: number;
  text: string;
  color: string;
}

/** What a LivePlot draws besides the series. */
export interface LiveOverlays {
  anomalies: readonly LiveMarker[];
  changes: readonly LiveMarker[];
  annotations: readonly LiveMarker[];
}

/** The plot's rectangle inside the canvas, in device pixels. */
export interface PlotRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Looks and bounds of the live view. */
export const LIVE_STYLE = {
  value: "#d8dee6",
  expected: "#4fa3ff",
  band: "rgba(79,163,255,0.18)",
  grid: "#2a323c",
  label: "#8a96a3",
  anomaly: "#ff5d5d",
  regime: "rgba(255,179,71,0.8)",
  /** Share of the y range added above and below the data at a repaint. */
  y_pad: 0.12,
  /** Least CSS pixels between time ticks and between value ticks. */
  x_space_px: 90,
  y_space_px: 40,
  /** Most CSS pixels a time label takes (it is squeezed to fit). */
  label_px: 64,
  /** Most sample points drawn per pixel column in one repaint (more are decimated). */
  points_per_px: 2,
  /**
   * A refresh (the periodic repaint with fresh scales) repaints only if the y range shown is more
   * than this share wider than the fresh one, or the time scale changed by more than
   * `refresh_k_share`: a repaint that would show the same picture is skipped (each costs about
   * the frame's budget for one chart: decimating and drawing the whole window, and its blit).
   */
  refresh_slack: 0.25,
  refresh_k_share: 0.01,
} as const;

/** Live updates between two repaints with fresh scales (when the frame has room for one). */
export const LIVE_UPDATES_PER_REPAINT = 100;

/** Time tick steps, seconds. */
const TIME_STEPS = [
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  21600,
  43200,
  86400,
];

/** What an update did: nothing, a strip (scrolled `px`), or a whole repaint. */
export type PaintKind = "none" | "strip" | "full";

/** A canvas a LivePlot draws on: the page's, or an OffscreenCanvas in a worker. */
export type LiveCanvas = HTMLCanvasElement | OffscreenCanvas;
type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

export class LivePlot {
  readonly canvas: LiveCanvas;
  /** The canvas shown, and the ring the plot's columns are painted in (see the module's note). */
  readonly #out: Context2D;
  readonly #ring: OffscreenCanvas;
  readonly #ctx: OffscreenCanvasRenderingContext2D;
  /** The ring column of the plot's left edge. */
  #shift = 0;
  #rect: PlotRect = { left: 0, top: 0, width: 0, height: 0 };
  #dpr = 1;
  /** Pixels per second, and the time at the plot's right edge. */
  #k = NaN;
  #tR = NaN;
  #yMin = NaN;
  #yMax = NaN;
  #xStep = 1;
  #yStep = 1;
  /** The last sample time painted (NaN: nothing painted yet: the next update repaints). */
  #lastT = NaN;
  /** The earliest time whose overlays changed since the last paint (Infinity: none). */
  #dirtyFromT = Infinity;
  #repaint = true;
  readonly #dec = Array.from({ length: DECIMATE_COLUMNS }, () => new Float64Array(0));
  readonly #src: Float64Array[] = [];
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
    this.#dpr = dpr;
    this.canvas.width = Math.round(widthCss * dpr);
    this.canvas.height = Math.round(heightCss * dpr);
    if ("style" in this.canvas) {
      this.canvas.style.width = `${widthCss}px`;
      this.canvas.style.height = `${heightCss}px`;
    }
    this.#rect = { ...rect };
    this.#ring.width = Math.max(1, rect.width);
    this.#ring.height = this.canvas.height;
    // Sizing a canvas resets its state: the font is set here, once, not per paint.
    this.#ctx.font = this.#out.font = `${11 * dpr}px system-ui, sans-serif`;
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
    return { min: this.#tR - this.#rect.width / this.#k, max: this.#tR };
  }

  /** The plot's place in the canvas (device pixels) and the device pixel ratio. */
  place(): { left: number; width: number; dpr: number } {
    return { left: this.#rect.left, width: this.#rect.width, dpr: this.#dpr };
  }

  /** The time at CSS pixel `x` from the canvas's left edge (for drag-to-zoom). */
  timeAt(xCss: number): number {
    return this.#tAt(xCss * this.#dpr);
  }

  /**
   * Shows `cols` (time in seconds, value, expected, lower, upper; oldest first) and `overlays`.
   * `refresh` asks for new scales now if they would differ from the current ones (see
   * `LIVE_STYLE.refresh_slack`). Returns what was painted.
   */
  update(cols: readonly Float64Array[], overlays: LiveOverlays, refresh = false): PaintKind {
    const t = cols[0]!;
    const n = t.length;
    if (n < 2 || this.#rect.width < 4) return this.#count("none");
    const tLast = t[n - 1]!;
    if (
      this.#repaint || !(tLast >= this.#lastT) || this.#outOfRange(cols) ||
      (refresh && this.#stale(cols))
    ) {
      return this.#full(cols, overlays);
    }
    if (tLast === this.#lastT && this.#dirtyFromT === Infinity) return this.#count("none");
    const d = Math.ceil((tLast - this.#tR) * this.#k);
    if (d > this.#rect.width / 2) return this.#full(cols, overlays);
    if (d > 0) {
      this.#scroll(d);
      this.#tR += d / this.#k;
    }
    // From a few pixels left of the last sample painted: the line's join there is redrawn whole.
    let x0 = Math.floor(this.#x(this.#lastT)) - 3 * this.#dpr;
    if (this.#dirtyFromT < Infinity) {
      x0 = Math.min(x0, Math.floor(this.#x(this.#dirtyFromT)) - 8 * this.#dpr);
    }
    this.#paintFrom(Math.max(x0, this.#rect.left), cols, overlays);
    this.#compose();
    this.#lastT = tLast;
    this.#dirtyFromT = Infinity;
    return this.#count("strip");
  }

  /** Repaints everything at the current scales (what the strips should have painted). */
  redraw(cols: readonly Float64Array[], overlays: LiveOverlays): void {
    if (!Number.isFinite(this.#k)) return;
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
    for (let c = 1; c < DECIMATE_COLUMNS; c++) {
      const col = cols[c]!;
      for (let i = from; i < t.length; i++) {
        const y = col[i]!;
        if (y < this.#yMin || y > this.#yMax) return true;
      }
    }
    return false;
  }

  /** Whether fresh scales would differ enough from the current ones to repaint for them. */
  #stale(cols: readonly Float64Array[]): boolean {
    const fit = this.#fit(cols);
    const span = this.#yMax - this.#yMin;
    return fit.yMin < this.#yMin || fit.yMax > this.#yMax ||
      span > (1 + LIVE_STYLE.refresh_slack) * (fit.yMax - fit.yMin) ||
      !(Math.abs(fit.k / this.#k - 1) <= LIVE_STYLE.refresh_k_share);
  }

  /** The scales a whole repaint takes from the window: the y range with its padding, and the
   *  pixels per second that fit the window's time span to the plot. */
  #fit(cols: readonly Float64Array[]): { yMin: number; yMax: number; k: number } {
    const t = cols[0]!;
    const n = t.length;
    let lo = Infinity, hi = -Infinity;
    for (let c = 1; c < DECIMATE_COLUMNS; c++) {
      const col = cols[c]!;
      for (let i = 0; i < n; i++) {
        const y = col[i]!;
        if (y < lo) lo = y;
        if (y > hi) hi = y;
      }
    }
    if (!(hi > lo)) {
      const mid = Number.isFinite(lo) ? lo : 0;
      lo = mid - 1;
      hi = mid + 1;
    }
    const pad = (hi - lo) * LIVE_STYLE.y_pad;
    const span = t[n - 1]! - t[0]! > 0 ? t[n - 1]! - t[0]! : 1;
    return { yMin: lo - pad, yMax: hi + pad, k: this.#rect.width / span };
  }

  /** New scales from the window, and a repaint of everything. */
  #full(cols: readonly Float64Array[], overlays: LiveOverlays): PaintKind {
    const t = cols[0]!;
    const n = t.length;
    const fit = this.#fit(cols);
    this.#yMin = fit.yMin;
    this.#yMax = fit.yMax;
    this.#k = fit.k;
    this.#tR = t[n - 1]!;
    this.#xStep = TIME_STEPS.find((s) => s * this.#k >= LIVE_STYLE.x_space_px * this.#dpr) ??
      TIME_STEPS[TIME_STEPS.length - 1]!;
    this.#yStep = niceStep(
      ((this.#yMax - this.#yMin) * LIVE_STYLE.y_space_px * this.#dpr) / this.#rect.height,
    );
    this.#shift = 0;
    this.#paintFrom(0, cols, overlays);
    this.#compose();
    this.#lastT = t[n - 1]!;
    this.#dirtyFromT = Infinity;
    this.#repaint = false;
    return this.#count("full");
  }

  /** Moves the plot and the time axis under it `d` pixels left: the ring's start moves. */
  #scroll(d: number): void {
    this.#shift = (this.#shift + d) % this.#rect.width;
  }

  /** Shows the ring on the canvas: its columns from the plot's left edge on, then the rest. */
  #compose(): void {
    const out = this.#out;
    const { left, width } = this.#rect;
    const h = this.canvas.height, s = this.#shift;
    out.clearRect(left, 0, width, h);
    out.drawImage(this.#ring, s, 0, width - s, h, left, 0, width - s, h);
    if (s > 0) out.drawImage(this.#ring, 0, 0, s, h, left + width - s, 0, s, h);
  }

  /**
   * Paints the plot (#paintPlot, which draws in the canvas's coordinates) into the ring for the
   * plot's columns from `a` to its right edge: translated by whole pixels to their ring columns,
   * in two passes where they wrap (each clipped to its columns), else in one. No closure or pass
   * list: this runs for every chart in every frame.
   */
  #inRing(a: number, x0: number, cols: readonly Float64Array[], overlays: LiveOverlays): void {
    const { left, width } = this.#rect;
    const start = (a - left + this.#shift) % width;
    const right = left + width;
    if (start + (right - a) <= width) {
      this.#pass(start - a, a, right, x0, cols, overlays);
      return;
    }
    this.#pass(start - a, a, a + width - start, x0, cols, overlays);
    this.#pass(start - a - width, a + width - start, right, x0, cols, overlays);
  }

  /** One pass of #inRing: columns `lo` to `hi` of the canvas, `tx` pixels off in the ring. */
  #pass(
    tx: number,
    lo: number,
    hi: number,
    x0: number,
    cols: readonly Float64Array[],
    overlays: LiveOverlays,
  ): void {
    const ctx = this.#ctx;
    ctx.save();
    ctx.translate(tx, 0);
    ctx.beginPath();
    ctx.rect(lo, 0, hi - lo, this.#ring.height);
    ctx.clip();
    this.#paintPlot(x0, cols, overlays);
    ctx.restore();
  }

  #x(t: number): number {
    return this.#rect.left + this.#rect.width - (this.#tR - t) * this.#k;
  }

  #y(v: number): number {
    const { top, height } = this.#rect;
    return top + height - ((v - this.#yMin) / (this.#yMax - this.#yMin)) * height;
  }

  /** Clears and paints every column at or right of `x0` (device pixels); 0 repaints all. */
  #paintFrom(x0: number, cols: readonly Float64Array[], overlays: LiveOverlays): void {
    const { left, width } = this.#rect;
    // From where a time label that the strip repaints may start (it ends at its tick).
    const labelPx = Math.min(LIVE_STYLE.label_px, LIVE_STYLE.x_space_px - 10) * this.#dpr;
    const a = Math.max(left, Math.min(Math.max(x0, left), left + width) - labelPx - 4 * this.#dpr);
    this.#inRing(a, x0, cols, overlays);
    if (x0 < left) this.#valueAxis();
  }

  /** What #paintFrom paints of the plot's columns (into the ring). */
  #paintPlot(x0: number, cols: readonly Float64Array[], overlays: LiveOverlays): void {
    const ctx = this.#ctx;
    const { left, top, width, height } = this.#rect;
    const right = left + width, from = Math.max(x0, left);
    this.#timeLabels(x0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, 0, this.canvas.width - x0, top + height);
    ctx.clip();
    ctx.clearRect(x0, 0, this.canvas.width - x0, top + height);
    this.#grid(from);
    ctx.beginPath();
    ctx.rect(from, top, right - from, height);
    ctx.clip();
    // The samples from the one before the strip's left edge on (no views: nothing is allocated).
    let view = cols;
    let first = Math.max(0, firstAfter(cols[0]!, this.#tAt(from)) - 1);
    // Only a whole repaint decimates: a strip draws its few samples as they are, so its left edge
    // is the same geometry the paint before drew there.
    const columns = Math.ceil(right - from);
    if (x0 < left && cols[0]!.length - first > LIVE_STYLE.points_per_px * columns) {
      view = this.#decimated(cols.map((c) => c.subarray(first)), columns);
      first = 0;
    }
    this.#band(view, first);
    this.#line(view[0]!, view[2]!, first, LIVE_STYLE.expected);
    this.#line(view[0]!, view[1]!, first, LIVE_STYLE.value);
    this.#overlays(overlays);
    ctx.restore();
  }

  #tAt(x: number): number {
    return this.#tR - (this.#rect.left + this.#rect.width - x) / this.#k;
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

  /** Value labels on the left (painted only with the whole plot, on the canvas shown). */
  #valueAxis(): void {
    const ctx = this.#out;
    const { left, top, height } = this.#rect;
    ctx.clearRect(0, 0, left, this.canvas.height);
    ctx.fillStyle = LIVE_STYLE.label;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const step = this.#yStep;
    const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step))));
    for (let v = Math.ceil(this.#yMin / step) * step; v <= this.#yMax; v += step) {
      const y = Math.round(this.#y(v));
      if (y >= top && y <= top + height) ctx.fillText(v.toFixed(digits), left - 6 * this.#dpr, y);
    }
  }

  /** Grid lines in the plot's columns at or right of `from`. */
  #grid(from: number): void {
    const ctx = this.#ctx;
    const { left, top, width, height } = this.#rect;
    const right = left + width;
    ctx.fillStyle = LIVE_STYLE.grid;
    const step = this.#yStep;
    for (let v = Math.ceil(this.#yMin / step) * step; v <= this.#yMax; v += step) {
      const y = Math.round(this.#y(v));
      if (y >= top && y <= top + height) ctx.fillRect(from, y, right - from, this.#dpr);
    }
    const xs = this.#xStep;
    for (let T = Math.floor(this.#tAt(from) / xs) * xs; T <= this.#tR; T += xs) {
      const x = Math.round(this.#x(T));
      if (x >= from && x <= right) ctx.fillRect(x, top, this.#dpr, height);
    }
  }

  /**
   * The time labels of the ticks at or right of `x0`. A label ends at its tick, so it is painted
   * whole when its tick enters the plot and then scrolls with it; label boxes never overlap (ticks
   * are further apart than a label is wide), so clearing the boxes of the labels repainted touches
   * no other label.
   */
  #timeLabels(x0: number): void {
    const ctx = this.#ctx;
    const { left, top, width, height } = this.#rect;
    const right = left + width, y = top + height, dpr = this.#dpr;
    const labelPx = Math.min(LIVE_STYLE.label_px, LIVE_STYLE.x_space_px - 10) * dpr;
    const xs = this.#xStep;
    let T = Math.ceil(this.#tAt(Math.max(x0, left)) / xs) * xs;
    while (Math.round(this.#x(T)) < x0) T += xs;
    const clearFrom = Math.max(left, Math.min(x0, Math.round(this.#x(T)) - labelPx - 4 * dpr));
    ctx.save();
    // A label whose tick is in the plot but starts left of it is cut at the plot's edge, as the
    // scroll cuts it.
    ctx.beginPath();
    ctx.rect(left, y, this.canvas.width - left, this.canvas.height - y);
    ctx.clip();
    ctx.clearRect(clearFrom, y, this.canvas.width - clearFrom, this.canvas.height - y);
    ctx.fillStyle = LIVE_STYLE.label;
    ctx.textAlign = "right";
    ctx.textBaseline = "top";
    for (; T <= this.#tR; T += xs) {
      const x = Math.round(this.#x(T));
      if (x < left || x > right) continue;
      ctx.fillText(timeLabel(T), x - 3 * dpr, y + 6 * dpr, labelPx - 3 * dpr);
    }
    ctx.restore();
  }

  /** The prediction band from sample `from` on: one polygon along the upper edge and back along
   *  the lower. */
  #band(view: readonly Float64Array[], from: number): void {
    const t = view[0]!, lo = view[3]!, up = view[4]!;
    const n = t.length;
    if (n - from < 2) return;
    const ctx = this.#ctx;
    ctx.beginPath();
    ctx.moveTo(this.#x(t[from]!), this.#y(up[from]!));
    for (let i = from + 1; i < n; i++) ctx.lineTo(this.#x(t[i]!), this.#y(up[i]!));
    for (let i = n - 1; i >= from; i--) ctx.lineTo(this.#x(t[i]!), this.#y(lo[i]!));
    ctx.closePath();
    ctx.fillStyle = LIVE_STYLE.band;
    ctx.fill();
  }

  #line(t: Float64Array, v: Float64Array, from: number, color: string): void {
    const n = t.length;
    if (n - from < 2) return;
    const ctx = this.#ctx;
    ctx.beginPath();
    ctx.moveTo(this.#x(t[from]!), this.#y(v[from]!));
    for (let i = from + 1; i < n; i++) ctx.lineTo(this.#x(t[i]!), this.#y(v[i]!));
    ctx.strokeStyle = color;
    ctx.lineWidth = this.#dpr;
    ctx.stroke();
  }

  #overlays(o: LiveOverlays): void {
    const ctx = this.#ctx;
    const { top } = this.#rect;
    const dpr = this.#dpr;
    const min = this.#tAt(0), max = this.#tR;
    ctx.strokeStyle = LIVE_STYLE.regime;
    ctx.lineWidth = 2 * dpr;
    for (let i = 0; i < o.changes.length; i++) {
      const a = o.changes[i]!;
      const end = o.changes[i + 1]?.t ?? Infinity;
      if (end < min || a.t > max) continue;
      const y = this.#y(a.y);
      ctx.beginPath();
      ctx.moveTo(this.#x(a.t), y);
      ctx.lineTo(end === Infinity ? this.#x(max) + 4 * dpr : this.#x(end), y);
      ctx.stroke();
    }
    for (const m of o.changes) if (m.t >= min && m.t <= max) this.#vline(m, []);
    for (const m of o.annotations) {
      if (m.t < min || m.t > max) continue;
      const x = this.#vline(m, [3 * dpr, 3 * dpr]);
      ctx.fillStyle = m.color;
      ctx.textAlign = "left";
      ctx.textBaseline = "alphabetic";
      ctx.fillText(m.text.slice(0, 40), x + 4 * dpr, top + 12 * dpr);
    }
    ctx.fillStyle = LIVE_STYLE.anomaly;
    for (const m of o.anomalies) {
      if (m.t < min || m.t > max) continue;
      ctx.beginPath();
      ctx.arc(this.#x(m.t), this.#y(m.y), 4 * dpr, 0, 7);
      ctx.fill();
    }
  }

  #vline(m: LiveMarker, dash: number[]): number {
    const ctx = this.#ctx;
    const { top, height } = this.#rect;
    const x = this.#x(m.t);
    ctx.strokeStyle = m.color;
    ctx.lineWidth = 1.5 * this.#dpr;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.setLineDash([]);
    return x;
  }
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

/** The least of 1, 2 or 5 times a power of ten that is at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** `HH:MM:SS` (UTC) of `t` seconds, with tenths when `t` is not whole. */
function timeLabel(t: number): string {
  const s = new Date(Math.round(t * 1000)).toISOString();
  return Math.abs(t - Math.round(t)) > 1e-6 ? s.slice(11, 21) : s.slice(11, 19);
}
