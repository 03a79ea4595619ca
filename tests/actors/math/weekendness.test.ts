import { suite } from "uvu";
import * as assert from "uvu/assert";
import { sinceMondayNoon, weekendness } from "../../../actors/math/mod.ts";

const test = suite("weekendness");

const HOUR_US = 3_600e6;
const DAY_US = 24 * HOUR_US;
/** Monday 2024-01-01 00:00 UTC. */
const MONDAY_US = Date.UTC(2024, 0, 1) * 1000;

test("weekendness() is 0 on weekdays, 1 at the weekend, and half-way at both midnights", () => {
  const at = (day: number, hour: number, ramp = HOUR_US) =>
    weekendness(MONDAY_US + day * DAY_US + hour * HOUR_US, ramp);
  assert.is(at(2, 12), 0); // Wednesday noon
  assert.is(at(4, 22), 0); // Friday 22:00, before a 1-hour ramp
  assert.is(at(4, 23.5), 0.15625); // half-way up the first half of a 1-hour ramp
  assert.is(at(5, 0), 0.5); // Saturday 00:00
  assert.is(at(5, 12), 1);
  assert.is(at(6, 23), 1); // Sunday 23:00, where a 1-hour ramp down starts
  assert.is(at(7, 0), 0.5); // Monday 00:00
  assert.is(at(7, 1), 0);
  assert.ok(at(4, 22, 3 * HOUR_US) > 0 && at(4, 22, 3 * HOUR_US) < 0.5); // a 3-hour ramp
});

test("weekendness() is the same a week apart, before the epoch too", () => {
  for (const hour of [0, 23.25, 120.5, 143.9, 167.5]) {
    const t = MONDAY_US + hour * HOUR_US;
    assert.is(weekendness(t - 52 * 7 * DAY_US, HOUR_US), weekendness(t, HOUR_US));
  }
  assert.is(weekendness(-4 * DAY_US + 12 * HOUR_US, HOUR_US), 1); // Sunday 1969-12-28, noon
  const u = sinceMondayNoon(MONDAY_US);
  assert.is(u, 6.5 * DAY_US);
});

test.run();
