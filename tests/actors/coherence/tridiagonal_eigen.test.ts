import { suite } from "uvu";
import * as assert from "uvu/assert";
import { eigenWork, symmetricEigen } from "../../../actors/coherence/_tridiagonal_eigen.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { eigenvalues } from "./_support.ts";

const test = suite("tridiagonal eigen");

/** Decomposes `a` and checks A v = λ v, VᵀV = I and descending order; returns the values. */
function check(a: Float64Array, k: number, tol = 1e-12): number[] {
  const out = { values: new Float64Array(k), vectors: new Float64Array(k * k) };
  symmetricEigen(a.slice(), k, out, eigenWork(k));
  let scale = 1e-300;
  for (let i = 0; i < k * k; i++) scale = Math.max(scale, Math.abs(a[i]!));
  for (let j = 0; j < k; j++) {
    if (j > 0) assert.ok(out.values[j - 1]! >= out.values[j]!, "descending");
    for (let i = 0; i < k; i++) {
      let av = 0;
      for (let l = 0; l < k; l++) av += a[i * k + l]! * out.vectors[l * k + j]!;
      const res = Math.abs(av - out.values[j]! * out.vectors[i * k + j]!);
      assert.ok(res <= tol * scale, `residual ${res} at (${i}, ${j})`);
    }
    for (let j2 = 0; j2 < k; j2++) {
      let dot = 0;
      for (let l = 0; l < k; l++) dot += out.vectors[l * k + j]! * out.vectors[l * k + j2]!;
      assert.ok(Math.abs(dot - (j === j2 ? 1 : 0)) < 1e-12, `orthonormal (${j}, ${j2}): ${dot}`);
    }
  }
  return Array.from(out.values);
}

test("symmetricEigen() matches ml-matrix on random symmetric matrices of several sizes", () => {
  const prng = new Prng(12);
  for (const k of [2, 3, 7, 40, 111]) {
    const a = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        const x = prng.normal() * (i === j ? 10 : 1);
        a[i * k + j] = x;
        a[j * k + i] = x;
      }
    }
    const values = check(a, k);
    const reference = eigenvalues(a, k);
    values.forEach((x, i) => assert.ok(Math.abs(x - reference[i]!) < 1e-11 * 10 * k, `k=${k}`));
  }
});

test("symmetricEigen() handles 1 x 1, zero, diagonal and repeated-eigenvalue matrices", () => {
  assert.equal(check(new Float64Array([4]), 1), [4]);
  assert.equal(check(new Float64Array(9), 3), [0, 0, 0]);
  assert.equal(check(new Float64Array([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3), [3, 2, 1]);
  // 2 I + 3 u uᵀ with |u| = 1: eigenvalues 5, 2, 2, 2.
  const u = [0.5, 0.5, 0.5, 0.5];
  const a = new Float64Array(16);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) a[i * 4 + j] = (i === j ? 2 : 0) + 3 * u[i]! * u[j]!;
  }
  const values = check(a, 4);
  [5, 2, 2, 2].forEach((x, i) => assert.ok(Math.abs(values[i]! - x) < 1e-14, `${values}`));
});

test.run();
