import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  cosFast,
  expFast,
  hypotFast,
  log1pFast,
  log2Fast,
  logFast,
  powFast,
} from "../../../actors/math/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("portable math");
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

test("expFast() is exact at 0, 0 far below and for NaN, finite up to the overflow point", () => {
  assert.is(expFast(0), 1);
  assert.ok(Math.abs(expFast(-64 * Math.LN2) / Math.exp(-64 * Math.LN2) - 1) <= ULP);
  assert.is(expFast(-744.5), 0);
  assert.is(expFast(-Infinity), 0);
  assert.is(expFast(NaN), 0);
  assert.ok(Math.abs(expFast(709.5) / Math.exp(709.5) - 1) <= 4 * ULP);
  assert.ok(Math.abs(expFast(709.78) / Math.exp(709.78) - 1) <= 4 * ULP);
  assert.is(expFast(709.8), Infinity);
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

test("logFast() is within 4 ulp of Math.log over the whole range, subnormals included", () => {
  const rng = new Prng(33);
  let worst = 0;
  for (let i = 0; i < 200_000; i++) {
    const x = 10 ** (-320 + 628 * rng.next());
    const want = Math.log(x);
    // Near x = 1 the result is small: measure against the argument's scale there.
    const err = Math.abs(logFast(x) - want) / Math.max(Math.abs(want), 1e-3);
    worst = Math.max(worst, err);
  }
  assert.ok(worst <= 4 * ULP, `worst relative error ${worst / ULP} ulp`);
  for (const x of [0.5, 0.999, 1, 1.001, 2, 10, 5e-324]) {
    assert.ok(
      Math.abs(logFast(x) - Math.log(x)) <= 4 * ULP * Math.max(1, Math.abs(Math.log(x))),
      `x = ${x}`,
    );
  }
  assert.is(logFast(1), 0);
  assert.is(logFast(0), -Infinity);
  assert.is(logFast(Infinity), Infinity);
  assert.ok(Number.isNaN(logFast(-1)));
  assert.ok(Number.isNaN(logFast(NaN)));
});

test("log2Fast() is exact at powers of two and within 4 ulp of Math.log2 elsewhere", () => {
  for (let k = -1074; k <= 1023; k += 7) assert.is(log2Fast(2 ** k), k, `2^${k}`);
  const rng = new Prng(34);
  let worst = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = 10 ** (-300 + 600 * rng.next());
    const want = Math.log2(x);
    worst = Math.max(worst, Math.abs(log2Fast(x) - want) / Math.max(Math.abs(want), 1e-3));
  }
  assert.ok(worst <= 4 * ULP, `worst relative error ${worst / ULP} ulp`);
});

test("powFast() agrees with Math.pow on the decay factors and hazards kernels take", () => {
  for (const h of [1, 2, 10, 100, 1e4]) {
    assert.ok(Math.abs(powFast(2, -1 / h) / Math.pow(2, -1 / h) - 1) <= 4 * ULP, `2^(-1/${h})`);
  }
  for (const [a, b] of [[0.99, 5], [1 - 1e-3, 1000], [0.5, 3]]) {
    assert.ok(Math.abs(powFast(a!, b!) / Math.pow(a!, b!) - 1) <= 64 * ULP, `${a}^${b}`);
  }
  assert.is(powFast(0, 0), 1);
  assert.is(powFast(1, 1e9), 1);
  assert.ok(Number.isNaN(powFast(-2, 0.5)));
});

test("cosFast() is within 2e-16 of Math.cos for |x| up to 1000; hypotFast() within 2 ulp of Math.hypot", () => {
  const rng = new Prng(35);
  let worst = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = (rng.next() - 0.5) * 2000;
    worst = Math.max(worst, Math.abs(cosFast(x) - Math.cos(x)));
  }
  assert.ok(worst <= 2e-16 * 8, `worst absolute error ${worst}`);
  assert.is(cosFast(0), 1);
  assert.ok(Number.isNaN(cosFast(Infinity)));
  for (let i = 0; i < 10_000; i++) {
    const a = (rng.next() - 0.5) * 10 ** (rng.int(40) - 20), b = (rng.next() - 0.5) * 1e3;
    const want = Math.hypot(a, b);
    assert.ok(Math.abs(hypotFast(a, b) - want) <= 2 * ULP * want, `hypot(${a}, ${b})`);
  }
  assert.is(hypotFast(3, 4), 5);
  assert.is(hypotFast(0, 0), 0);
  assert.is(hypotFast(-Infinity, 1), Infinity);
});

test("the functions give these exact bits on every runtime (a change here breaks replay across runtimes)", () => {
  // A checksum of many results: the same on Node and Deno, unlike Math.exp/log/log1p/log2/pow.
  const f = new Float64Array(1);
  const w = new Uint32Array(f.buffer);
  let h = 0;
  const mix = (x: number) => {
    f[0] = x;
    h = (Math.imul(h, 31) + (w[0]! ^ w[1]!)) | 0;
  };
  for (let i = 1; i < 20_000; i++) {
    const x = i * 0.001237 + 1e-6;
    mix(expFast(x - 10));
    mix(logFast(x));
    mix(log1pFast(x));
    mix(log2Fast(x));
    mix(powFast(x, 0.37));
    mix(cosFast(x * 50));
    mix(hypotFast(x, 1 / x));
  }
  assert.is(h, EXPECTED_CHECKSUM);
});

/** The checksum above, computed once: it must not depend on the runtime. */
const EXPECTED_CHECKSUM = 178065386;

test.run();
