/**
 * The anomaly score's calibration (actors/anomaly/_calibration.ts) and its promise: over a channel's
 * recent past, its published score rises to q at most about once in 2^(q * full_score_bits)
 * samples, however often its raw score claims rarity; and a channel whose raw score rises as
 * rarely as it claims keeps its full scale.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  CALIB_SPAN_SAMPLES,
  calibrate,
  createCalibration,
} from "../../../actors/anomaly/_calibration.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly calibration");
const FULL_BITS = 10;
const LEVELS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1];

/** Rises to each level (a sample at or above it after one below) among `xs` from `from` on. */
function risesOf(xs: readonly number[], from: number): number[] {
  return LEVELS.map((q) => {
    let n = 0;
    for (let i = Math.max(1, from); i < xs.length; i++) if (xs[i]! >= q && xs[i - 1]! < q) n++;
    return n;
  });
}

test("calibrate() lets a published score rise to q about once in 2^(q * bits) samples at most", () => {
  const seed = 30;
  const prng = new Prng(seed);
  const record = createCalibration();
  const raw: number[] = [], published: number[] = [];
  // Raw scores that claim far more than they are worth: uniform in [0, 1), so 0.5 (5 bits, a
  // 1-in-32 claim) is reached every other sample.
  for (let i = 0; i < 4 * CALIB_SPAN_SAMPLES; i++) {
    const r = prng.next();
    raw.push(r);
    published.push(calibrate(record, r, FULL_BITS));
  }
  const from = 3 * CALIB_SPAN_SAMPLES; // the last span: the record has seen three spans before it
  const rawRises = risesOf(raw, from), rises = risesOf(published, from);
  for (const [j, q] of LEVELS.entries()) {
    const promised = CALIB_SPAN_SAMPLES * 2 ** (-q * FULL_BITS);
    // The raw score breaks the promise from 0.3 on (at 0.2, 1 in 4, a uniform score keeps it; at
    // 1, it never rises).
    if (q >= 0.3 && q < 1) {
      assert.ok(rawRises[j]! > 1.5 * promised, `seed ${seed}: ${rawRises[j]} raw rises to ${q}`);
    }
    assert.ok(
      rises[j]! <= 1.25 * promised + 2,
      `seed ${seed}: ${rises[j]} rises to ${q} in ${CALIB_SPAN_SAMPLES} samples, promised ${
        promised.toFixed(1)
      }`,
    );
  }
});

test("calibrate() leaves a channel that rises as rarely as it claims its full scale", () => {
  const record = createCalibration();
  const published: number[] = [];
  // A full raw score once in 4,096 samples: rarer than the 1 in 1,024 a full score claims.
  for (let i = 1; i <= 4 * CALIB_SPAN_SAMPLES; i++) {
    published.push(calibrate(record, i % 4096 === 0 ? 1 : 0, FULL_BITS));
  }
  for (let i = 4096; i <= 4 * CALIB_SPAN_SAMPLES; i += 4096) {
    assert.is(published[i - 1], 1, `the full score at sample ${i}`);
  }
});

test.run();
