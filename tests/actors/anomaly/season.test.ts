/**
 * The daily-season test (actors/anomaly/_season.ts): the time-of-day view scores a level new to an
 * hour only on a channel whose hours differ by more than its noise; on a channel whose hours all
 * look alike, such a level is a tail draw the hour had not met yet.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyKernel,
  type AnomalyResult,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import { createShiftState, DAY_TYPES, SHIFT_SCALARS } from "../../../actors/anomaly/_shift.ts";
import { hasDailySeason } from "../../../actors/anomaly/_season.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly daily season");
const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5 * 60_000_000;
const PER_HOUR = 12;
const PER_DAY = 24 * PER_HOUR;

/**
 * Noise around 100 for `days` days, with a daily swing of `swing` (peak to trough); every hour
 * but hour 5 draws one value of 108 a day, so that level is known to the channel but not to hour
 * 5. On the last day hour 5 draws it too, at sample `at` (returned).
 */
function channel(swing: number, days: number): { t: number[]; v: number[]; at: number } {
  const rng = new Prng(30);
  const t: number[] = [], v: number[] = [];
  for (let i = 0; i < days * PER_DAY; i++) {
    const hour = Math.floor((i % PER_DAY) / PER_HOUR);
    const season = (swing / 2) * Math.sin((2 * Math.PI * i) / PER_DAY);
    t.push(T0 + i * STEP_US);
    v.push(100 + season + 0.5 * rng.normal() + (i % PER_HOUR === 6 && hour !== 5 ? 8 : 0));
  }
  const at = (days - 1) * PER_DAY + 5 * PER_HOUR + 6;
  v[at] = v[at]! + 8;
  return { t, v, at };
}

function run(values: { t: number[]; v: number[] }): AnomalyResult {
  const st = anomalyKernel.init({ ...defaultAnomalyConfig }, "c");
  return anomalyKernel.step(st, {
    channel: "c",
    seq0: 0,
    t: Float64Array.from(values.t),
    v: Float64Array.from(values.v),
  });
}

test("a level new to an hour scores on a channel whose day has a season, not on one without", () => {
  const flat = channel(0, 12), seasonal = channel(2, 12);
  const none = run(flat).score[flat.at]!, some = run(seasonal).score[seasonal.at]!;
  assert.ok(some >= 0.3, `with a daily season: ${some}`);
  assert.is(none, 0, `without one: ${none}`);
});

test("hasDailySeason() compares the spread of the hours' means with the noise's sd", () => {
  const hours = 24;
  const shift = createShiftState(hours);
  const profile = new Float64Array(3 * hours);
  assert.ok(hasDailySeason(shift, profile), "no hour visited: as before, a season");
  // Noise of sd 1: a mean absolute residual of sqrt(2 / pi).
  for (let h = 0; h < hours; h++) {
    profile[3 * h + 1] = Math.sqrt(2 / Math.PI);
    profile[3 * h + 2] = 10;
  }
  const visit = (b: number, offset: number) => {
    shift[SHIFT_SCALARS + 2 * b] = offset;
    shift[SHIFT_SCALARS + 2 * b + 1] = 4;
  };
  visit(0, 0.2);
  visit(12, -0.7);
  assert.not.ok(hasDailySeason(shift, profile), "weekday hours 0.9 sd apart");
  // A weekend hour far from the weekdays' is another kind of day, not a daily season.
  visit(DAY_TYPES * hours - 1, 5);
  assert.not.ok(hasDailySeason(shift, profile), "a weekend hour alone");
  visit(hours, 3.5);
  assert.ok(hasDailySeason(shift, profile), "weekend hours 1.5 sd apart");
});

test.run();
