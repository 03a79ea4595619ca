/**
 * The anomaly kernel's views beyond the level: flat runs (a frozen exporter), settling after a
 * lasting shift (one report, not one per hour of the next day), jumps (scored by their tail
 * probability, so the second jump of a size is found as the first was), counts (judged against a
 * Poisson count at their level), and trends (a range still growing: a novelty next to a bin first
 * met within the week is not scored).
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

test("a channel whose values often repeat alarms only on a run far longer than its own", () => {
  // Counts near 0: three values in four are 0, and runs of 7 to 20 zeros happen. A run of 20
  // zeros is ordinary here; a counter frozen for 60 samples on a channel of counts near 3 (where
  // a run of 7 equal values is about one in 10^4) is not. Runs score their tail probability less
  // 5 bits on such channels (before, nothing: the frozen counter was missed).
  const rng = new Prng(2);
  const v = Array.from({ length: 4000 }, () => rng.poisson(0.3));
  for (let i = 3000; i < 3020; i++) v[i] = 0;
  const r = run(v);
  assert.ok(maxScore(r, 3000, 3020) < 0.5, `score ${maxScore(r, 3000, 3020)} in the run`);
  const counts = Array.from({ length: 4000 }, () => rng.poisson(3));
  for (let i = 3000; i < 3060; i++) counts[i] = counts[2999]!;
  const frozen = run(counts);
  assert.ok(maxScore(frozen, 3000, 3060) >= 0.5, `frozen: ${maxScore(frozen, 3000, 3060)}`);
});

test("a lasting level shift is reported once, not again at each hour of the next day", () => {
  // A shift of +12 on a daily cycle of ±10: the next day's values are known levels, but new for
  // their hour of the day, one hour after another. Time-of-day novelties are not scored for
  // a day after an incident opens (the shift's own, opened by the level view).
  const count = (config: Partial<AnomalyConfig>) => {
    const v = daily(new Prng(3), 20 * PER_DAY);
    for (let i = 12 * PER_DAY; i < v.length; i++) v[i] = v[i]! + 12;
    const r = run(v, config);
    // From the second hour of the shift to the end of its first day.
    return highs(r, 12 * PER_DAY + 12, 13 * PER_DAY);
  };
  const settled = count({});
  // Only the level view's: the shifted peak beyond the range seen, and climbing higher.
  assert.ok(settled <= 2, `settled: ${settled} high scores`);
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

test("on a count channel a jump is measured in counts at least: a move of a few counts is no jump", () => {
  // Poisson counts at 0.15 a sample: the mean absolute change is about 0.26 counts, so a move of 2
  // or 3 counts is 8 to 12 of them, beyond the increment bins' range. Measured against at least one
  // count (the channel's resolution), it is not a jump; the other views still score it.
  let moves = 0, high = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const rng = new Prng(seed);
    const v = Array.from({ length: 20_000 }, () => rng.poisson(0.15));
    // One sample a minute, as the metrics feed's.
    const st = anomalyKernel.init(defaultAnomalyConfig, "c");
    const t = Float64Array.from(v, (_, i) => T0 + i * 60_000_000);
    const r = anomalyKernel.step(st, { channel: "c", seq0: 0, t, v: Float64Array.from(v) });
    for (let i = 2000; i < v.length; i++) {
      if (Math.abs(v[i]! - v[i - 1]!) < 2) continue;
      moves++;
      if (r.score[i]! >= 0.5) high++;
    }
  }
  assert.ok(moves > 400, `moves of 2 counts or more: ${moves}`);
  // 38 of them score high here; measured against the mean absolute change alone, 52 did.
  assert.ok(high <= 45, `moves of 2 counts or more scoring high: ${high} of ${moves}`);
});

test("on a count channel a value new to the bins is judged against a Poisson count at its level", () => {
  // Errors a minute on a daily curve whose rate moves every two days (3 to 23 a minute): after each
  // move, each hour's context meets levels it never saw, most of them what a Poisson count at the
  // new rate draws every few hundred samples. A spike of 30 counts a day stays an anomaly.
  const day = 1440;
  let falseOpenings = 0, spikes = 0, found = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const rng = new Prng(seed);
    const v: number[] = [];
    for (let i = 0; i < 10 * day; i++) {
      const offset = [0, 12, 4, 20, 8][Math.floor(i / (2 * day))]!;
      v.push(rng.poisson(offset + 3 + 2 * Math.sin((2 * Math.PI * i) / day)));
    }
    const spikeAt: number[] = [];
    for (let d = 2; d < 10; d++) {
      const i = d * day + 300 + rng.int(600);
      v[i] = v[i]! + 30;
      spikeAt.push(i);
    }
    const st = anomalyKernel.init(defaultAnomalyConfig, "c");
    const t = Float64Array.from(v, (_, i) => T0 + i * 60_000_000);
    const r = anomalyKernel.step(st, { channel: "c", seq0: 0, t, v: Float64Array.from(v) });
    for (const c of r.changes) {
      // Not false: an opening at a spike, or in the hour after the rate moved.
      const atSpike = spikeAt.some((i) => Math.abs(i - c.index) < 5);
      if (c.open && !c.restated && c.index >= 2 * day && !atSpike && c.index % (2 * day) >= 60) {
        falseOpenings++;
      }
    }
    for (const i of spikeAt) {
      spikes++;
      if (r.score[i]! >= 0.5) found++;
    }
  }
  // 1 false opening here; judged by the bins alone (without the count reference), 6. Before the
  // rule for ranges still growing, 11 and 23.
  assert.ok(falseOpenings <= 3, `false openings: ${falseOpenings}`);
  // 79 of 96 spikes score high: 83 before the rule for ranges still growing, 82 with its level
  // and time-of-day part alone (its slope part costs 3 here, none on bench detect's feeds).
  assert.ok(found >= 76, `spikes scoring high: ${found} of ${spikes}`);
});

test("a run of counts is judged at the rate expected as it began: zeros in a quiet hour are no frozen counter", () => {
  // Errors a minute at 8.1 by day and 0.1 in the hour around midnight: most of the channel's runs
  // are of a sample or two, so its runs of zeros at night are rare among them, but at 0.1 a minute
  // half an hour of zeros is ordinary. A counter frozen for an hour by day is found either way.
  const day = 1440;
  const rate = (i: number) => 0.1 + 8 * Math.min(1, 4 * Math.abs(Math.sin((Math.PI * i) / day)));
  let nightOpenings = 0, frozen = 0, found = 0;
  for (let seed = 1; seed <= 16; seed++) {
    const rng = new Prng(seed);
    const v = Array.from({ length: 9 * day }, (_, i) => rng.poisson(rate(i)));
    const at: number[] = [];
    for (let d = 4; d < 9; d++) {
      const i = d * day + 500 + rng.int(300);
      v.fill(v[i - 1]!, i, i + 60);
      at.push(i);
    }
    const st = anomalyKernel.init(defaultAnomalyConfig, "c");
    const t = Float64Array.from(v, (_, i) => T0 + i * 60_000_000);
    const r = anomalyKernel.step(st, { channel: "c", seq0: 0, t, v: Float64Array.from(v) });
    for (const c of r.changes) {
      if (c.open && !c.restated && c.index >= 2 * day && rate(c.index) < 1) nightOpenings++;
    }
    for (const i of at) {
      frozen++;
      if (maxScore(r, i, i + 60) >= 0.5) found++;
    }
  }
  // 26 openings in the quiet hours here; with runs judged by their tail among runs alone, 34.
  assert.ok(nightOpenings <= 30, `openings in the quiet hours: ${nightOpenings}`);
  assert.ok(found >= 78, `frozen counters found: ${found} of ${frozen}`);
});

/**
 * Three weeks of a gauge a minute growing 2% a day, with a daily swing of ±`swing` and AR(1)
 * noise of 1%, over 8 seeds, and a dip of 15% every other day from day 8 on: the openings away
 * from the dips after the first two days, and the dips scoring high.
 */
