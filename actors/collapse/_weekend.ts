/**
 * The weekend's features of a channel's season (`season_weekend`): service load on Saturdays and
 * Sundays has its own level and its own daily swing. With a daily season alone, every weekend
 * reads as a level shift down on Saturday and back up on Monday, and its smaller swing as a string
 * of changes in between. The weekend is known from the calendar (Saturday and Sunday UTC, coming in
 * over a few hours either side of midnight), so it is three more features of the sample's time,
 * fitted with the season's own: its weekendness w, and w times the season's first harmonic (cosine
 * and sine). They are 0 from Monday to Friday.
 */

/** Features of the weekend: its level, and its cosine and sine of the season's first harmonic. */
export const WEEKEND_FEATURES = 3;

const HOUR_US = 3_600e6;
const DAY_US = 24 * HOUR_US;
const WEEK_US = 7 * DAY_US;
/**
 * The weekend comes in and goes over this many microseconds either side of midnight UTC: a
 * service's users are spread over time zones and evenings, so it does not start at a stroke.
 */
export const WEEKEND_RAMP_US = 3 * HOUR_US;
/** Time 0 was a Thursday 00:00 UTC: Monday 12:00 UTC falls 4.5 days after it, modulo a week. */
const MONDAY_NOON_US = 4.5 * DAY_US;

function smoothstep(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x);
}

/**
 * How much time `t` (microseconds since the epoch) is in a weekend: 0 from Monday to Friday, 1 on
 * Saturday and Sunday (UTC), with smooth ramps WEEKEND_RAMP_US either side of both midnights.
 */
export function weekendness(t: number): number {
  // Time since the last Monday noon (Saturday 00:00 is 4.5 days on). Not a float modulo: that
  // is a library call, and this runs per sample.
  const d = t - MONDAY_NOON_US;
  let u = d - WEEK_US * Math.floor(d / WEEK_US);
  if (u < 0) u += WEEK_US;
  else if (u >= WEEK_US) u -= WEEK_US;
  const width = 2 * WEEKEND_RAMP_US;
  return smoothstep((u - 4.5 * DAY_US + WEEKEND_RAMP_US) / width) -
    smoothstep((u - 6.5 * DAY_US + WEEKEND_RAMP_US) / width);
}

/**
 * The weekend's features of time `t` into `f` from index `at`: w, w cos and w sin, where cos and
 * sin are the season's first harmonic, already in f[1] and f[2].
 */
export function weekendFeatures(t: number, f: Float64Array, at: number): void {
  const w = weekendness(t);
  f[at] = w;
  f[at + 1] = w * f[1]!;
  f[at + 2] = w * f[2]!;
}
