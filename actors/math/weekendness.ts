/**
 * How much a time is in a weekend: 0 from Monday to Friday, 1 on Saturday and Sunday (UTC), with
 * smooth ramps either side of both midnights. A detector's season (the collapse kind's weekend
 * features) and a feed generator's weekend dip (the simulator's metrics feed) read the calendar
 * the same way, bit for bit.
 */

const HOUR_US = 3_600e6;
const DAY_US = 24 * HOUR_US;
const WEEK_US = 7 * DAY_US;
/** Time 0 was a Thursday 00:00 UTC: Monday 12:00 UTC falls 4.5 days after it, modulo a week. */
const MONDAY_NOON_US = 4.5 * DAY_US;
/** Saturday 00:00 and Monday 00:00 UTC, in microseconds since Monday noon. */
const SATURDAY_US = 4.5 * DAY_US;
const MONDAY_US = 6.5 * DAY_US;

function smoothstep(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x);
}

/** Microseconds since the last Monday noon UTC (Saturday 00:00 is 4.5 days on), in [0, WEEK_US). */
export function sinceMondayNoon(t: number): number {
  // Not a float modulo: that is a library call, and this runs per sample.
  const d = t - MONDAY_NOON_US;
  const u = d - WEEK_US * Math.floor(d / WEEK_US);
  return u < 0 ? u + WEEK_US : u >= WEEK_US ? u - WEEK_US : u;
}

/**
 * The weekendness of `u` microseconds since the last Monday noon (sinceMondayNoon), over ramps of
 * `rampUs` either side of both midnights.
 */
export function weekendnessSinceMondayNoon(u: number, rampUs: number): number {
  const width = 2 * rampUs;
  return smoothstep((u - SATURDAY_US + rampUs) / width) -
    smoothstep((u - MONDAY_US + rampUs) / width);
}

/** Whether `u` microseconds since the last Monday noon fall on Saturday or Sunday UTC. */
export function inWeekendSinceMondayNoon(u: number): boolean {
  return u >= SATURDAY_US && u < MONDAY_US;
}

/**
 * How much time `t` (microseconds since the epoch) is in a weekend: 0 from Monday to Friday, 1 on
 * Saturday and Sunday (UTC), with smooth ramps of `rampUs` either side of both midnights.
 */
export function weekendness(t: number, rampUs: number): number {
  return weekendnessSinceMondayNoon(sinceMondayNoon(t), rampUs);
}
