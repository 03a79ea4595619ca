/**
 * Which of the anomaly kernel's views raised a sample's score: the codes, defined here once, their
 * names on the wire, and the choice among the binned views, so that the kernel can name the view
 * of the sample where an incident opens (the anomaly event's `view`: VIEW_WIRE) and, when it is
 * handed a `views` column (kernel.ts), of every sample, for a bench (`troupe bench detect
 * --explain`) to lay each incident and each missed label to a view. Nothing here is saved.
 *
 * A sample's view is the range rule where it set the raw score to 1; else the largest of the flat
 * run's and the jump's bits and the binned surprise (the first of them on a tie, as the kernel
 * compares them), the binned surprise going to the binned view (level, time of day, slope,
 * increment) with the most bits summed over the grids. A sample whose published score is 0 (the
 * warm-up, a skipped value, the refractory period leaving nothing) has none. `shift` is a name of
 * the wire that no view of this version raises: events recorded by earlier versions carry it.
 */
import { ANOMALY_VIEWS, type AnomalyView } from "../../protocol/mod.ts";

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

/**
 * Each code's name on the wire, indexed by code; none has none. The codes follow ANOMALY_VIEWS'
 * order (protocol/events/anomaly.ts), which defines the names once.
 */
export const VIEW_WIRE: readonly (AnomalyView | undefined)[] = Object.freeze([
  undefined,
  ...ANOMALY_VIEWS,
]);

/** Checks that `views` holds a frame of `n` samples, and clears its first `n`. */
export function clearViews(views: Uint8Array, n: number): void {
  if (views.length < n) {
    throw new RangeError(
      `Cannot write the views of a frame of ${n} samples: the column holds ${views.length}`,
    );
  }
  views.fill(VIEW.none, 0, n);
}

/**
 * The binned view with the most bits summed over the grids (the first in code order on a tie), or
 * VIEW.none when none has any.
 */
export function binnedView(level: number, hour: number, slope: number, inc: number): ViewCode {
  let best: ViewCode = VIEW.none, most = 0;
  if (level > most) most = level, best = VIEW.level;
  if (hour > most) most = hour, best = VIEW.timeOfDay;
  if (slope > most) most = slope, best = VIEW.slope;
  if (inc > most) best = VIEW.increment;
  return best;
}
