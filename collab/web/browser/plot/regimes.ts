/**
 * Where a chart draws the collapse actor's regime levels: each over a span it is known to have
 * held, and nowhere else. Between two change points, the later's mean of the regime before it;
 * before the first change seen, whose regime's start is not known, the level just before the
 * change over as long as the new regime took to confirm (the span `level_before` is measured
 * over); after the last, the new regime's mean from the change to its confirmation (`seen`), not
 * on to the window's right edge, where a wandering price has long left it (a level drawn across
 * the whole window would sit far from the data). The spans clip to the window shown.
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
  const first = changes[0];
  if (first) {
    const lead = (first.seen ?? first.t) - first.t;
    clipped(first.t - lead, first.t, first.levelBefore, min, max, draw);
  }
  for (let i = 1; i < changes.length; i++) {
    clipped(changes[i - 1]!.t, changes[i]!.t, changes[i]!.before, min, max, draw);
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
