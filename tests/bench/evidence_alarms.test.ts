/**
 * The CUSUM e-detector of `troupe bench tail --evidence` (bench/_evidence_alarms.ts): evidence in
 * bits adds up over samples, falls no lower than nothing, alarms at the threshold and starts
 * again; the bet and Page's allowance shape each sample's share.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { evidenceAlarms } from "../../bench/_evidence_alarms.ts";

const plain = { lambda: 1, allowanceBits: 0 };

test("evidenceAlarms() adds each sample's bits, alarms at the threshold and starts again", () => {
  // Ratio 4 is 2 bits: 6 bits at the third valid sample, again three later; NaN passes over.
  const ratios = Float64Array.from([4, 4, NaN, 4, 4, 4, 4, 4]);
  assert.equal(evidenceAlarms(ratios, 6, plain), [3, 6]);
  assert.equal(evidenceAlarms(ratios, 14, plain), [7]);
  assert.equal(evidenceAlarms(ratios, 14.5, plain), []);
});

test("evidenceAlarms() keeps its evidence through a quiet sample but never below nothing", () => {
  // 10 bits, then -2 (8 left), then 10 more: 18. A run of quiet samples only empties it.
  assert.equal(evidenceAlarms(Float64Array.from([1024, 0.25, 1024]), 18, plain), [2]);
  const quietFirst = Float64Array.from([1e-9, 1e-9, 1e-9, 1024, 1024]);
  assert.equal(evidenceAlarms(quietFirst, 20, plain), [4]);
  assert.equal(evidenceAlarms(Float64Array.from([1024, 1e-6, 1024]), 11, plain), []);
});

test("the bet keeps a quiet sample's cost bounded; the allowance takes bits from every sample", () => {
  // λ = 1/2: a ratio of 0 costs 1 bit, one of 1023 states 9 bits.
  const half = { lambda: 0.5, allowanceBits: 0 };
  assert.equal(evidenceAlarms(Float64Array.from([1023, 0, 1023]), 17, half), [2]);
  assert.equal(evidenceAlarms(Float64Array.from([1023, 0, 1023]), 17.1, half), []);
  // An allowance of 3 bits: ratios of 16 (4 bits) state 1 bit each, ratios of 8 nothing.
  const page = { lambda: 1, allowanceBits: 3 };
  assert.equal(evidenceAlarms(Float64Array.from([16, 16, 16, 8, 8, 8]), 3, page), [2]);
  assert.equal(evidenceAlarms(Float64Array.from([8, 8, 8, 8, 8, 8]), 1e-9, page), []);
});

test("evidenceAlarms() rejects a bet outside (0, 1]", () => {
  for (const lambda of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => evidenceAlarms(new Float64Array(1), 1, { lambda, allowanceBits: 0 }),
      new RegExp(`lambda must be in \\(0, 1\\], got ${lambda}`),
    );
  }
});

test.run();
