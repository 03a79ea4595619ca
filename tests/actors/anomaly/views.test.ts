/**
 * The anomaly kernel's views beyond the level: flat runs (a frozen exporter), settling after a
 * lasting shift (one report, not one per hour of the next day), and random walks (scored by their
 * increments, not by their new highs and lows), and jumps (scored by their tail probability, so
 * the second jump of a size is found as the first was).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type AnomalyConfig,
  anomalyKernel,
  type AnomalyResult,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly views");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5 * 60_000_000;
const PER_DAY = 288;

function run(v: number[], config: Partial<AnomalyConfig> = {}): AnomalyResult {
  const st = anomalyKernel.init({ ...defaultAnomalyConfig, ...config }, "c");
  const t = Float64Array.from(v, (_, i) => T0 + i * STEP_US);
  return anomalyKernel.step(st, { channel: "c", seq0: 0, t, v: Float64Array.from(v) });
}

function highs(r: AnomalyResult, from: number, to: number, threshold = 0.5): number {
  let n = 0;
  for (let i = from; i < to; i++) if (r.score[i]! >= threshold) n++;
  return n;
}

function maxScore(r: AnomalyResult, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, r.score[i]!);
  return m;
}

/** A daily cycle with noise, 5-minute steps. */
function daily(rng: Prng, n: number, noise = 1): number[] {
  return Array.from(
    { length: n },
    (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / PER_DAY) + noise * rng.normal(),
  );
}

test("a value frozen for 50 samples on a channel that never repeats is an anomaly", () => {
  const v = daily(new Prng(1), 4000);
  for (let i = 3000; i < 3050; i++) v[i] = v[2999]!;
  const r = run(v);
  assert.is(highs(r, 2900, 3000), 0, "nothing before the freeze");
  let first = -1;
  for (let i = 3000; i < 3050 && first < 0; i++) if (r.score[i]! >= 0.5) first = i;
  // The run reaches 7 samples (bin 3) at sample 3006: a run that long was never seen.
  assert.is(first, 3006);
});

test("a channel whose values often repeat does not alarm on a run of them", () => {
  // Integer counts around 3: a third of the values repeat the last one, and runs of 7 happen.
  const rng = new Prng(2);
  const v = Array.from({ length: 4000 }, () => rng.poisson(0.3));
  for (let i = 3000; i < 3050; i++) v[i] = 0;
  const r = run(v);
  assert.ok(maxScore(r, 3000, 3050) < 0.5, `score ${maxScore(r, 3000, 3050)} in the run`);
});

test("a lasting level shift is reported once, not again at each hour of the next day", () => {
  // A shift of +12 on a daily cycle of ±10: the next day's values are known levels, but new for
  // their hour of the day, one hour after another.
  const counts = [6, 0].map((settle_alarm_hours) => {
    const v = daily(new Prng(3), 20 * PER_DAY);
    for (let i = 12 * PER_DAY; i < v.length; i++) v[i] = v[i]! + 12;
    const r = run(v, { settle_alarm_hours });
    // From the second hour of the shift to the end of its first day.
    return highs(r, 12 * PER_DAY + 12, 13 * PER_DAY);
  });
  // Settled, only the level view's: the shifted peak beyond the range seen, and climbing higher.
  assert.ok(counts[0]! <= 2, `settled: ${counts[0]} high scores`);
  assert.ok(counts[1]! >= counts[0]! + 3, `without settling: ${counts[1]}, settled ${counts[0]}`);
});

test("a level bin first seen within settle_hours is not new at any hour of the day", () => {
  // A channel that climbs to a new plateau: each hour's context meets the new level in turn.
  const v = daily(new Prng(8), 20 * PER_DAY, 1).map((x, i) => i < 12 * PER_DAY ? x : x + 40);
  const count = (settle_hours: number) =>
    highs(run(v, { settle_hours, settle_alarm_hours: 0 }), 12 * PER_DAY + 12, 13 * PER_DAY);
  assert.ok(count(24) < count(0), `settled ${count(24)}, not ${count(0)}`);
});

/** A random walk of log prices with one jump of 20 sigma at `jumpAt`. */
function walk(seed: number, n: number, jumpAt: number): number[] {
  const rng = new Prng(seed);
  let lp = Math.log(100);
  return Array.from({ length: n }, (_, i) => {
    lp += 0.002 * rng.normal() + (i === jumpAt ? 0.04 : 0);
    return Math.exp(lp);
  });
}

test("a random walk is scored by its increments: its new highs are not anomalies, a jump is", () => {
  let walkHighs = 0, levelHighs = 0;
  for (const seed of [4, 5, 6]) {
    const v = walk(seed, 20_000, 15_000);
    const scored = run(v), levels = run(v, { walk_threshold: 0 });
    walkHighs += highs(scored, 2000, 14_990) + highs(scored, 15_100, 20_000);
    levelHighs += highs(levels, 2000, 14_990) + highs(levels, 15_100, 20_000);
    assert.ok(
      scored.score[15_000]! >= 0.5,
      `seed ${seed}: the jump scored ${scored.score[15_000]}`,
    );
  }
  assert.ok(walkHighs < levelHighs, `as a walk: ${walkHighs}, by level: ${levelHighs}`);
});

test("every jump of a similar size scores, not only the first: jumps score their tail probability", () => {
  const rng = new Prng(8);
  const at = [4000, 6000, 8000, 10_000, 12_000, 14_000];
  let lp = 0;
  const v = Array.from({ length: 15_000 }, (_, i) => {
    const k = at.indexOf(i);
    lp += 0.002 * rng.normal() + (k < 0 ? 0 : k % 2 === 0 ? 0.03 : -0.03);
    return Math.exp(lp);
  });
  const r = run(v);
  // Each jump is 15 sd: the increment view's tail bin is known after the first, the jump view's
  // tail probability (at most 6 in 15,000 samples) is not.
  for (const i of at) assert.ok(r.score[i]! >= 0.5, `the jump at ${i} scored ${r.score[i]}`);
});

test("walk_threshold 0 never treats a channel as a walk", () => {
  const v = walk(7, 5000, -1);
  const off = run(v, { walk_threshold: 0 });
  const huge = run(v, { walk_threshold: 1e6 });
  assert.equal(Array.from(off.score), Array.from(huge.score));
});

test.run();
