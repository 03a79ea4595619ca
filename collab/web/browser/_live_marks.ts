/**
 * What the live view draws in the plot at its scales: the prediction band, the lines (value and
 * expected), and the overlays (regimes and change points, annotations, anomaly markers). Each
 * draws from a sample index on, so a strip draws only its few samples and allocates nothing.
 */
import type { LiveScales } from "./_live_scales.ts";
import { type Context2D, LIVE_STYLE, type LiveMarker, type LiveOverlays } from "./_live_style.ts";
import { eachRegime } from "./regimes.ts";

/** The prediction band from sample `from` on (`view`: time, value, expected, lower, upper): one
 *  polygon along the upper edge and back along the lower. */
export function paintBand(
  ctx: Context2D,
  s: LiveScales,
  view: readonly Float64Array[],
  from: number,
): void {
  const t = view[0]!, lo = view[3]!, up = view[4]!;
  const n = t.length;
  if (n - from < 2) return;
  ctx.beginPath();
  ctx.moveTo(s.x(t[from]!), s.y(up[from]!));
  for (let i = from + 1; i < n; i++) ctx.lineTo(s.x(t[i]!), s.y(up[i]!));
  for (let i = n - 1; i >= from; i--) ctx.lineTo(s.x(t[i]!), s.y(lo[i]!));
  ctx.closePath();
  ctx.fillStyle = LIVE_STYLE.band;
  ctx.fill();
}

/** The line through `v` against `t` from sample `from` on. */
export function paintLine(
  ctx: Context2D,
  s: LiveScales,
  t: Float64Array,
  v: Float64Array,
  from: number,
  color: string,
): void {
  const n = t.length;
  if (n - from < 2) return;
  ctx.beginPath();
  ctx.moveTo(s.x(t[from]!), s.y(v[from]!));
  for (let i = from + 1; i < n; i++) ctx.lineTo(s.x(t[i]!), s.y(v[i]!));
  ctx.strokeStyle = color;
  ctx.lineWidth = s.dpr;
  ctx.stroke();
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
