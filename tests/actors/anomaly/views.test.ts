/**
 * The anomaly kernel's views beyond the level: flat runs (a frozen exporter), settling after a
 * lasting shift (one report, not one per hour of the next day), and random walks (scored by their
 * increments, not by their new highs and lows), jumps (scored by their tail probability, so
 * the second jump of a size is found as the first was), and shifts (a CUSUM on the residual of a
 * level and a season: a slow ramp inside the levels each hour has seen), and trends (a range
 * still growing: a novelty next to a bin first met within the week is not scored).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyActor,
  type AnomalyConfig,
  anomalyKernel,
  type AnomalyResult,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { WALK_RATIO, WALK_THRESHOLD } from "../../../actors/anomaly/_state.ts";

const test = suite("anomaly views");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5 * 60_000_000;
const PER_DAY = 288;

/** `walk`: the walk test's ratio in place of WALK_RATIO (0: never a walk), for a contrast. */
function run(
  v: number[],
  config: Partial<AnomalyConfig> = {},
  walk = WALK_RATIO,
): AnomalyResult {
  const st = anomalyKernel.init({ ...defaultAnomalyConfig, ...config }, "c");
  st.s[WALK_THRESHOLD] = walk;
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
  // settle_hours after an incident opens (the shift's own, opened by the level view).
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
  const neither = count({ settle_hours: 0 });
  assert.ok(neither >= settled + 3, `without settling: ${neither}, settled ${settled}`);
});

test("a level bin first seen within settle_hours is not new at any hour of the day", () => {
  // A channel that climbs to a new plateau: each hour's context meets the new level in turn.
  const v = daily(new Prng(8), 20 * PER_DAY, 1).map((x, i) => i < 12 * PER_DAY ? x : x + 40);
  const count = (settle_hours: number) =>
    highs(run(v, { settle_hours }), 12 * PER_DAY + 12, 13 * PER_DAY);
  assert.ok(count(24) < count(0), `settled ${count(24)}, not ${count(0)}`);
});

test("for settle_hours after an incident opens, a value just beyond the range seen is not 1 outright", () => {
  // A step of +5 on noise of sd 1 opens an incident; the range's upper edge then moves up with the
  // new level. A sample 8% of the range above the highest value seen so far, in a level bin already
  // seen, is the same change meeting the old range's edge (as a shifted series' next daily peak
  // does), not a new anomaly, within a day of the incident; two days later it alarms as before.
  const rng = new Prng(9);
  const n = 4000;
  const v = Array.from({ length: n }, (_, i) => rng.normal() + (i < 3000 ? 0 : 5));
  const poke = (at: number) => {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < at; i++) {
      lo = Math.min(lo, v[i]!);
      hi = Math.max(hi, v[i]!);
    }
    v[at] = hi + 0.08 * (hi - lo);
  };
  const soon = 3000 + 100; // 8 hours after the step (5-minute samples)
  const later = 3000 + 600; // 50 hours after it
  poke(soon);
  poke(later);
  const r = run(v);
  assert.ok(r.score[3000]! >= 0.5, `the step scores ${r.score[3000]}`);
  assert.ok(r.score[soon]! < 0.5, `within a day of the incident: ${r.score[soon]}`);
  // Two days after it, it alarms as before (a full raw score, capped by the channel's record of
  // such rises: its young bins' few, and the step's own).
  assert.ok(r.score[later]! >= 0.8, `two days after it: ${r.score[later]}`);
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
    const scored = run(v), levels = run(v, {}, 0);
    walkHighs += highs(scored, 2000, 14_990) + highs(scored, 15_100, 20_000);
    levelHighs += highs(levels, 2000, 14_990) + highs(levels, 15_100, 20_000);
    assert.ok(
      scored.score[15_000]! >= 0.5,
      `seed ${seed}: the jump scored ${scored.score[15_000]}`,
    );
  }
  assert.ok(walkHighs < levelHighs, `as a walk: ${walkHighs}, by level: ${levelHighs}`);
});

