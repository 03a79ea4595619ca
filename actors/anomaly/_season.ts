/**
 * The anomaly kernel's test of a daily season: whether the hours of a channel's day differ by more
 * than its noise. The time-of-day view asks whether this hour has seen this level, which means
 * something only where hours see different levels. On a channel whose hours' means lie within one
 * noise sd of each other, every hour draws from the same spread, and a level new to one hour is a
 * draw from the channel's tail that this hour, holding 1/24 of the samples, has not met yet: the
 * view then scores nothing (the level view still judges the value against all hours). CAD OSE and
 * ARTime, which hold on every NAB category, have no time-of-day context at all; troupe keeps its
 * own where the day has a shape.
 *
 * The hours' means are the shift view's bucket offsets (each hour's past visits less the slow
 * level), the noise the hour profile's mean absolute residuals. The kernel asks as each day begins
 * (at a sample, so framing changes nothing), in O(hours): a day's shape is judged once a day,
 * and asking at every hour cost bench anomaly 5% to 9%.
 */
import { DAY_TYPES, SHIFT_SCALARS } from "./_shift.ts";

/** The hours' means must spread over at least this many noise sds for the day to have a season. */
export const SEASON_SDS = 1;
const SIGMA_PER_MAE = 1.2533141373155003; // sqrt(pi / 2): sigma over mean absolute error, Gaussian

/**
 * Whether the channel's day has a season: the largest spread (highest less lowest) of the shift
 * view's visited hour buckets (`shift`) over either kind of day, against SEASON_SDS noise sds from
 * the hour profile (`profile`: per hour its mean, mean absolute residual, visits). True while no
 * hour has been visited (nothing to judge by: the view is as it always was).
 */
export function hasDailySeason(shift: Float64Array, profile: Float64Array): boolean {
  const hours = profile.length / 3;
  let mae = 0, n = 0;
  for (let h = 0; h < hours; h++) {
    if (profile[3 * h + 2]! > 0) {
      mae += profile[3 * h + 1]!;
      n++;
    }
  }
  if (n === 0) return true;
  const sd = (SIGMA_PER_MAE * mae) / n;
  let spread = 0;
  for (let k = 0; k < DAY_TYPES; k++) {
    let lo = Infinity, hi = -Infinity;
    for (let h = 0; h < hours; h++) {
      const o = SHIFT_SCALARS + 2 * (k * hours + h);
      if (shift[o + 1]! > 0) {
        if (shift[o]! < lo) lo = shift[o]!;
        if (shift[o]! > hi) hi = shift[o]!;
      }
    }
    if (hi - lo > spread) spread = hi - lo;
  }
  return spread >= SEASON_SDS * sd;
}

/** The kernel's verdict for its state slot: 1 where the day has no season, else 0. */
export function seasonless(shift: Float64Array, profile: Float64Array): number {
  return hasDailySeason(shift, profile) ? 0 : 1;
}
