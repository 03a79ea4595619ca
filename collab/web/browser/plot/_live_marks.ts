/**
 * What the live view draws in the plot at its scales: the prediction band, the lines (value and
 * expected), and the overlays (regimes and change points, annotations, anomaly markers). Each
 * draws from a sample index on, so a strip draws only its few samples and allocates nothing; the
 * band and the lines are filled pixel column by pixel column (`paintColumns`).
 */
import type { LiveScales } from "./_live_scales.ts";
import { type Context2D, LIVE_STYLE, type LiveMarker, type LiveOverlays } from "./_live_style.ts";
import type { ColumnTarget } from "./_live_raster.ts";
import { eachRegime } from "./regimes.ts";

/**
 * The prediction band from sample `from` on (`view`: time, value, expected, lower, upper): in each
 * pixel column, one rectangle from the highest upper edge to the lowest lower edge that crosses it
 * (its samples, and the edges between samples interpolated at the column's sides).
 */
export function paintBand(
  ctx: ColumnTarget,
  s: LiveScales,
  view: readonly Float64Array[],
  from: number,
): void {
  if (view[0]!.length - from < 2) return;
  ctx.fillStyle = LIVE_STYLE.band;
  paintColumns(ctx, s, view[0]!, view[4]!, view[3]!, from);
}

/** The line through `v` against `t` from sample `from` on, as column spans (`paintColumns`). */
export function paintLine(
  ctx: ColumnTarget,
  s: LiveScales,
  t: Float64Array,
  v: Float64Array,
  from: number,
  color: string,
): void {
  if (t.length - from < 2) return;
  ctx.fillStyle = color;
  paintColumns(ctx, s, t, v, v, from);
}

/**
 * Fills, in each pixel column the samples from `from` on cross, the rows between series `a` and
 * `b` (the same series for a line) over that column: their samples in it, and the segments from
 * the column before and to the next interpolated at its sides. Whole-pixel rectangles, not
 * anti-aliased paths: the page's profile with every card on screen put a third of a frame's
 * script in rasterizing the strips' three paths (the band and two lines), against little for
 * rectangles. Each column is filled once, from all of its samples,
 * so a strip repainting from a column on paints what a whole repaint does there.
 */
function paintColumns(
  ctx: ColumnTarget,
  s: LiveScales,
  t: Float64Array,
  a: Float64Array,
  b: Float64Array,
  from: number,
): void {
  const n = t.length, thick = s.dpr;
  let px = NaN, pa = NaN, pb = NaN, col = NaN, top = Infinity, bottom = -Infinity;
  for (let i = from; i < n; i++) {
    const x = s.x(t[i]!), ya = s.y(a[i]!), yb = s.y(b[i]!);
    if (!(Number.isFinite(x) && Number.isFinite(ya) && Number.isFinite(yb))) {
      // A gap: what came before ends at its last sample.
      if (!Number.isNaN(col)) fillSpan(ctx, col, top, bottom, thick);
      px = col = NaN;
      continue;
    }
    const c = Math.floor(x);
    if (c !== col && !Number.isNaN(col)) {
      // The segment from the last sample crosses from column `col` to `c`: each column it
      // crosses takes the segment's rows at its sides.
      const ka = (ya - pa) / (x - px), kb = (yb - pb) / (x - px);
      let ea = pa + ka * (col + 1 - px), eb = pb + kb * (col + 1 - px);
      fillSpan(ctx, col, Math.min(top, ea, eb), Math.max(bottom, ea, eb), thick);
      for (let k = col + 1; k < c; k++) {
        const na = pa + ka * (k + 1 - px), nb = pb + kb * (k + 1 - px);
        fillSpan(ctx, k, Math.min(ea, eb, na, nb), Math.max(ea, eb, na, nb), thick);
        ea = na;
        eb = nb;
      }
      top = Math.min(ea, eb);
      bottom = Math.max(ea, eb);
    } else if (c !== col) {
      top = Infinity;
      bottom = -Infinity;
    }
    col = c;
    top = Math.min(top, ya, yb);
    bottom = Math.max(bottom, ya, yb);
    px = x;
    pa = ya;
    pb = yb;
  }
  if (!Number.isNaN(col)) fillSpan(ctx, col, top, bottom, thick);
}

/** Column `x`'s rows from `top` to `bottom` (device pixels), at least `thick` of them. */
function fillSpan(ctx: ColumnTarget, x: number, top: number, bottom: number, thick: number): void {
  const y0 = Math.round(top - thick / 2), y1 = Math.round(bottom + thick / 2);
  ctx.fillRect(x, y0, 1, Math.max(thick, y1 - y0));
}

/**
 * The overlays that reach the columns at or right of `from` (device pixels): each regime's level
 * over the span it held, the change points' lines, the annotations (a dashed line and the text),
 * and the anomaly markers. A strip paints a few columns: what ends left of them is not drawn at
 * all (only an annotation's text, which reaches right of its line, is drawn from the whole window).
 */
export function paintOverlays(ctx: Context2D, s: LiveScales, o: LiveOverlays, from: number): void {
  const dpr = s.dpr;
  // A marker's reach left and right of its time: an anomaly's radius, a line's half width.
  const min = s.tAt(0), max = s.tR, near = s.tAt(from - 5 * dpr);
  ctx.strokeStyle = LIVE_STYLE.regime;
  ctx.lineWidth = 2 * dpr;
  eachRegime(o.changes, min, max, (t0, t1, level) => {
    if (t1 < near) return;
    const y = s.y(level);
    ctx.beginPath();
    ctx.moveTo(s.x(t0), y);
    ctx.lineTo(s.x(t1), y);
    ctx.stroke();
  });
  for (const m of o.changes) if (m.t >= near && m.t <= max) paintMarkerLine(ctx, s, m, []);
  for (const m of o.annotations) {
    if (m.t < min || m.t > max) continue;
    const x = paintMarkerLine(ctx, s, m, [3 * dpr, 3 * dpr]);
    ctx.fillStyle = m.color;
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillText(m.text.slice(0, 40), x + 4 * dpr, s.rect.top + 12 * dpr);
  }
  ctx.fillStyle = LIVE_STYLE.anomaly;
  for (const m of o.anomalies) {
    if (m.t < near || m.t > max) continue;
    ctx.beginPath();
    ctx.arc(s.x(m.t), s.y(m.y), 4 * dpr, 0, 7);
    ctx.fill();
  }
}

/** A full-height line at marker `m` (dashed by `dash`); returns its column. */
function paintMarkerLine(ctx: Context2D, s: LiveScales, m: LiveMarker, dash: number[]): number {
  const { top, height } = s.rect;
  const x = s.x(m.t);
  ctx.strokeStyle = m.color;
  ctx.lineWidth = 1.5 * s.dpr;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + height);
  ctx.stroke();
  ctx.setLineDash([]);
  return x;
}
