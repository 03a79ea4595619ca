/**
 * Which of the anomaly kernel's views raised a sample's score: the codes, defined here once, and
 * the scratch `stepAnomaly` keeps them in when it is handed a `views` column (kernel.ts), so that a
 * bench (`troupe bench detect --explain`) can lay each incident and each missed label to a view
 * without instrumenting the kernel. A diagnosis only: nothing here is saved, sent or scored.
 *
 * A sample's view is the range rule where it set the raw score to 1; else the largest of the flat
 * run's, the jump's and the shift view's bits and the binned surprise (the first of them on a tie,
 * as the kernel compares them), the binned surprise going to the binned view (level, time of day,
 * slope, increment) with the most bits summed over the grids. A sample whose published score is 0
 * (the warm-up, a skipped value, the calibration or the refractory period leaving nothing) has
 * none.
 */

/** The code of each view that can raise a sample's score (0: the sample scored 0). */
export const VIEW = {
  none: 0,
  level: 1,
  timeOfDay: 2,
  slope: 3,
  increment: 4,
  flatRun: 5,
  jump: 6,
  shift: 7,
  range: 8,
} as const;

/** A view's code: a value of VIEW. */
export type ViewCode = (typeof VIEW)[keyof typeof VIEW];

/** Each code's name, as the kernel's module comment names its views, indexed by code. */
export const VIEW_NAMES: readonly string[] = Object.freeze([
  "none",
  "level",
  "time of day",
  "slope",
  "increment",
  "flat run",
  "jump",
  "shift",
  "beyond the range",
]);

/** Per-call scratch: the current sample's bits per binned view, summed over grids, by code. */
const VIEW_BITS = new Float64Array(VIEW.increment + 1);

/** Checks that `views` holds a frame of `n` samples, and clears its first `n` and the scratch. */
export function clearViews(views: Uint8Array, n: number): void {
  if (views.length < n) {
    throw new RangeError(
      `Cannot write the views of a frame of ${n} samples: the column holds ${views.length}`,
    );
  }
  views.fill(VIEW.none, 0, n);
  VIEW_BITS.fill(0);
}

/** Adds one grid's bits of each binned view (level and time of day 0 where not scored). */
export function addViewBits(slope: number, increment: number, level: number, hour: number): void {
  VIEW_BITS[VIEW.level]! += level;
  VIEW_BITS[VIEW.timeOfDay]! += hour;
  VIEW_BITS[VIEW.slope]! += slope;
  VIEW_BITS[VIEW.increment]! += increment;
}

/**
 * The binned view with the most bits over the grids (the first in code order on a tie), or
 * VIEW.none when none has any; clears the scratch for the next sample.
 */
export function binnedView(): ViewCode {
  let best: ViewCode = VIEW.none, most = 0;
  for (let code = VIEW.level; code <= VIEW.increment; code++) {
    if (VIEW_BITS[code]! > most) {
      most = VIEW_BITS[code]!;
      best = code as ViewCode;
    }
  }
  VIEW_BITS.fill(0);
  return best;
}