test("a channel judged a walk stays one until its walk ratio falls below half the threshold", () => {
  // A walk whose volatility doubles every other 2,000 samples (a market's calm and stressed
  // regimes): its increments' mean square rises faster than its level's variance, so the walk
  // ratio dips under the threshold (0.6) after each switch, though the channel is a walk
  // throughout. Judged by the threshold alone, it was not a walk in those frames, and its new
  // highs and lows were scored as levels.
  const rng = new Prng(11);
  let lp = Math.log(100);
  const n = 20_000;
  const v = Array.from({ length: n }, (_, i) => {
    lp += (Math.floor(i / 2000) % 2 === 1 ? 0.004 : 0.002) * rng.normal();
    return Math.exp(lp);
  });
  const st = anomalyKernel.init(defaultAnomalyConfig, "c");
  let frames = 0, above = 0, walks = 0, entered = false;
  for (let i = 0; i < n; i += 100) {
    const t = Float64Array.from({ length: 100 }, (_, k) => T0 + (i + k) * STEP_US);
    anomalyKernel.step(st, { channel: "c", seq0: i, t, v: Float64Array.from(v.slice(i, i + 100)) });
    const d = anomalyActor.describeState!(st) as Record<string, number>;
    const ratio = (d.walk_variance! * 2 * 0.001) / d.increment_mean_square!;
    entered ||= d.walk === 1;
    if (!entered) continue;
    frames++;
    if (ratio >= 0.6) above++;
    if (d.walk === 1) walks++;
  }
  assert.ok(frames > 150, `judged a walk only after ${200 - frames} frames`);
  // Here the ratio was at or above 0.6 in 47 of 189 frames, and the channel judged a walk in 127
  // (86 of 187 before the walk test also measured the increments over the level variance's span).
  assert.ok(above < 0.8 * frames, `the ratio was at or above 0.6 in ${above} of ${frames} frames`);
  assert.ok(
    walks >= above + 0.15 * frames,
    `judged a walk in ${walks} of ${frames} frames, the ratio above the threshold in ${above}`,
  );
});

test("a walk that turns more volatile stays a walk: its increments are also measured over the level's span", () => {
  // Walks whose volatility triples every other 3,000 samples. At each switch to the wilder stretch
  // the increments' recent mean square (span 100) triples within a few hundred samples, the
  // level's variance (span 1,000) follows only over its span: against the recent mean square
  // alone the ratio falls under the threshold and the channel stops being judged a walk just
  // when its new highs and lows come fastest. The slow mean square (span 1,000) keeps pace.
  let frames = 0, walks = 0;
  for (const seed of [11, 12, 13, 14, 15, 16]) {
    const rng = new Prng(seed);
    let lp = Math.log(100);
    const n = 18_000;
    const v = Array.from({ length: n }, (_, i) => {
      lp += (Math.floor(i / 3000) % 2 === 1 ? 0.006 : 0.002) * rng.normal();
      return Math.exp(lp);
    });
    const st = anomalyKernel.init(defaultAnomalyConfig, "c");
    for (let i = 0; i < n; i += 100) {
      const t = Float64Array.from({ length: 100 }, (_, k) => T0 + (i + k) * STEP_US);
      const frame = Float64Array.from(v.slice(i, i + 100));
      anomalyKernel.step(st, { channel: "c", seq0: i, t, v: frame });
      // The first 1,500 samples of each wilder stretch.
      if (Math.floor(i / 3000) % 2 === 0 || i % 3000 >= 1500) continue;
      frames++;
      if ((anomalyActor.describeState!(st) as Record<string, number>).walk === 1) walks++;
    }
  }
  // Here 131 of 270 frames are judged a walk; against the recent mean square alone, 72.
  assert.ok(walks >= 0.4 * frames, `judged a walk in ${walks} of ${frames} frames`);
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
      if (c.open && c.index >= 2 * day && !atSpike && c.index % (2 * day) >= 60) falseOpenings++;
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
      if (c.open && c.index >= 2 * day && rate(c.index) < 1) nightOpenings++;
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
      if (c.open && c.index >= 2 * day && !atDip) falseOpenings++;
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
  // 22 false openings here; 28 with the rule on the level and time-of-day views only.
  assert.ok(falseOpenings <= 25, `false openings: ${falseOpenings}`);
  assert.ok(found >= 54, `dips scoring high: ${found} of ${dips}`);
});

test("a ramp of 3 sd inside the daily range is found within 45 samples by the shift view", () => {
  // 20 days from a Monday, a ramp of 3 noise sds over 60 samples on the 18th (a Thursday): each
  // hour has seen its new level on other days' cycles, but not at this hour. Without the shift
  // view the first alarm came 56 samples in (seeds 1, 2) or never (seed 3, 0.44 at most).
  for (const seed of [1, 2, 3]) {
    const v = daily(new Prng(seed), 20 * PER_DAY);
    const from = 17 * PER_DAY + 100;
    for (let i = from; i < v.length; i++) v[i] = v[i]! + 3 * Math.min(1, (i - from + 1) / 60);
    const r = run(v);
    let first = -1;
    for (let i = from; i < from + 60 && first < 0; i++) if (r.score[i]! >= 0.5) first = i - from;
    assert.ok(first >= 0 && first < 45, `seed ${seed}: first alarm ${first} samples into the ramp`);
  }
});

