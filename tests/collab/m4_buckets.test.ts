import { suite } from "uvu";
import * as assert from "uvu/assert";
import { M4Buckets } from "../../collab/history/m4_buckets.ts";
import { Prng } from "../../sim/mod.ts";

const test = suite("M4 buckets");
const SEED = 31;

/** A random walk of n samples 1 s apart from t0 (µs), with one spike. */
function walk(n: number, prng: Prng, spikeAt: number) {
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0, x = 100; i < n; i++) {
    t[i] = 1e15 + i * 1e6;
    x += prng.normal();
    v[i] = i === spikeAt ? x + 1000 : x;
  }
  return { t, v };
}

test("points() keeps each bucket's first, min, max and last, as a brute force finds them", () => {
  const prng = new Prng(SEED);
  const { t, v } = walk(86_400, prng, 40_000);
  const m4 = new M4Buckets({ t0: t[0]!, t1: t[t.length - 1]! + 1, points_max: 1000 });
  // Frames of uneven sizes, as they come off the stream.
  for (let at = 0; at < t.length;) {
    const n = 1 + Math.floor(prng.next() * 500);
    m4.add(t.subarray(at, at + n), v.subarray(at, at + n));
    at += n;
  }
  const got = m4.points();
  assert.is(got.samples, 86_400, `seed ${SEED}`);
  assert.ok(got.t.length <= 1000 && got.t.length > 900, `${got.t.length} points`);
  assert.ok(got.v.includes(v[40_000]!), "the spike is kept");
  const expected: number[] = [];
  const width = (t[t.length - 1]! + 1 - t[0]!) / 250;
  for (let b = 0; b < 250; b++) {
    const idx: number[] = [];
    for (let i = 0; i < t.length; i++) {
      if (Math.min(249, Math.floor((t[i]! - t[0]!) / width)) === b) idx.push(i);
    }
    const vs = idx.map((i) => v[i]!);
    const lo = idx[vs.indexOf(Math.min(...vs))]!, hi = idx[vs.indexOf(Math.max(...vs))]!;
    for (const i of [...new Set([idx[0]!, lo, hi, idx.at(-1)!])].sort((a, b) => a - b)) {
      expected.push(t[i]!);
    }
  }
  assert.equal([...got.t], expected);
});

test("points() gives every sample, in time order, when they fit, whatever the frames' order", () => {
  const { t, v } = walk(100, new Prng(SEED), 50);
  const m4 = new M4Buckets({ t0: t[10]!, t1: t[90]!, points_max: 400 });
  m4.add(t.subarray(50), v.subarray(50));
  m4.add(t.subarray(0, 50), v.subarray(0, 50));
  const got = m4.points();
  assert.equal([...got.t], [...t.subarray(10, 90)]);
  assert.equal([...got.v], [...v.subarray(10, 90)]);
  assert.is(got.samples, 80);
});

test("points() gives every sample up to points_max of them, and bucket points from one more", () => {
  const { t, v } = walk(1000, new Prng(SEED), 500);
  for (const n of [400, 401]) {
    const m4 = new M4Buckets({ t0: t[0]!, t1: t[999]! + 1, points_max: 400 });
    // In frames, with a NaN value (skipped, not kept) among them.
    const w = v.slice(0, n + 1);
    w[7] = NaN;
    for (let at = 0; at <= n; at += 60) {
      m4.add(t.subarray(at, Math.min(at + 60, n + 1)), w.subarray(at, Math.min(at + 60, n + 1)));
    }
    const got = m4.points();
    assert.is(got.samples, n, `${n} samples`);
    const kept = [...t.subarray(0, n + 1)].filter((_, i) => i !== 7);
    if (n === 400) assert.equal([...got.t], kept, "every sample, as it is");
    else {
      assert.ok(got.t.length < n, `${got.t.length} points of ${n} samples`);
      assert.equal(got.t[0], t[0], "each bucket's first");
      assert.equal(got.t.at(-1), t[n], "the last bucket's last");
    }
  }
});

test("new M4Buckets() rejects an empty range and too few points, naming the values", () => {
  assert.throws(() => new M4Buckets({ t0: 5, t1: 5, points_max: 8 }), /t0 5 and t1 5/);
  assert.throws(() => new M4Buckets({ t0: 0, t1: 5, points_max: 3 }), /points_max .* got 3/);
});

test.run();
