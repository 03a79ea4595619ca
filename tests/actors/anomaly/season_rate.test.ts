/**
 * The rates a count is judged at (actors/anomaly/_shift.ts: seasonRate, seasonTailBits): a run of
 * counts at the lower of the time-of-day forecast's rate and the shift view's season per kind of
 * day, a value at whichever of the two finds it less improbable. On counts whose weekends are
 * quieter than their weekdays, the season gives a Saturday night the weekend's rate and a weekday
 * night the weekday's, where the forecast's hour mixes the two kinds of day (issue 30's worst
 * seeds, session 45).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyKernel, defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
import { seasonRate, seasonTailBits } from "../../../actors/anomaly/_shift.ts";
import { poissonTailBits } from "../../../actors/anomaly/_counts.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly season rate");

const T0 = Date.UTC(2024, 0, 1) * 1000; // a Monday
const STEP_US = 60_000_000;
const PER_DAY = 1440;
const HOURS = 24;
/** The shift view's bucket of Saturday's (weekend) and of a weekday's 03:00. */
const SATURDAY_3 = HOURS + 3, WEEKDAY_3 = 3;

/** The kernel's state after `weeks` of Poisson counts: `weekday` a minute, `weekend` at weekends. */
function countsState(weeks: number, weekday: number, weekend: number, seed: number) {
  const rng = new Prng(seed);
  const n = weeks * 7 * PER_DAY;
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * STEP_US;
    v[i] = rng.poisson(Math.floor(i / PER_DAY) % 7 >= 5 ? weekend : weekday);
  }
  const st = anomalyKernel.init(defaultAnomalyConfig, "c");
  anomalyKernel.step(st, { channel: "c", seq0: 0, t, v });
  return st;
}

test("a weekend hour's rate is the weekend's, a weekday's the weekday's", () => {
  for (const seed of [1, 2, 3]) {
    const st = countsState(3, 2, 0.2, seed);
    const saturday = seasonRate(st.shift, SATURDAY_3, SATURDAY_3 + 1, 0.5, 5);
    const weekday = seasonRate(st.shift, WEEKDAY_3, WEEKDAY_3 + 1, 0.5, 5);
    assert.ok(saturday >= 0 && saturday < 0.6, `seed ${seed}: Saturday 03:00 at ${saturday}`);
    assert.ok(weekday > 1.4 && weekday < 2.6, `seed ${seed}: a weekday's 03:00 at ${weekday}`);
  }
});

test("the forecast's rate where it is the lower, and where the bucket is unvisited", () => {
  const st = countsState(3, 2, 0.2, 1);
  assert.is(seasonRate(st.shift, WEEKDAY_3, WEEKDAY_3 + 1, 0.5, 0.1), 0.1);
  const fresh = anomalyKernel.init(defaultAnomalyConfig, "c");
  assert.is(seasonRate(fresh.shift, SATURDAY_3, SATURDAY_3 + 1, 0.5, 3), 3);
});

test("a count is judged at whichever rate finds it less improbable", () => {
  const st = countsState(3, 2, 0.2, 1);
  // 6 errors at a weekday's 03:00: rare at a forecast of 0.5, ordinary enough at the weekday's 2.
  const atForecast = poissonTailBits(6, 0.5);
  const bits = seasonTailBits(st.shift, WEEKDAY_3, WEEKDAY_3 + 1, 0.5, 6, 0.5);
  assert.ok(bits < atForecast - 3, `${bits} bits against ${atForecast} at the forecast`);
  // Where the forecast finds it less improbable, the forecast's; unvisited, the forecast's.
  assert.is(seasonTailBits(st.shift, WEEKDAY_3, WEEKDAY_3 + 1, 0.5, 6, 6), poissonTailBits(6, 6));
  const fresh = anomalyKernel.init(defaultAnomalyConfig, "c");
  assert.is(seasonTailBits(fresh.shift, WEEKDAY_3, WEEKDAY_3 + 1, 0.5, 6, 0.5), atForecast);
});

test.run();
