/**
 * Where a chart draws the collapse actor's regime levels: each regime's mean over the span it held,
 * and nowhere else. A change point says the mean of the regime before it (which held from the
 * change before, or from the window's left, up to it) and the mean of the new regime from the
 * change to its confirmation (`seen`); the new regime's level is drawn over that span only, not on
 * to the window's right edge, where a wandering price has long left it (issue 31: the level was
 * drawn across the whole window, far from the data). The spans clip to the window shown.
 */
import type { LiveMarker } from "./_live_style.ts";

/** Draws one level `y` from `t0` to `t1` (seconds). */
export type RegimeDraw = (t0: number, t1: number, y: number) => void;

/**
 * Calls `draw` for each regime span of `changes` (in time order) inside the window [min, max]
 * (seconds), oldest first; allocates nothing (the live view paints it per strip).
 */
export function eachRegime(
  changes: readonly LiveMarker[],
  min: number,
  max: number,
  draw: RegimeDraw,
): void {
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    clipped(i > 0 ? changes[i - 1]!.t : -Infinity, c.t, c.before, min, max, draw);
  }
  const last = changes[changes.length - 1];
  if (last) clipped(last.t, last.seen ?? last.t, last.y, min, max, draw);
}

function clipped(
  t0: number,
  t1: number,
  y: number | undefined,
  min: number,
  max: number,
  draw: RegimeDraw,
): void {
  const a = Math.max(t0, min), b = Math.min(t1, max);
  if (y !== undefined && Number.isFinite(y) && b > a) draw(a, b, y);
}
