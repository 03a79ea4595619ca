import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SeriesRing } from "../../../collab/web/browser/plot/series_ring.ts";
import { decimate, DECIMATE_COLUMNS } from "../../../collab/web/browser/plot/decimate.ts";

const test = suite("dashboard series ring and decimation");

test("SeriesRing keeps the last `capacity` points in time order across many wraps, scaling time", () => {
  const ring = new SeriesRing(2, 5);
  let next = 0;
  for (let round = 0; round < 40; round++) {
    const n = 1 + (round % 4);
    const t = Float64Array.from({ length: n }, (_, i) => (next + i) * 1e6);
    const v = Float64Array.from({ length: n }, (_, i) => next + i);
    ring.append([t, v], 0, n, 1e-6);
    next += n;
    const want = Array.from({ length: Math.min(5, next) }, (_, i) => next - Math.min(5, next) + i);
    assert.equal(Array.from(ring.view(1)), want, `after ${next} points`);
    assert.equal(Array.from(ring.view(0)), want, "times scaled to seconds");
  }
  assert.is(ring.lastTime(), next - 1);
});

test("SeriesRing takes only the tail of an append larger than its capacity, and refuses bad sizes", () => {
  const ring = new SeriesRing(1, 3);
  ring.append([Float64Array.of(1, 2, 3, 4, 5, 6, 7)], 0, 7);
  assert.equal(Array.from(ring.view(0)), [5, 6, 7]);
  ring.append([Float64Array.of(9, 8)], 1, 1);
  assert.equal(Array.from(ring.view(0)), [6, 7, 8]);
  assert.throws(() => new SeriesRing(1, 0), /capacity must be an integer in 1\.\.\d+, got 0/);
  assert.throws(() => new SeriesRing(0, 4), /columns must be a positive integer, got 0/);
});

test("decimate() keeps each bucket's extremes in time order and a band that covers every sample", () => {
  const n = 2000, buckets = 100;
  const t = Float64Array.from({ length: n }, (_, i) => i);
  const v = Float64Array.from(
    { length: n },
    (_, i) => Math.sin(i / 7) * 10 + (i === 1234 ? 99 : 0),
  );
  const e = v.map((x) => x * 0.5);
  const lo = v.map((x, i) => x - 2 - (i % 13)), up = v.map((x, i) => x + 2 + (i % 11));
  const dst = Array.from({ length: DECIMATE_COLUMNS }, () => new Float64Array(2 * buckets));
  const m = decimate([t, v, e, lo, up], dst, buckets);
  assert.ok(m <= 2 * buckets && m >= buckets, `${m} points`);
  const [dt, dv, de, dlo, dup] = dst.map((d) => d.subarray(0, m)) as Float64Array[];
  for (let i = 1; i < m; i++) assert.ok(dt![i]! > dt![i - 1]!, "times increase");
  assert.is(Math.max(...dv!), Math.max(...v), "the spike survives");
  assert.is(Math.min(...dv!), Math.min(...v));
  for (let i = 0; i < m; i++) assert.is(de![i], e[dt![i]!], "expected taken at the same sample");
  const per = n / buckets;
  for (let i = 0; i < m; i++) {
    const b = Math.floor(dt![i]! / per);
    for (let k = b * per; k < (b + 1) * per; k++) {
      assert.ok(dlo![i]! <= lo[k]! && dup![i]! >= up[k]!, `band covers sample ${k}`);
    }
  }
  const few = decimate([t, v, e, lo, up].map((c) => c.subarray(0, 50)), dst, buckets);
  assert.is(few, 50, "a short window is copied as it is");
  assert.equal(Array.from(dst[1]!.subarray(0, 50)), Array.from(v.subarray(0, 50)));
});

test.run();
