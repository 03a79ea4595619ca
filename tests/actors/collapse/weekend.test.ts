/**
 * The weekend in the collapse kernel's season, over weeks: what the season learned of the weekend
 * is kept through the weekdays (not forgotten while its features are 0), and the weekend's own
 * noise (quieter with its lower load) is no change.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type CollapseChange, collapseKernel } from "../../../actors/collapse/kernel.ts";
import { defaultCollapseConfig, metricsCollapseConfig } from "../../../actors/collapse/config.ts";
import {
  SEASON_COEFFS,
  seasonFeatures,
  seasonLearn,
  seasonReset,
} from "../../../actors/collapse/_season.ts";
import { WEEKEND_FEATURES, weekendness } from "../../../actors/collapse/_weekend.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { DAY_US, DT, runMinutes, T0 } from "./_minutes.ts";

const test = suite("collapse weekend");

test("what the season learned of the weekend is not forgotten on weekdays, the harmonics' is", () => {
  // One harmonic and the weekend: m = 3 + WEEKEND_FEATURES. A week of samples from a Monday, then
  // Monday 04:00 to Friday 16:00, when every weekend feature is 0: the weekend's variances must
  // not grow (no sample of the weekend was seen), while the harmonics' are discounted and learned
  // again, and the weekend's dip must come out as it went in.
  const m = 3 + WEEKEND_FEATURES;
  const C = SEASON_COEFFS;
  const block = new Float64Array(C + C * C);
  const f = new Float64Array(C);
  seasonReset(block, 100);
  const forget = 2 ** (-1 / (2 * 1440));
  const rng = new Prng("idle");
  const learn = (from: number, samples: number) => {
    for (let i = 0; i < samples; i++) {
      const t = from + i * DT;
      seasonFeatures(t, DAY_US, 1, f, true);
      const x = 100 + 5 * f[1]! - 20 * weekendness(t) + rng.normal();
      seasonLearn(block, f, m, x, 1, forget);
    }
  };
  const monday = T0 + 7 * DAY_US + 4 * 3_600e6;
  learn(T0, (monday - T0) / DT);
  seasonFeatures(monday, DAY_US, 1, f, true);
  for (let k = 3; k < m; k++) assert.is(f[k], 0, `feature ${k} on Monday 04:00`);
  const variances = () => Array.from({ length: m }, (_, i) => block[C + i * C + i]!);
  const before = variances();
  const dip = () => block[3]! + block[6]! + block[7]!;
  const dipBefore = dip();
  assert.ok(Math.abs(dipBefore + 20) < 1, `the weekend's dip after a week: ${dipBefore}`);
  learn(monday, 4.5 * 1440);
  const after = variances();
  for (let k = 3; k < m; k++) {
    // Discounted, they grew 4.8 times over these 4.5 days (2 periods' half-life).
    assert.ok(after[k]! <= before[k]! * (1 + 1e-9), `variance ${k}: ${before[k]} -> ${after[k]}`);
  }
  assert.ok(Math.abs(dip() - dipBefore) < 0.5, `the weekend's dip: ${dipBefore} -> ${dip()}`);
  assert.ok(after[1]! > 0 && after[1]! < 0.1, `the first harmonic's variance: ${after[1]}`);
});

/**
 * `weeks` of minutes from a Monday: load 1000 swinging 60% over the day (trough at 03:00), a
 * weekend `dip` lower, and AR(0.5) noise of 4% of the load, so the weekend is quieter.
 */
function load(seed: string, weeks: number, dip: number): number[] {
  const rng = new Prng(seed);
  let e = 0;
  return Array.from({ length: weeks * 7 * 1440 }, (_, i) => {
    const hours = ((i * DT) % DAY_US) / 3_600e6;
    const level = 1000 * (1 - 0.6 * Math.cos(2 * Math.PI * (hours - 3) / 24)) *
      (1 - dip * weekendness(T0 + i * DT));
    e = 0.5 * e + Math.sqrt(0.75) * rng.normal();
    return level * (1 + 0.04 * e);
  });
}

function changes(values: readonly number[]): CollapseChange[] {
  const state = collapseKernel.init({ ...defaultCollapseConfig, ...metricsCollapseConfig }, "c");
  return runMinutes(state, values).changes;
}

test("a weekend quieter with its lower load is no change with the metrics settings", () => {
  // Noise that grows with the load: a weekend at 60% of the load is quieter than the weekday
  // nights the noise's daily season knows. Without the weekend in the noise's season, its
  // Saturdays and Mondays read as changes in the noise (31 after the first week on these six
  // series before).
  const late: number[] = [];
  for (const seed of ["a", "b", "c", "d", "e", "f"]) {
    const found = changes(load(seed, 3, 0.4)).map((c) => c.changeIndex);
    late.push(...found.filter((j) => j >= 7 * 1440));
  }
  assert.ok(late.length <= 4, JSON.stringify(late));
});

test.run();
