/**
 * The weekend's features of a channel's season (`season_weekend`): service load on Saturdays and
 * Sundays has its own level and its own daily swing. With a daily season alone, every weekend
 * reads as a level shift down on Saturday and back up on Monday, and its smaller swing as a string
 * of changes in between. The weekend is known from the calendar (Saturday and Sunday UTC, coming in
 * over a few hours either side of midnight), so it is five more features of the sample's time,
 * fitted with the season's own: its weekendness w, w times the season's first harmonic (cosine
 * and sine), a sharp weekend s, 1 from Saturday 00:00 to Monday 00:00 UTC exactly, and a fast
 * weekendness v, w's ramp over 1 hour either side of midnight instead of 3. They are 0 from
 * Monday 03:00 to Friday 21:00.
 *
 * The weekend's level is then a w + b s + c v, a mix of three speeds of coming in that the fit
 * learns: how fast a service's load comes in and goes is the service's, not the calendar's (a
 * ramp of a few hours for users across time zones, a step at midnight for batch jobs and
 * schedules, and anything between). With the 3-hour ramp alone, a weekend that comes in faster
 * left a misfit of up to half its dip around each midnight; a false change there re-levelled the
 * season, whose level then took the weekend's dip and set off more on Sunday night and Monday. The
 * step gave fewer false changes on the metrics feed. A ramp and a step still miss a weekend that
 * comes in over an hour or two by up to a quarter of its dip half an hour either side of midnight
 * (the feed's takes 2 hours); the fast ramp between them cut the false changes further, the
 * request channels' most, with the labelled changes still found; a ramp of 2 hours either side in
 * its place did less than one of 1 hour (figures: docs/methods/collapse.md).
 */

import {
  inWeekendSinceMondayNoon,
  sinceMondayNoon,
  weekendness as weekendnessOf,
  weekendnessSinceMondayNoon,
} from "../math/mod.ts";

/** Features of the weekend: its smooth level, its cosine and sine of the season's first harmonic,
 * its sharp level and its fast level. */
export const WEEKEND_FEATURES = 5;

const HOUR_US = 3_600e6;
/**
 * The weekend comes in and goes over this many microseconds either side of midnight UTC: a
 * service's users are spread over time zones and evenings, so it does not start at a stroke.
 */
export const WEEKEND_RAMP_US = 3 * HOUR_US;
/** The fast weekendness comes in and goes over this many microseconds either side of midnight. */
export const WEEKEND_FAST_RAMP_US = HOUR_US;

/**
 * How much time `t` (microseconds since the epoch) is in a weekend: 0 from Monday to Friday, 1 on
 * Saturday and Sunday (UTC), with smooth ramps WEEKEND_RAMP_US either side of both midnights.
 */
export function weekendness(t: number): number {
  return weekendnessOf(t, WEEKEND_RAMP_US);
}

/**
 * The weekend's features of time `t` into `f` from index `at`: w, w cos, w sin (cos and sin are
 * the season's first harmonic, already in f[1] and f[2]), the sharp weekend (1 on Saturday and
 * Sunday UTC, else 0) and the fast weekendness.
 */
export function weekendFeatures(t: number, f: Float64Array, at: number): void {
  const u = sinceMondayNoon(t);
  const w = weekendnessSinceMondayNoon(u, WEEKEND_RAMP_US);
  f[at] = w;
  f[at + 1] = w * f[1]!;
  f[at + 2] = w * f[2]!;
  f[at + 3] = inWeekendSinceMondayNoon(u) ? 1 : 0;
  f[at + 4] = weekendnessSinceMondayNoon(u, WEEKEND_FAST_RAMP_US);
}
