import { suite } from "uvu";
import * as assert from "uvu/assert";
import { expFast, log1pFast } from "../../../actors/collapse/_fast_math.ts";
import { Prng } from "../../../sim/prng.ts";

const test = suite("collapse fast math");
const ULP = 2 ** -52;

test("expFast() is within 4 ulp of Math.exp from -708 to 700 (normal results)", () => {
  const rng = new Prng(31);
  let worst = 0;
  for (let i = 0; i < 200_000; i++) {
    const y = -708 + 1408 * rng.next();
    const want = Math.exp(y);
    worst = Math.max(worst, Math.abs(expFast(y) - want) / want);
  }
  assert.ok(worst <= 4 * ULP, `worst relative error ${worst / ULP} ulp`);
});

test("expFast() is exact at 0, 0 far below and for NaN, and Math.exp above 709", () => {
  assert.is(expFast(0), 1);
  assert.ok(Math.abs(expFast(-64 * Math.LN2) / Math.exp(-64 * Math.LN2) - 1) <= ULP);
  assert.is(expFast(-744.5), 0);
  assert.is(expFast(-Infinity), 0);
  assert.is(expFast(NaN), 0);
  assert.is(expFast(709.5), Math.exp(709.5));
  assert.is(expFast(Infinity), Infinity);
  // Just above the cut-off the result is a subnormal of the right size.
  const y = -743.9;
  assert.ok(Math.abs(expFast(y) - Math.exp(y)) <= 2 ** -1074, `${expFast(y)} vs ${Math.exp(y)}`);
});

test("log1pFast() is within 4 ulp of Math.log1p from 1e-300 to 1e300", () => {
  const rng = new Prng(32);
  let worst = 0;
  for (let i = 0; i < 200_000; i++) {
    const z = 10 ** (-300 + 600 * rng.next());
    const want = Math.log1p(z);
    worst = Math.max(worst, Math.abs(log1pFast(z) - want) / want);
  }
  assert.ok(worst <= 4 * ULP, `worst relative error ${worst / ULP} ulp`);
});

test("log1pFast() is exact at 0 and powers of two minus one, and passes Infinity and NaN", () => {
  assert.is(log1pFast(0), 0);
  assert.is(log1pFast(1), Math.LN2);
  assert.ok(Math.abs(log1pFast(2 ** 40 - 1) - 40 * Math.LN2) <= 40 * Math.LN2 * ULP);
  // Either side of the switch from series to tables.
  for (const z of [1 / 128 - 1e-17, 1 / 128, 1 / 128 + 1e-17, 0.5, 1 - 1e-16]) {
    assert.ok(Math.abs(log1pFast(z) / Math.log1p(z) - 1) <= 4 * ULP, `z = ${z}`);
  }
  assert.is(log1pFast(Infinity), Infinity);
  assert.ok(Number.isNaN(log1pFast(NaN)));
});

test.run();
