import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("prng");

test("the same seed gives the same sequence; a saved state continues it", () => {
  const a = new Prng(42), b = new Prng(42);
  const xs = Array.from({ length: 20 }, () => a.nextUint32());
  assert.equal(Array.from({ length: 20 }, () => b.nextUint32()), xs);
  const saved = new Prng(a.state());
  assert.is(saved.next(), a.next());
  assert.is.not(new Prng(43).nextUint32(), xs[0]);
});

test("fillNormals gives the values of as many normal() calls, spare included", () => {
  for (const sizes of [[7], [3, 4, 1], [1, 1, 1, 1, 1], [0, 5, 2]]) {
    const one = new Prng(9), many = new Prng(9);
    // Odd counts leave a spare draw behind, which the next call must hand out first.
    const expected: number[] = [];
    const got: number[] = [];
    for (const n of sizes) {
      for (let i = 0; i < n; i++) expected.push(one.normal());
      const out = new Float64Array(n);
      many.fillNormals(out);
      got.push(...out);
    }
    assert.equal(got, expected, `sizes ${sizes}`);
    assert.is(many.normal(), one.normal());
  }
});

test("normal draws have mean near 0 and variance near 1", () => {
  const rng = new Prng(3);
  const out = new Float64Array(200_000);
  rng.fillNormals(out);
  let sum = 0, sq = 0;
  for (const x of out) {
    sum += x;
    sq += x * x;
  }
  const mean = sum / out.length;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(sq / out.length - mean * mean - 1) < 0.02, `variance ${sq / out.length}`);
});

test.run();
