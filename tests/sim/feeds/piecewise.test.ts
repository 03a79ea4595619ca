import { suite } from "uvu";
import * as assert from "uvu/assert";
import { piecewise } from "../../../sim/feeds/piecewise.ts";

const test = suite("piecewise");

function moments(xs: ArrayLike<number>, from: number, to: number) {
  let s = 0, s2 = 0, s4 = 0;
  const n = to - from;
  for (let i = from; i < to; i++) s += xs[i]!;
  const mean = s / n;
  for (let i = from; i < to; i++) {
    const d = xs[i]! - mean;
    s2 += d * d;
    s4 += d * d * d * d;
  }
  const variance = s2 / n;
  return { mean, sd: Math.sqrt(variance), kurtosis: s4 / n / (variance * variance) };
}

test("piecewise() is a pure function of its seed and options", () => {
  const a = piecewise(7, { length: 3000, kinds: ["mean", "variance", "trend"] });
  const b = piecewise(7, { length: 3000, kinds: ["mean", "variance", "trend"] });
  const c = piecewise(8, { length: 3000, kinds: ["mean", "variance", "trend"] });
  assert.equal(Array.from(a.values), Array.from(b.values));
  assert.equal(a.changes, b.changes);
  assert.equal(a.segments, b.segments);
  assert.not.equal(Array.from(a.values), Array.from(c.values));
});

test("piecewise() labels each segment start as a change, with lengths in the given range", () => {
  const p = piecewise("len", { length: 10_000, segmentMin: 50, segmentMax: 120 });
  assert.equal(p.changes, p.segments.slice(1).map((s) => s.start));
  const bounds = [0, ...p.changes, 10_000];
  for (let k = 1; k < bounds.length; k++) {
    const len = bounds[k]! - bounds[k - 1]!;
    // The last segment absorbs a remainder shorter than segmentMin.
    const max = k === bounds.length - 1 ? 120 + 49 : 120;
    assert.ok(len >= 50 && len <= max, `segment ${k} of ${len} samples`);
  }
  assert.ok(p.changes.length > 60);
});

test("piecewise() mean shifts move the level by shiftMin..shiftMax standard deviations", () => {
  const p = piecewise("mean", { length: 20_000, kinds: ["mean"], shiftMin: 2, shiftMax: 3 });
  for (let k = 1; k < p.segments.length; k++) {
    const prev = p.segments[k - 1]!, seg = p.segments[k]!;
    const shift = Math.abs(seg.mean - prev.mean) / prev.sd;
    assert.ok(shift >= 2 && shift <= 3, `shift ${shift}`);
    assert.is(seg.sd, prev.sd);
    const end = k + 1 < p.segments.length ? p.segments[k + 1]!.start : 20_000;
    const m = moments(p.values, seg.start, end);
    // The sample mean of >= 100 unit-variance samples is within 0.4 of the truth (4 standard errors).
    assert.ok(Math.abs(m.mean - seg.mean) < 0.4, `segment ${k}: ${m.mean} vs ${seg.mean}`);
  }
});

test("piecewise() variance shifts multiply or divide the spread by spreadMin..spreadMax", () => {
  const p = piecewise("var", { length: 20_000, kinds: ["variance"], spreadMin: 2, spreadMax: 4 });
  for (let k = 1; k < p.segments.length; k++) {
    const prev = p.segments[k - 1]!, seg = p.segments[k]!;
    const r = seg.sd / prev.sd;
    const factor = r >= 1 ? r : 1 / r;
    assert.ok(factor >= 2 - 1e-12 && factor <= 4 + 1e-12, `factor ${factor}`);
    assert.is(seg.mean, prev.mean + prev.slope * (seg.start - prev.start));
  }
});

test("piecewise() trend changes start or end a slope without a jump in the mean", () => {
  const p = piecewise("trend", { length: 5000, kinds: ["trend"], slopeMin: 0.05, slopeMax: 0.1 });
  for (let k = 1; k < p.segments.length; k++) {
    const prev = p.segments[k - 1]!, seg = p.segments[k]!;
    assert.ok(Math.abs(seg.mean - (prev.mean + prev.slope * (seg.start - prev.start))) < 1e-9);
    if (prev.slope === 0) assert.ok(Math.abs(seg.slope) >= 0.05 && Math.abs(seg.slope) <= 0.1);
    else assert.is(seg.slope, 0);
  }
});

test("piecewise() noise has unit variance; Student-t(3) noise has heavy tails", () => {
  const g = piecewise("g", { length: 200_000, stationary: true, level: 5, sigma: 2 });
  const t = piecewise("t", { length: 200_000, stationary: true, noise: "t3" });
  assert.equal(g.changes, []);
  const mg = moments(g.values, 0, g.values.length);
  assert.ok(Math.abs(mg.mean - 5) < 0.03 && Math.abs(mg.sd - 2) < 0.03, JSON.stringify(mg));
  assert.ok(Math.abs(mg.kurtosis - 3) < 0.1, `Gaussian kurtosis ${mg.kurtosis}`);
  const mt = moments(t.values, 0, t.values.length);
  // t(3) scaled to unit variance: the sample variance converges slowly (infinite fourth moment).
  assert.ok(Math.abs(mt.sd - 1) < 0.15, `t3 sd ${mt.sd}`);
  assert.ok(mt.kurtosis > 6, `t3 kurtosis ${mt.kurtosis}`);
});

test("piecewise() rejects bad options, naming the option and its value", () => {
  assert.throws(() => piecewise(1, { length: 0 }), /"length" is out of range, got 0/);
  assert.throws(
    () => piecewise(1, { length: 10, segmentMin: 5, segmentMax: 4 }),
    /"segmentMax" is out of range, got 4/,
  );
  assert.throws(() => piecewise(1, { length: 10, sigma: -1 }), /"sigma" is out of range, got -1/);
  assert.throws(() => piecewise(1, { length: 10, kinds: [] }), /"kinds" must name at least one/);
  assert.throws(
    () => piecewise(1, { length: 10, noise: "cauchy" as never }),
    /"noise" must be "gaussian" or "t3", got "cauchy"/,
  );
});

test.run();
