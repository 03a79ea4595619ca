/**
 * The consistency factor of coherence's Huber-bounded baseline: the variance of a standard normal
 * clipped to [lo, hi], against closed forms and a seeded sample.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { clippedNormalVariance } from "../../../actors/coherence/_clipped_normal.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("clipped normal variance");

test("clippedNormalVariance() is 1 unclipped, 0 clipped at 0, and the known values at ±1 and ±2", () => {
  assert.ok(Math.abs(clippedNormalVariance(-Infinity, Infinity) - 1) < 1e-7);
  assert.ok(Math.abs(clippedNormalVariance(0, 0)) < 1e-7);
  // 2Φ(c) - 1 - 2cφ(c) + 2c²(1 - Φ(c)): 0.516 at c = 1, 0.921 at c = 2 (a symmetric bound).
  assert.ok(
    Math.abs(clippedNormalVariance(-1, 1) - 0.51606) < 1e-4,
    `${clippedNormalVariance(-1, 1)}`,
  );
  assert.ok(
    Math.abs(clippedNormalVariance(-2, 2) - 0.92052) < 1e-4,
    `${clippedNormalVariance(-2, 2)}`,
  );
  // One side unbounded: half of each.
  const half = (1 + clippedNormalVariance(-2, 2)) / 2;
  assert.ok(Math.abs(clippedNormalVariance(-Infinity, 2) - half) < 1e-7);
});

test("clippedNormalVariance() matches the mean of clipped squares of a seeded normal sample", () => {
  const seed = 29;
  const rng = new Prng(seed);
  const n = 200_000;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const z = Math.max(-1.5, Math.min(2.5, rng.normal()));
    sum += z * z;
  }
  const expected = clippedNormalVariance(-1.5, 2.5);
  assert.ok(Math.abs(sum / n - expected) < 0.01, `seed ${seed}: ${sum / n} against ${expected}`);
});

test.run();
