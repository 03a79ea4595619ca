import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type CollapseChange,
  collapseKernel,
  type CollapseResult,
  type CollapseState,
  collapseStats,
  describeCollapse,
  HISTORY_SAMPLES,
  SEVERITY_MAX,
  VALUE_ABS_MAX,
} from "../../../actors/collapse/kernel.ts";
import { type CollapseConfig, defaultCollapseConfig } from "../../../actors/collapse/config.ts";
import { gammaHalfRatio } from "../../../actors/collapse/_gamma_ratio.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("collapse kernel");
const SEED = 20240;
const T0 = 1_700_000_000_000_000;
const DT = 1_000_000;

function config(over: Partial<CollapseConfig> = {}): CollapseConfig {
  return { ...defaultCollapseConfig, ...over };
}

/** Feeds `values` (times 1 s apart unless given) in frames of `batch`; collects every result. */
function feed(
  state: CollapseState,
  values: ArrayLike<number>,
  options: { batch?: number; times?: ArrayLike<number>; from?: number } = {},
): { changes: CollapseChange[]; results: CollapseResult[]; prob: number[]; runLength: number[] } {
  const batch = options.batch ?? 500;
  const from = options.from ?? 0;
  const changes: CollapseChange[] = [];
  const results: CollapseResult[] = [];
  const prob: number[] = [];
  const runLength: number[] = [];
  for (let i = 0; i < values.length; i += batch) {
    const n = Math.min(batch, values.length - i);
    const v = Float64Array.from({ length: n }, (_, k) => values[i + k]!);
    const t = Float64Array.from(
      { length: n },
      (_, k) => options.times ? options.times[i + k]! : T0 + (from + i + k) * DT,
    );
    const r = collapseKernel.step(state, { channel: "c", seq0: from + i, t, v });
    results.push(r);
    changes.push(...r.changes);
    prob.push(...r.changeProb);
    runLength.push(...r.runLength);
  }
  return { changes, results, prob, runLength };
}

function gaussian(seed: number | string, n: number, mean = 0, sd = 1): number[] {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => mean + sd * rng.normal());
}