test("a slow ramp does not widen the scale that judges it: 3 sd over 300 samples is found early", () => {
  // The shift view's scale remembers 500 samples, longer than the ramp: with 200 (20 blocks of
  // 10) it learned the ramp's own residuals as spread, and the first alarms came later (mean 133
  // samples into the ramp over these seeds, 111 now).
  let total = 0;
  const seeds = [1, 2, 3, 4, 5, 6];
  for (const seed of seeds) {
    const v = daily(new Prng(seed), 20 * PER_DAY);
    const from = 17 * PER_DAY + 100;
    for (let i = from; i < v.length; i++) v[i] = v[i]! + 3 * Math.min(1, (i - from + 1) / 300);
    const r = run(v);
    let first = -1;
    for (let i = from; i < from + 350 && first < 0; i++) if (r.score[i]! >= 0.5) first = i - from;
    assert.ok(first >= 0, `seed ${seed}: no alarm in the ramp`);
    total += first;
  }
  assert.ok(total / seeds.length < 120, `mean first alarm ${total / seeds.length} samples in`);
});

/** 0 on weekdays, 1 at weekends, with two-hour ramps centred on Saturday and Monday 00:00 UTC. */
function weekendness(i: number): number {
  const h = (i * STEP_US / 3_600e6) % 168; // hours since Monday 00:00 (T0 is a Monday)
  const ramp = (x: number) => x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x);
  return ramp((h - 119) / 2) - ramp((h - 167) / 2) + (h < 1 ? 1 - ramp((h + 1) / 2) : 0);
}

test("the hours around a weekend's start meet a blend of Friday's and Saturday's season", () => {
  // Six weeks of a daily cycle whose level dips by 30% at weekends, over two hours around
  // midnight. The shift view's season interpolates towards the neighbouring hour in time, so
  // Friday 23:30 to Saturday 00:30 blend the weekday and weekend buckets; when the neighbour was
  // taken on the same kind of day, the detector alarmed 9 times over these seeds between Friday
  // 23:00 and Saturday 01:00.
  let alarms = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rng = new Prng(seed);
    let ar = 0;
    const v = Array.from({ length: 6 * 7 * PER_DAY }, (_, i) => {
      ar = 0.5 * ar + 0.87 * rng.normal();
      const season = 1 + 0.3 * Math.sin((2 * Math.PI * i) / PER_DAY);
      return 100 * season * (1 - 0.3 * weekendness(i)) + 3 * ar;
    });
    const r = run(v);
    for (let week = 2; week < 6; week++) {
      const saturday = (7 * week + 5) * PER_DAY; // T0 is a Monday
      alarms += highs(r, saturday - 12, saturday + 12);
    }
  }
  assert.is(alarms, 0);
});

/**
 * Openings from day 12 on, seeds 1-4, of four weeks of a gauge a minute (a daily cycle of ±30%
 * and AR(1) noise of sd 3) that is `lift` higher from its first Saturday 08:00 to Monday 20:00.
 */
function openingsAfterFirstWeekend(lift: number): number[] {
  const perDay = 1440;
  const from = 5 * perDay + 8 * 60, to = 7 * perDay + 20 * 60; // T0 is a Monday
  return [1, 2, 3, 4].map((seed) => {
    const rng = new Prng(seed);
    let ar = 0;
    const v = Array.from({ length: 28 * perDay }, (_, i) => {
      ar = 0.5 * ar + 0.87 * rng.normal();
      const season = 1 + 0.3 * Math.sin((2 * Math.PI * i) / perDay);
      return 100 * season + 3 * ar + (i >= from && i < to ? lift : 0);
    });
    const st = anomalyKernel.init(defaultAnomalyConfig, "c");
    const t = Float64Array.from(v, (_, i) => T0 + i * 60_000_000);
    const r = anomalyKernel.step(st, { channel: "c", seq0: 0, t, v: Float64Array.from(v) });
    return r.changes.filter((c) => c.open && c.index >= 12 * perDay).length;
  });
}

test("a lasting change during a channel's first weekend leaves no false shift at the weekends after", () => {
  // The first visit of each weekend bucket from Saturday 08:00 falls inside the change: learnt
  // alone, it held the change (+10, over 3 sds) for weeks, and each weekend after, its hours
  // kicked the level with a false shift at their edges (Saturday 08:00, Sunday 00:00, Monday
  // 00:00). Shrunk towards the weekdays' same hour (moved by how the weekend's hours seen so far
  // differ), the weekends after alarm no more than those of the same channel without the change:
  // 13 openings against 18 over these seeds; with the first visit alone there were 54.
  const plain = openingsAfterFirstWeekend(0);
  const lifted = openingsAfterFirstWeekend(10);
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  assert.ok(
    sum(lifted) <= sum(plain) + 4,
    `openings ${lifted} against ${plain} without the change`,
  );
});

test("a walk ratio of 0 never treats a channel as a walk", () => {
  const v = walk(7, 5000, -1);
  const off = run(v, {}, 0);
  const huge = run(v, {}, 1e6);
  assert.equal(Array.from(off.score), Array.from(huge.score));
});

test.run();
