/**
 * `stepAnomaly`'s views column (actors/anomaly/_views.ts): on series built to alarm through one
 * view, the alarm's sample names that view; a sample scoring 0 names none and every other names
 * one; and the column changes nothing: a labelled feed steps to the same bits with and without it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyKernel,
  defaultAnomalyConfig,
  stepAnomaly,
  VIEW,
  VIEW_NAMES,
} from "../../../actors/anomaly/mod.ts";
import { createMetricsFeed } from "../../../sim/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly views column");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5 * 60_000_000;
const PER_DAY = 288;

/** Scores and views of `v`, 5 minutes apart from a Monday, in one frame. */
function run(v: number[]): { score: Float64Array; view: Uint8Array } {
  const st = anomalyKernel.init(defaultAnomalyConfig, "c");
  const t = Float64Array.from(v, (_, i) => T0 + i * STEP_US);
  const view = new Uint8Array(v.length).fill(255);
  const r = stepAnomaly(st, { channel: "c", seq0: 0, t, v: Float64Array.from(v) }, undefined, view);
  return { score: r.score, view };
}

/** A daily cycle with noise, 5-minute steps. */
function daily(rng: Prng, n: number): number[] {
  return Array.from(
    { length: n },
    (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / PER_DAY) + rng.normal(),
  );
}

/** The first sample of [from, to) scoring 0.5 or more, and its view's name. */
function firstAlarm(r: ReturnType<typeof run>, from: number, to: number): [number, string] {
  for (let i = from; i < to; i++) if (r.score[i]! >= 0.5) return [i, VIEW_NAMES[r.view[i]!]!];
  return [-1, "no alarm"];
}

test("a spike far beyond the range seen is laid to the range rule", () => {
  const v = daily(new Prng(3), 3000);
  v[2500] = 200;
  const r = run(v);
  assert.equal(firstAlarm(r, 2500, 2501), [2500, "beyond the range"]);
});

test("a value frozen on a channel that never repeats is laid to the flat run", () => {
  const v = daily(new Prng(1), 4000);
  for (let i = 3000; i < 3050; i++) v[i] = v[2999]!;
  const r = run(v);
  assert.equal(firstAlarm(r, 3000, 3050), [3006, "flat run"]);
});

test("a jump of 15 sd on a random walk is laid to the jump view", () => {
  const rng = new Prng(8);
  let lp = 0;
  const v = Array.from({ length: 8000 }, (_, i) => {
    lp += 0.002 * rng.normal() + (i === 4000 || i === 6000 ? 0.03 : 0);
    return Math.exp(lp);
  });
  const r = run(v);
  // The second: the first is also new to the increment bins, the second only rare among jumps.
  assert.equal(firstAlarm(r, 6000, 6001), [6000, "jump"]);
});

test("a daily peak that does not come is laid to the time of day", () => {
  const v: number[] = [];
  for (let i = 0; i < 20 * PER_DAY; i++) {
    const hour = (i % PER_DAY) / 12, day = Math.floor(i / PER_DAY);
    v.push((hour >= 9 && hour < 17 && day !== 15 ? 50 : 10) + [0, 1, 0, -1][i % 4]!);
  }
  const r = run(v);
  const [at, view] = firstAlarm(r, 15 * PER_DAY, 16 * PER_DAY);
  assert.ok(at >= 0, "the day without its peak alarms");
  assert.is(view, "time of day");
});

test("a sample scoring 0 names no view, and every other names one", () => {
  const r = run(daily(new Prng(5), 6000));
  let scored = 0;
  for (let i = 0; i < r.score.length; i++) {
    if (r.score[i] === 0) assert.is(r.view[i], VIEW.none, `sample ${i}`);
    else {
      scored++;
      assert.ok(r.view[i]! >= VIEW.level && r.view[i]! <= VIEW.range, `sample ${i}: ${r.view[i]}`);
    }
  }
  assert.ok(scored > 10, `${scored} samples scored`);
});

test("a column shorter than the frame is refused, naming both lengths", () => {
  const st = anomalyKernel.init(defaultAnomalyConfig, "c");
  const frame = { channel: "c", seq0: 0, t: new Float64Array([1, 2]), v: new Float64Array(2) };
  assert.throws(() => stepAnomaly(st, frame, undefined, new Uint8Array(1)), /2 samples.*holds 1/);
});

test("the views column changes no output: a labelled feed steps to the same bits without it", () => {
  const feed = createMetricsFeed({ series: 5, seed: 3, batch: 97 });
  const plain = new Map<string, ReturnType<typeof anomalyKernel.init>>();
  const viewed = new Map<string, ReturnType<typeof anomalyKernel.init>>();
  let samples = 0, scored = 0;
  while (samples < 5 * 12_000) {
    for (const frame of feed.next()) {
      const a = plain.get(frame.channel) ?? anomalyKernel.init(defaultAnomalyConfig, "c");
      const b = viewed.get(frame.channel) ?? anomalyKernel.init(defaultAnomalyConfig, "c");
      plain.set(frame.channel, a);
      viewed.set(frame.channel, b);
      const ra = stepAnomaly(a, frame);
      const rb = stepAnomaly(b, frame, undefined, new Uint8Array(frame.v.length));
      for (const k of ["score", "expected", "spread"] as const) {
        const x = new Uint8Array(ra[k].buffer, ra[k].byteOffset, ra[k].byteLength);
        const y = new Uint8Array(rb[k].buffer, rb[k].byteOffset, rb[k].byteLength);
        assert.equal(y, x, `${k} of ${frame.channel} at ${frame.seq0}`);
      }
      assert.equal(rb.changes, ra.changes);
      samples += frame.v.length;
      for (const s of ra.score) if (s > 0) scored++;
    }
  }
  assert.ok(scored > 100, `${scored} samples scored`);
  for (const [channel, a] of plain) {
    assert.equal(anomalyKernel.save(viewed.get(channel)!), anomalyKernel.save(a), channel);
  }
});

test.run();