/** lgamma by Lanczos (g = 7, 9 terms), the textbook reference. */
function lgammaRef(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

test("gammaHalfRatio() equals Gamma(a+1/2)/Gamma(a) to 1e-7 relative for a from 0.5 to 1e5", () => {
  let worst = 0;
  for (let a = 0.5; a < 1e5; a *= 1.01) {
    const exact = Math.exp(lgammaRef(a + 0.5) - lgammaRef(a));
    worst = Math.max(worst, Math.abs(gammaHalfRatio(a) / exact - 1));
  }
  assert.ok(worst < 1e-7, `worst relative error ${worst}`);
  // Known values: Gamma(1.5)/Gamma(1) = sqrt(pi)/2, Gamma(2.5)/Gamma(2) = 3 sqrt(pi)/4.
  assert.ok(Math.abs(gammaHalfRatio(1) - Math.sqrt(Math.PI) / 2) < 1e-7);
  assert.ok(Math.abs(gammaHalfRatio(2) - 3 * Math.sqrt(Math.PI) / 4) < 1e-7);
});

test("step() places a 3-sigma upward mean shift where it began and reports both regimes", () => {
  const values = [...gaussian(SEED, 400, 10, 1), ...gaussian(SEED + 1, 200, 13, 1)];
  const state = collapseKernel.init(config(), "c");
  const { changes } = feed(state, values);
  assert.is(changes.length, 1, JSON.stringify(changes));
  const c = changes[0]!;
  assert.ok(Math.abs(c.changeIndex - 400) <= 2, `changeIndex ${c.changeIndex}`);
  assert.is(c.changeTs, T0 + c.changeIndex * DT);
  assert.is(c.delaySamples, c.index - c.changeIndex);
  assert.ok(c.delaySamples >= 1 && c.delaySamples <= 10, `delay ${c.delaySamples}`);
  assert.is(c.ts, T0 + c.index * DT);
  assert.is(c.direction, "up");
  assert.ok(Math.abs(c.meanBefore - 10) < 0.2, `meanBefore ${c.meanBefore}`);
  assert.ok(Math.abs(c.spreadBefore - 1) < 0.15, `spreadBefore ${c.spreadBefore}`);
  assert.ok(Math.abs(c.meanAfter - 13) < 1.2, `meanAfter ${c.meanAfter}`);
  assert.ok(c.severity > 1.5 && c.severity < 6, `severity ${c.severity}`);
  assert.ok(c.probability >= defaultCollapseConfig.confirm_threshold);
});

test("step() reports a downward shift as direction down, and every change of a staircase once", () => {
  const levels = [0, -4, 2, -1];
  const values = levels.flatMap((m, k) => gaussian(`stairs-${k}`, 300, m, 1));
  const state = collapseKernel.init(config(), "c");
  const { changes } = feed(state, values);
  assert.equal(changes.map((c) => c.direction), ["down", "up", "down"]);
  changes.forEach((c, k) => {
    const truth = 300 * (k + 1);
    assert.ok(Math.abs(c.changeIndex - truth) <= 3, `change ${k} at ${c.changeIndex}`);
  });
});

test("step() detects a fourfold increase of the spread with a severity of about log2(4)", () => {
  const values = [...gaussian(SEED + 2, 500, 0, 1), ...gaussian(SEED + 3, 300, 0, 4)];
  const state = collapseKernel.init(config(), "c");
  const { changes } = feed(state, values);
  assert.is(changes.length, 1, JSON.stringify(changes));
  const c = changes[0]!;
  assert.ok(Math.abs(c.changeIndex - 500) <= 5, `changeIndex ${c.changeIndex}`);
  assert.ok(c.spreadAfter / c.spreadBefore > 2.5, `spreads ${c.spreadBefore} ${c.spreadAfter}`);
  assert.ok(c.severity > 1.3, `severity ${c.severity}`);
});

test("step() keeps false alarms under 1 per 10k samples of Gaussian and Student-t(3) noise", () => {
  const rng = new Prng(SEED + 4);
  const g = Array.from({ length: 20_000 }, () => 50 + 2 * rng.normal());
  const t = Array.from({ length: 20_000 }, () => -3 + 0.5 * rng.studentT(3));
  const counts = [g, t].map((values) => {
    const state = collapseKernel.init(config(), "c");
    const { changes, prob } = feed(state, values);
    assert.ok(prob.every((p) => p >= 0 && p <= 1));
    return changes.length;
  });
  assert.is(counts[0], 0);
  assert.ok(counts[1]! <= 2, `${counts[1]} false alarms in 20k samples of t(3) noise`);
});

test("step() does not read a single 50-sigma outlier, or three 8-sigma ones, as a change", () => {
  const values = gaussian(SEED + 5, 1000);
  values[500] = 50;
  values[700] = 8;
  values[720] = -8;
  values[740] = 8;
  const state = collapseKernel.init(config(), "c");
  const { changes, prob } = feed(state, values);
  assert.equal(changes, []);
  assert.ok(prob[500]! < defaultCollapseConfig.suspect_threshold, `prob at outlier ${prob[500]}`);
  // The outlier hardly moves the regime's level: it entered with a tiny inlier weight.
  assert.ok(Math.abs(collapseStats(state).level) < 0.2, `level ${collapseStats(state).level}`);
});

test("step() gives the same outputs whatever the frame boundaries", () => {
  const values = [...gaussian(SEED + 6, 300, 0, 1), ...gaussian(SEED + 7, 300, 5, 2)];
  const a = collapseKernel.init(config(), "c");
  const b = collapseKernel.init(config(), "c");
  const ra = feed(a, values, { batch: 1 });
  const rb = feed(b, values, { batch: 257 });
  assert.equal(ra.prob, rb.prob);
  assert.equal(ra.runLength, rb.runLength);
  assert.equal(ra.changes, rb.changes);
  assert.equal(collapseKernel.save(a), collapseKernel.save(b));
});

test("save() and load() are exact: a loaded state steps to bit-identical results", () => {
  const values = [...gaussian(SEED + 8, 700, 1, 1), ...gaussian(SEED + 9, 500, -2, 1)];
  const a = collapseKernel.init(config(), "c");
  feed(a, values.slice(0, 650));
  const bytes = collapseKernel.save(a);
  const b = collapseKernel.load(bytes);
  assert.equal(collapseKernel.save(b), bytes);
  const ra = feed(a, values.slice(650), { from: 650 });
  const rb = feed(b, values.slice(650), { from: 650 });
  assert.equal(ra.prob, rb.prob);
  assert.equal(ra.changes, rb.changes);
  assert.is(ra.changes.length, 1);
  assert.equal(collapseKernel.save(a), collapseKernel.save(b));
});

test("load() rejects bytes of the wrong length or format, naming what it got", () => {
  assert.throws(() => collapseKernel.load(new Uint8Array(13)), /multiple of 8 bytes.*got 13/);
  const bytes = collapseKernel.save(collapseKernel.init(config(), "c"));
  assert.throws(() => collapseKernel.load(bytes.subarray(0, bytes.length - 8)), /do not fit/);
  const wrong = bytes.slice();
  new DataView(wrong.buffer).setFloat64(0, 99, true);
  assert.throws(() => collapseKernel.load(wrong), /format must be 5 to 10, got 99/);
});

test("the run-length hypotheses never exceed runs_max, and configure() can shrink and grow it", () => {
  const values = gaussian(SEED + 10, 3000, 0, 1);
  const state = collapseKernel.init(config({ runs_max: 8 }), "c");
  const { results } = feed(state, values.slice(0, 1000), { batch: 50 });
  assert.ok(results.every((r) => r.runs <= 8));
  assert.is(collapseStats(state).runs, 8);
  collapseKernel.configure!(state, config({ runs_max: 4 }));
  assert.is(collapseStats(state).runs, 4);
  const sum = state.prob.subarray(0, 4).reduce((s, p) => s + p, 0);
  assert.ok(Math.abs(sum - 1) < 1e-12, `probabilities sum to ${sum}`);
  feed(state, values.slice(1000, 2000), { from: 1000 });
  assert.is(collapseStats(state).runs, 4);
  collapseKernel.configure!(state, config({ runs_max: 64 }));
  const loaded = collapseKernel.load(collapseKernel.save(state));
  const shifted = values.slice(2000).map((x, i) => x + (i >= 500 ? 4 : 0));
  const { changes } = feed(loaded, shifted, { from: 2000 });
  assert.is(changes.length, 1);
  assert.ok(Math.abs(changes[0]!.changeIndex - 2500) <= 2, `at ${changes[0]!.changeIndex}`);
  assert.ok(collapseStats(loaded).runs > 8);
});

test("configure() applies a new hazard and threshold to a live state", () => {
  const values = [...gaussian(SEED + 11, 400), ...gaussian(SEED + 12, 12, 2)];
  const strictConfig = config({ confirm_threshold: 0.999999, hazard: 1e-7 });
  const strict = collapseKernel.init(strictConfig, "c");
  const a = feed(strict, values);
  assert.equal(a.changes, []);
  const loose = collapseKernel.init(strictConfig, "c");
  feed(loose, values.slice(0, 400));
  collapseKernel.configure!(loose, config({ confirm_threshold: 0.9, hazard: 0.01 }));
  const b = feed(loose, values.slice(400), { from: 400 });
  assert.is(b.changes.length, 1, "the looser configuration confirms the shift");
  assert.ok(Math.abs(b.changes[0]!.changeIndex - 400) <= 2);
  assert.ok(b.prob[0]! > 100 * a.prob[400]!, `${b.prob[0]} vs ${a.prob[400]}`);
});

test("missing samples (NaN, Infinity) give NaN outputs, count in indices and leave the model alone", () => {
  const base = [...gaussian(SEED + 13, 300), ...gaussian(SEED + 14, 200, 4)];
  const holed = base.slice();
  for (let i = 100; i < 150; i++) holed[i] = NaN;
  holed[200] = Infinity;
  holed[201] = -Infinity;
  const state = collapseKernel.init(config(), "c");
  const { changes, prob, runLength, results } = feed(state, holed);
  assert.ok(Number.isNaN(prob[120]!) && Number.isNaN(runLength[200]!));
  assert.ok(!Number.isNaN(prob[199]!) && !Number.isNaN(prob[202]!));
  assert.is(results[0]!.missingSamples, 52);
  assert.is(changes.length, 1);
  assert.ok(Math.abs(changes[0]!.changeIndex - 300) <= 2, `at ${changes[0]!.changeIndex}`);
  const stats = collapseStats(state);
  assert.is(stats.samples, 500);
  assert.is(stats.validSamples, 448);
  // A series that starts with missing samples begins at its first valid one.
  const late = collapseKernel.init(config(), "c");
  const r = feed(late, [NaN, NaN, 5, 5.1, 4.9]);
  assert.equal(r.runLength.slice(0, 3), [NaN, NaN, 0]);
  assert.is(r.runLength[4], 2);
});

test("values beyond VALUE_ABS_MAX are missing samples, so their squares cannot overflow", () => {
  const values = gaussian(SEED + 19, 400, 1e140, 1e138);
  values[200] = 1e200;
  values[201] = -VALUE_ABS_MAX * 2;
  const state = collapseKernel.init(config(), "c");
  const { changes, prob, results } = feed(state, values);
  assert.equal(changes, []);
  assert.is(results[0]!.missingSamples, 2);
  assert.ok(Number.isNaN(prob[200]!) && Number.isNaN(prob[201]!));
  assert.ok(prob.every((p, i) => i === 200 || i === 201 || (p >= 0 && p <= 1)));
});

test("small integer counts are one change, not a regime per run of equal values", () => {
  // Counts repeat exactly; without the quantisation floor a run of equal values would look like
  // a regime of zero variance and infinite density.
  const rng = new Prng(SEED + 20);
  const values = Array.from({ length: 2000 }, (_, i) => rng.poisson(i >= 1500 ? 6 : 2));
  const { changes } = feed(collapseKernel.init(config(), "c"), values);
  assert.is(changes.length, 1, JSON.stringify(changes));
  assert.ok(Math.abs(changes[0]!.changeIndex - 1500) <= 5, `at ${changes[0]!.changeIndex}`);
  assert.ok(Math.abs(changes[0]!.meanBefore - 2) < 0.2 && changes[0]!.direction === "up");
});

test("a gap in time raises the hazard of the next sample as if the missed samples had passed", () => {
  const values = [...gaussian(SEED + 15, 300), ...gaussian(SEED + 16, 50, 2.5)];
  const regular = Array.from({ length: 350 }, (_, i) => T0 + i * DT);
  const gapped = regular.map((t, i) => i >= 300 ? t + 50 * DT : t);
  const a = feed(collapseKernel.init(config(), "c"), values, { times: regular });
  const b = feed(collapseKernel.init(config(), "c"), values, { times: gapped });
  assert.ok(b.prob[300]! > 5 * a.prob[300]!, `${b.prob[300]} vs ${a.prob[300]}`);
  // The shift is found where it began. (It may be confirmed later than without the gap: a young
  // regime with a slope can bridge the gap, since the model cannot tell a jump from a steep line
  // it did not see.)
  const at = (r: typeof a) => r.changes.find((c) => Math.abs(c.changeIndex - 300) <= 1);
  assert.ok(at(a) && at(b), JSON.stringify(b.changes.map((c) => [c.changeIndex, c.index])));
});

test("a constant series confirms nothing, then a step out of it is one change of capped severity", () => {
  const flat = [...new Array<number>(400).fill(5), ...new Array<number>(100).fill(7)];
  const state = collapseKernel.init(config(), "c");
  const { changes, prob } = feed(state, flat);
  assert.ok(prob.every((p) => Number.isFinite(p)));
  assert.is(changes.length, 1);
  const c = changes[0]!;
  assert.is(c.changeIndex, 400);
  assert.ok(c.delaySamples <= 5, `delay ${c.delaySamples}`);
  assert.equal([c.meanBefore, c.meanAfter, c.spreadBefore, c.spreadAfter], [5, 7, 0, 0]);
  assert.is(c.severity, SEVERITY_MAX);
  const zeros = collapseKernel.init(config(), "c");
  const z = feed(zeros, new Array<number>(300).fill(0));
  assert.equal(z.changes, []);
  assert.ok(z.prob.every((p) => Number.isFinite(p)));
});

test("a change detected later than the history keeps is placed at the oldest sample kept", () => {
  // A tiny shift with a very strict threshold is confirmed late; its index can never be earlier
  // than the history ring allows, and the regime before it keeps its moments.
  const values = [...gaussian(SEED + 17, 2000), ...gaussian(SEED + 18, 2000, 0.6)];
  const state = collapseKernel.init(config({ confirm_threshold: 0.999 }), "c");
  const { changes } = feed(state, values);
  for (const c of changes) {
    assert.ok(c.index - c.changeIndex < HISTORY_SAMPLES);
    assert.ok(Number.isFinite(c.meanBefore) && Number.isFinite(c.meanAfter));
  }
  assert.ok(changes.length >= 1);
});

test("a steady trend is one regime, where a flat-regime model reads a staircase", () => {
  // 20 noise sigmas of drift over 2,000 samples.
  const values = gaussian(SEED + 30, 2000).map((x, i) => x + 0.01 * i);
  const sloped = feed(collapseKernel.init(config(), "c"), values);
  const flat = feed(collapseKernel.init(config({ slope_prior: 0 }), "c"), values);
  assert.is(sloped.changes.length, 0, JSON.stringify(sloped.changes.map((c) => c.changeIndex)));
  assert.ok(flat.changes.length >= 3, `flat model: ${flat.changes.length} changes`);
  const st = collapseKernel.init(config(), "c");
  feed(st, values);
  assert.ok(Math.abs(collapseStats(st).slope - 0.01) < 0.002, `slope ${collapseStats(st).slope}`);
});

test("slope_carry centres a new regime's slope on the channel's trend; 0 presumes it flat", () => {
  // 0.05 noise scales per sample: the regime opened at the last sample starts on that trend.
  const values = gaussian(SEED + 36, 500).map((x, i) => x + 0.05 * i);
  const opened = (carry: number) => {
    const state = collapseKernel.init(config({ slope_carry: carry }), "c");
    feed(state, values.slice(0, 499));
    const trend = collapseStats(state).slope; // the most probable regime's, before sample 499
    feed(state, values.slice(499), { from: 499 });
    const newest = describeCollapse(state).hypotheses as Array<{ start: number; slope: number }>;
    return { run: newest.find((h) => h.start === 499)!, trend };
  };
  const carried = opened(1);
  assert.ok(Math.abs(carried.trend - 0.05) < 0.01, `trend ${carried.trend}`);
  assert.is(carried.run.slope, carried.trend);
  assert.is(opened(0).run.slope, 0);
});

test("after a shift in a trend, the new regime's line finds the trend sooner with slope_carry", () => {
  // A step of 8 noise scales at 1,000 in a trend of 0.05 per sample: 10 samples after it, the
  // most probable regime's slope, over 5 seeds, is nearer the trend when it carried the trend in.
  let errCarried = 0, errFlat = 0;
  for (let s = 0; s < 5; s++) {
    const values = gaussian(SEED + 40 + s, 1011).map((x, i) => x + 0.05 * i + (i >= 1000 ? 8 : 0));
    const slope = (carry: number) => {
      const state = collapseKernel.init(config({ slope_carry: carry }), "c");
      const { changes } = feed(state, values);
      assert.equal(changes.map((c) => c.changeIndex), [1000]);
      return collapseStats(state).slope;
    };
    errCarried += Math.abs(slope(1) - 0.05);
    errFlat += Math.abs(slope(0) - 0.05);
  }
  assert.ok(errCarried < errFlat, `carried ${errCarried}, flat ${errFlat}`);
});

test("a change of slope (a trend that starts) is one change, near where it began", () => {
  const values = gaussian(SEED + 31, 2000).map((x, i) => x + (i < 1000 ? 0 : 0.05 * (i - 1000)));
  const { changes } = feed(collapseKernel.init(config(), "c"), values);
  assert.is(changes.length, 1, JSON.stringify(changes.map((c) => c.changeIndex)));
  assert.ok(Math.abs(changes[0]!.changeIndex - 1000) <= 30, `at ${changes[0]!.changeIndex}`);
});

test("confirm_samples holds a change back until that many samples in a row reach the threshold", () => {
  const values = [...gaussian(SEED + 32, 800), ...gaussian(SEED + 33, 200, 4)];
  const one = feed(collapseKernel.init(config(), "c"), values).changes;
  const five = feed(collapseKernel.init(config({ confirm_samples: 5 }), "c"), values).changes;
  assert.is(one.length, 1);
  assert.is(five.length, 1);
  assert.is(five[0]!.changeIndex, one[0]!.changeIndex);
  assert.ok(five[0]!.index >= one[0]!.index + 4, `${five[0]!.index} vs ${one[0]!.index}`);
});

test("the phase walks stable -> suspect -> collapsed -> recovering -> stable sample by sample", () => {
  const values = [...gaussian(SEED + 34, 500), ...gaussian(SEED + 35, 300, 5)];
  const state = collapseKernel.init(config({ recover_samples: 40 }), "c");
  const phases: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const r = collapseKernel.step(state, {
      channel: "c",
      seq0: i,
      t: Float64Array.of(T0 + i * DT),
      v: Float64Array.of(values[i]!),
    });
    if (phases[phases.length - 1] !== r.phase) phases.push(r.phase);
  }
  assert.equal(phases.slice(0, 1), ["stable"]);
  const at = phases.indexOf("collapsed");
  assert.ok(at > 0, phases.join(" "));
  assert.equal(phases.slice(at, at + 3), ["collapsed", "recovering", "stable"], phases.join(" "));
  assert.is(collapseStats(state).phase, "stable");
});

test.run();
