/**
 * The CUSUM e-detector of `troupe bench tail --evidence` and `bench evidence`
 * (bench/_evidence_alarms.ts): evidence in bits adds up over samples, falls no lower than nothing,
 * alarms at the threshold and starts again; the bet and Page's allowance shape each sample's
 * share; a held reference measures a lasting departure against what came before it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ChebyshevEvidence } from "../../actors/anomaly/mod.ts";
import { type EvidenceAlarmOptions, evidenceAlarms } from "../../bench/_evidence_alarms.ts";

const plain = { lambda: 1, allowanceBits: 0 };

/** Evidence of these ratios alone (no parts: a held reference cannot be asked of it). */
function ofRatios(ratios: number[]): [Float64Array, ChebyshevEvidence] {
  const nan = () => new Float64Array(ratios.length).fill(NaN);
  const ratio = Float64Array.from(ratios);
  return [nan(), { ratio, expected: nan(), sigmaUp: nan(), sigmaDown: nan() }];
}

function alarms(ratios: number[], bits: number, options: EvidenceAlarmOptions = plain): number[] {
  const [v, evidence] = ofRatios(ratios);
  return evidenceAlarms(v, evidence, bits, options);
}

test("evidenceAlarms() adds each sample's bits, alarms at the threshold and starts again", () => {
  // Ratio 4 is 2 bits: 6 bits at the third valid sample, again three later; NaN passes over.
  const ratios = [4, 4, NaN, 4, 4, 4, 4, 4];
  assert.equal(alarms(ratios, 6), [3, 6]);
  assert.equal(alarms(ratios, 14), [7]);
  assert.equal(alarms(ratios, 14.5), []);
});

test("evidenceAlarms() keeps its evidence through a quiet sample but never below nothing", () => {
  // 10 bits, then -2 (8 left), then 10 more: 18. A run of quiet samples only empties it.
  assert.equal(alarms([1024, 0.25, 1024], 18), [2]);
  assert.equal(alarms([1e-9, 1e-9, 1e-9, 1024, 1024], 20), [4]);
  assert.equal(alarms([1024, 1e-6, 1024], 11), []);
});

test("the bet keeps a quiet sample's cost bounded; the allowance takes bits from every sample", () => {
  // λ = 1/2: a ratio of 0 costs 1 bit, one of 1023 states 9 bits.
  const half = { lambda: 0.5, allowanceBits: 0 };
  assert.equal(alarms([1023, 0, 1023], 17, half), [2]);
  assert.equal(alarms([1023, 0, 1023], 17.1, half), []);
  // An allowance of 3 bits: ratios of 16 (4 bits) state 1 bit each, ratios of 8 nothing.
  const page = { lambda: 1, allowanceBits: 3 };
  assert.equal(alarms([16, 16, 16, 8, 8, 8], 3, page), [2]);
  const trace = new Float64Array(6);
  assert.equal(alarms([8, 8, 8, 8, 8, 8], 1e-9, { ...page, trace }), []);
  assert.equal(Array.from(trace), [0, 0, 0, 0, 0, 0]);
});

test("a held reference keeps a lasting departure's bits where each sample's own fades", () => {
  // A level of 0 with σ 1 steps to 8 and stays; the expected value and σ follow it, as the
  // kernel's do, so each sample's own ratio fades: 64, 16, 4, 1, 1 (after a quiet 0.25).
  const v = Float64Array.from([0.5, 8, 8, 8, 8, 8]);
  const expected = Float64Array.from([0, 0, 4, 6, 7, 7]);
  const sigma = Float64Array.from([1, 1, 1, 1, 1, 1]);
  const ratio = v.map((x, i) => ((x - expected[i]!) / sigma[i]!) ** 2);
  const evidence = { ratio, expected, sigmaUp: sigma, sigmaDown: sigma };
  const own = new Float64Array(6), held = new Float64Array(6);
  assert.equal(evidenceAlarms(v, evidence, 20, { ...plain, trace: own }), []);
  assert.equal(Array.from(own), [-2, 6, 10, 12, 12, 12]);
  // Held from the sample where the evidence stood at nothing (sample 1's reference, 0 and σ 1):
  // 6 bits a sample, an alarm at 24; then sample 5's own reference, 7, where 8 states nothing.
  const heldAlarms = evidenceAlarms(v, evidence, 20, {
    ...plain,
    holdReference: true,
    trace: held,
  });
  assert.equal(heldAlarms, [4]);
  assert.equal(Array.from(held), [-2, 6, 12, 18, 24, 0]);
});

test("evidenceAlarms() rejects a bet outside (0, 1]", () => {
  for (const lambda of [0, -1, 1.5, NaN]) {
    assert.throws(
      () => alarms([1], 1, { lambda, allowanceBits: 0 }),
      new RegExp(`lambda must be in \\(0, 1\\], got ${lambda}`),
    );
  }
});

test.run();
