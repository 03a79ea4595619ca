/**
 * The live view's axes: the value labels left of the plot (painted with a whole repaint only, on
 * the canvas shown), and, in the plot's columns (painted into the ring, strip by strip, under the
 * strip's one clip), the grid and the time labels under the plot. A time label ends at its tick,
 * so it is painted whole when its tick enters the plot and then scrolls with it.
 */
import type { LiveScales } from "./_live_scales.ts";
import { type Context2D, LIVE_STYLE } from "./_live_style.ts";
import { siAxis } from "./si_number.ts";

/** The value labels on the left of the plot, for a canvas `height` device pixels high. */
export function paintValueAxis(ctx: Context2D, s: LiveScales, height: number): void {
  const { left, top } = s.rect;
  const bottom = top + s.rect.height;
  ctx.clearRect(0, 0, left, height);
  ctx.fillStyle = LIVE_STYLE.label;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const step = s.yStep;
  // Short labels (1.2G, 350M): the margin left of the plot is narrow, and every digit of a
  // large number did not fit it.
  const label = siAxis(step, Math.max(Math.abs(s.yMin), Math.abs(s.yMax)));
  for (let v = Math.ceil(s.yMin / step) * step; v <= s.yMax; v += step) {
    const y = Math.round(s.y(v));
    if (y >= top && y <= bottom) ctx.fillText(label(v), left - 6 * s.dpr, y);
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
 * The first tick whose time label a paint of the columns at or right of `x0` draws (its column is
 * at or right of `x0`). Label boxes never overlap (ticks are further apart than a label is wide),
 * so repainting the labels from this tick on touches no other label.
 */
export function firstLabelTick(s: LiveScales, x0: number): number {
  const xs = s.xStep;
  let T = Math.ceil(s.tAt(Math.max(x0, s.rect.left)) / xs) * xs;
  while (Math.round(s.x(T)) < x0) T += xs;
  return T;
}

/** Where the label row is cleared from when its labels are painted from tick `T` on (a strip's
 *  `x0`, or the start of tick `T`'s label if that is further left; never left of the plot). */
export function labelClearFrom(s: LiveScales, x0: number, T: number): number {
  const labelPx = Math.min(LIVE_STYLE.label_px, LIVE_STYLE.x_space_px - 10) * s.dpr;
  return Math.max(s.rect.left, Math.min(x0, Math.round(s.x(T)) - labelPx - 4 * s.dpr));
}

/**
 * The time labels of the ticks from `T` on, under the plot. The caller has cleared their row and
 * clipped it to the plot's columns (a label whose tick is in the plot but starts left of it is cut
 * at the plot's edge, as the scroll cuts it); nothing is painted when no tick is in the plot.
 */
export function paintTimeLabels(ctx: Context2D, s: LiveScales, T: number): void {
  const { left } = s.rect;
  const right = left + s.rect.width, y = s.rect.top + s.rect.height, dpr = s.dpr;
  if (T > s.tR) return;
  const labelPx = Math.min(LIVE_STYLE.label_px, LIVE_STYLE.x_space_px - 10) * dpr;
  ctx.fillStyle = LIVE_STYLE.label;
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  for (const xs = s.xStep; T <= s.tR; T += xs) {
    const x = Math.round(s.x(T));
    if (x < left || x > right) continue;
    ctx.fillText(timeLabel(T, xs), x - 3 * dpr, y + 6 * dpr, labelPx - 3 * dpr);
  }
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
  const w = Math.min(labelWidth(ctx, T, xs, dpr), labelPx);
  return x - 3 * dpr - w < left ? x : left;
}

/** The last label measured: every chart asks each frame, mostly for the same tick. */
const measured = { t: NaN, step: NaN, dpr: NaN, width: 0 };

/**
 * The width of tick `t`'s label in `ctx`'s font, measured once per tick and device pixel ratio:
 * the live view's font is set from the ratio alone (`LivePlot.layout`), and reading `ctx.font`
 * back (a string the canvas serializes) showed in the page's profile, for every chart each frame.
 */
function labelWidth(ctx: Context2D, t: number, step: number, dpr: number): number {
  if (t !== measured.t || step !== measured.step || dpr !== measured.dpr) {
    measured.width = ctx.measureText(timeLabel(t, step)).width;
    measured.t = t;
    measured.step = step;
    measured.dpr = dpr;
  }
  return measured.width;
}

/**
 * `HH:MM:SS` (UTC) of tick `t` seconds, with tenths when `t` is not whole; the first tick of a
 * day (`step` seconds after one of the day before) says its date, `MM-DD HH:MM` (with seconds
 * below a minute's step), as the candles' and uPlot's labels do (time_labels.ts): a window of
 * a feed sampled once a minute spans a day and more. The rule is the tick's own, not the
 * window's, so a label strip painted once reads the same as the window scrolls.
 */
export function timeLabel(t: number, step = 1): string {
  const s = new Date(Math.round(t * 1000)).toISOString();
  const before = new Date(Math.round((t - step) * 1000)).toISOString();
  if (s.slice(0, 10) !== before.slice(0, 10)) {
    return `${s.slice(5, 10)} ${s.slice(11, step >= 60 ? 16 : 19)}`;
  }
  return Math.abs(t - Math.round(t)) > 1e-6 ? s.slice(11, 21) : s.slice(11, 19);
}