function trendOpenings(swing: number): { falseOpenings: number; dips: number; found: number } {
  const day = 1440;
  let falseOpenings = 0, dips = 0, found = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const rng = new Prng(seed);
    const v: number[] = [];
    let ar = 0;
    for (let i = 0; i < 21 * day; i++) {
      ar = 0.5 * ar + Math.sqrt(0.75) * rng.normal();
      const level = 50 * (1 + 0.02 * i / day) * (1 - swing * Math.cos((2 * Math.PI * i) / day));
      v.push(level * (1 + 0.01 * ar));
    }
    const dipAt: number[] = [];
    for (let d = 8; d < 21; d += 2) {
      const i = d * day + 300 + rng.int(600);
      v[i] = v[i]! * 0.85;
      dipAt.push(i);
    }
    const st = anomalyKernel.init(defaultAnomalyConfig, "c");
    const t = Float64Array.from(v, (_, i) => T0 + i * 60_000_000);
    const r = anomalyKernel.step(st, { channel: "c", seq0: 0, t, v: Float64Array.from(v) });
    for (const c of r.changes) {
      const atDip = dipAt.some((i) => Math.abs(i - c.index) < 5);
      if (c.open && !c.restated && c.index >= 2 * day && !atDip) falseOpenings++;
    }
    for (const i of dipAt) {
      dips++;
      if (r.score[i]! >= 0.5) found++;
    }
  }
  return { falseOpenings, dips, found };
}

test("a trend that carries each hour's values a bin further every few days is not a novelty each time", () => {
  // A swing of ±4%: each hour's context, and the level's, meet a bin next to one they first met
  // days ago, again and again.
  const { falseOpenings, dips, found } = trendOpenings(0.04);
  // 60 false openings here; scoring every novelty next to a bin first met within the week, 112.
  assert.ok(falseOpenings <= 80, `false openings: ${falseOpenings}`);
  // 56 of 56 dips score high, as before.
  assert.ok(found >= 54, `dips scoring high: ${found} of ${dips}`);
});

test("a trend under a wide daily swing grows the slope's range too: a slope next to one first met within the week is not new", () => {
  // A swing of ±30%: the steepest hours' slope grows with the level, 2% a day.
  const { falseOpenings, dips, found } = trendOpenings(0.3);
  // 47 false openings here (22 before version 22, whose settling rules for a new level bin and
  // the calibration are gone).
  assert.ok(falseOpenings <= 55, `false openings: ${falseOpenings}`);
  assert.ok(found >= 54, `dips scoring high: ${found} of ${dips}`);
});

test.run();
