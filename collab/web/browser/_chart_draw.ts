/// <reference lib="dom" />
/**
 * What a channel chart paints on uPlot's canvas beside its series: the prediction band and the
 * vertical marker lines (change points, annotations, findings from history).
 */
import type uPlot from "uplot";

/** The prediction band: one polygon along the upper edge and back along the lower. */
export function drawBand(u: uPlot): void {
  const [t, , , lo, up] = u.data as unknown as Float64Array[];
  const n = t?.length ?? 0;
  // History has no band (its lower and upper columns are empty).
  if (!t || n < 2 || !lo || !up || typeof lo[0] !== "number") return;
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  ctx.beginPath();
  ctx.moveTo(u.valToPos(t[0]!, "x", true), u.valToPos(up[0]!, "y", true));
  for (let i = 1; i < n; i++) {
    ctx.lineTo(u.valToPos(t[i]!, "x", true), u.valToPos(up[i]!, "y", true));
  }
  for (let i = n - 1; i >= 0; i--) {
    ctx.lineTo(u.valToPos(t[i]!, "x", true), u.valToPos(lo[i]!, "y", true));
  }
  ctx.closePath();
  ctx.fillStyle = "rgba(79,163,255,0.18)";
  ctx.fill();
  ctx.restore();
}

/** A vertical line across the plot at canvas x. */
export function vline(
  ctx: CanvasRenderingContext2D,
  x: number,
  top: number,
  height: number,
  color: string,
  dash: number[],
): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + height);
  ctx.stroke();
  ctx.setLineDash([]);
}
