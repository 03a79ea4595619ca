/**
 * The live view's axes: the value labels left of the plot (painted with a whole repaint only, on
 * the canvas shown), and, in the plot's columns (painted into the ring, strip by strip), the grid
 * and the time labels under the plot. A time label ends at its tick, so it is painted whole when
 * its tick enters the plot and then scrolls with it.
 */
import type { LiveScales } from "./_live_scales.ts";
import { type Context2D, LIVE_STYLE } from "./_live_style.ts";

/** How far left of its tick a time label reaches (device pixels), with its margin: a strip that
 *  repaints a tick's label starts that far left of it. */
export function labelReach(dpr: number): number {
  return (Math.min(LIVE_STYLE.label_px, LIVE_STYLE.x_space_px - 10) + 4) * dpr;
}

/** The value labels on the left of the plot, for a canvas `height` device pixels high. */
export function paintValueAxis(ctx: Context2D, s: LiveScales, height: number): void {
  const { left, top } = s.rect;
  const bottom = top + s.rect.height;
  ctx.clearRect(0, 0, left, height);
  ctx.fillStyle = LIVE_STYLE.label;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const step = s.yStep;
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step))));
  for (let v = Math.ceil(s.yMin / step) * step; v <= s.yMax; v += step) {
    const y = Math.round(s.y(v));
    if (y >= top && y <= bottom) ctx.fillText(v.toFixed(digits), left - 6 * s.dpr, y);
  }
}

/** Grid lines in the plot's columns at or right of `from`. */
export function paintGrid(ctx: Context2D, s: LiveScales, from: number): void {
  const { left, top, width, height } = s.rect;
  const right = left + width;
  ctx.fillStyle = LIVE_STYLE.grid;
  const step = s.yStep;
  for (let v = Math.ceil(s.yMin / step) * step; v <= s.yMax; v += step) {
    const y = Math.round(s.y(v));
    if (y >= top && y <= top + height) ctx.fillRect(from, y, right - from, s.dpr);
  }
  const xs = s.xStep;
  for (let T = Math.floor(s.tAt(from) / xs) * xs; T <= s.tR; T += xs) {
    const x = Math.round(s.x(T));
    if (x >= from && x <= right) ctx.fillRect(x, top, s.dpr, height);
  }
}

/**
 * The time labels of the ticks at or right of `x0`, under the plot, on a canvas `width` x
 * `height` device pixels. Label boxes never overlap (ticks are further apart than a label is
 * wide), so clearing the boxes of the labels repainted touches no other label.
 */
export function paintTimeLabels(
  ctx: Context2D,
  s: LiveScales,
  x0: number,
  width: number,
  height: number,
): void {
  const { left } = s.rect;
  const right = left + s.rect.width, y = s.rect.top + s.rect.height, dpr = s.dpr;
  const labelPx = Math.min(LIVE_STYLE.label_px, LIVE_STYLE.x_space_px - 10) * dpr;
  const xs = s.xStep;
  let T = Math.ceil(s.tAt(Math.max(x0, left)) / xs) * xs;
  while (Math.round(s.x(T)) < x0) T += xs;
  const clearFrom = Math.max(left, Math.min(x0, Math.round(s.x(T)) - labelPx - 4 * dpr));
  ctx.save();
  // A label whose tick is in the plot but starts left of it is cut at the plot's edge, as the
  // scroll cuts it.
  ctx.beginPath();
  ctx.rect(left, y, width - left, height - y);
  ctx.clip();
  ctx.clearRect(clearFrom, y, width - clearFrom, height - y);
  ctx.fillStyle = LIVE_STYLE.label;
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  for (; T <= s.tR; T += xs) {
    const x = Math.round(s.x(T));
    if (x < left || x > right) continue;
    ctx.fillText(timeLabel(T), x - 3 * dpr, y + 6 * dpr, labelPx - 3 * dpr);
  }
  ctx.restore();
}

/**
 * Where the leftmost time label ends when the scroll has cut it at the plot's left edge (its tick
 * in the plot, its text reaching left of it), else the plot's left edge: the shown canvas clears
 * the label row up to there, so that no label is ever read cut (`48` for `21:22:48`).
 */
export function cutLabelEnd(ctx: Context2D, s: LiveScales): number {
  const { left } = s.rect, dpr = s.dpr;
  const xs = s.xStep;
  const T = Math.ceil(s.tAt(left) / xs) * xs;
  const x = Math.round(s.x(T));
  const labelPx = (Math.min(LIVE_STYLE.label_px, LIVE_STYLE.x_space_px - 10) - 3) * dpr;
  const w = Math.min(labelWidth(ctx, T), labelPx);
  return x - 3 * dpr - w < left ? x : left;
}

/** The last label measured: every chart asks each frame, mostly for the same tick. */
let measured = { t: NaN, font: "", width: 0 };

/** The width of tick `t`'s label in `ctx`'s font (measured once per tick and font). */
function labelWidth(ctx: Context2D, t: number): number {
  if (t !== measured.t || ctx.font !== measured.font) {
    measured = { t, font: ctx.font, width: ctx.measureText(timeLabel(t)).width };
  }
  return measured.width;
}

/** `HH:MM:SS` (UTC) of `t` seconds, with tenths when `t` is not whole. */
export function timeLabel(t: number): string {
  const s = new Date(Math.round(t * 1000)).toISOString();
  return Math.abs(t - Math.round(t)) > 1e-6 ? s.slice(11, 21) : s.slice(11, 19);
}
