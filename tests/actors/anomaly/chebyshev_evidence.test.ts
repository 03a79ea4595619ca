/**
 * Each sample's Chebyshev ratio (actors/anomaly/chebyshev_evidence.ts): measured in the σ the
 * sample's finding states, so one far sample's ratio is that finding's bits; none before the
 * warm-up (nor its parts, the expected value and σ each side); on Gaussian noise the ratios average under 1 (an e-value); the `rms` σ is never
 * smaller than the finding's, so its ratios never larger.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyFrameEvent,
  anomalyKernel,
  chebyshevEvidence,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import { ANOMALY_FINDING, findingTailBits } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("chebyshev evidence");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5_000_000;
const SEED = 7_301;

function series(values: ArrayLike<number>) {
  const v = Float64Array.from(values);
  return { tUs: Float64Array.from(v, (_, i) => T0 + i * STEP_US), v };
}

test("a far sample's ratio states the bits its finding states, and nothing comes before the warm-up", () => {
  // A constant gauge stepped tenfold at sample 300.
  const s = series(Array.from({ length: 320 }, (_, i) => (i < 300 ? 100 : 1000)));
  const evidence = chebyshevEvidence(s, defaultAnomalyConfig);
  const ratios = evidence.ratio;
  const warmup = defaultAnomalyConfig.warmup_samples;
  assert.ok(ratios.subarray(0, warmup).every((r) => Number.isNaN(r)));
  assert.ok(ratios.subarray(warmup).every((r) => r >= 0), "every sample after the warm-up");
  assert.equal(Array.from(ratios.subarray(warmup, 300)), new Array(300 - warmup).fill(0));
  const frame = { channel: "c", seq0: 0, t: s.tUs, v: s.v };
  const result = anomalyKernel.step(anomalyKernel.init(defaultAnomalyConfig, "c"), frame);
  const opened = anomalyFrameEvent(result, frame, "normal")!.changes.filter((c) =>
    c.open && !c.restated
  );
  assert.is(opened.length, 1);
  assert.is(opened[0]!.ts, s.tUs[300]);
  const bits = findingTailBits(ANOMALY_FINDING, opened[0]!)!;
  // 900 from a σ of an integer's rounding, 1 / √12: (900 √12)², 23.2 bits.
  assert.ok(Math.abs(Math.log2(ratios[300]!) - bits) < 1e-9, `${Math.log2(ratios[300]!)} ${bits}`);
  assert.ok(Math.abs(ratios[300]! - 900 ** 2 * 12) < 1e-6, String(ratios[300]));
  // Its parts: the expected 100, a σ of the rounding on the side it went.
  assert.is(evidence.expected[300], 100);
  assert.is(evidence.sigmaUp[300], 1 / Math.sqrt(12));
  assert.ok(Number.isNaN(evidence.expected[warmup - 1]!));
});

test("an invalid sample has no ratio and moves nothing", () => {
  const prng = new Prng(SEED);
  const v = Array.from({ length: 400 }, () => 10 + prng.normal());
  const clean = chebyshevEvidence(series(v), defaultAnomalyConfig).ratio;
  const withGap = series([...v.slice(0, 200), NaN, ...v.slice(200)]);
  withGap.tUs = Float64Array.from(withGap.v, (_, i) => T0 + (i < 200 ? i : i - 1) * STEP_US);
  const gapped = chebyshevEvidence(withGap, defaultAnomalyConfig).ratio;
  assert.ok(Number.isNaN(gapped[200]!));
  assert.equal(Array.from(gapped.subarray(201)), Array.from(clean.subarray(200)));
});

test("on Gaussian noise the ratios average under 1, as an e-value's must", () => {
  const prng = new Prng(SEED);
  const v = Array.from({ length: 20_000 }, () => 50 + 2 * prng.normal());
  const ratios = chebyshevEvidence(series(v), defaultAnomalyConfig).ratio;
  const scored = Array.from(ratios).filter((r) => !Number.isNaN(r));
  const mean = scored.reduce((a, b) => a + b, 0) / scored.length;
  assert.ok(mean > 0.2 && mean < 1, `seed ${SEED}: mean ratio ${mean}`);
});

test("the rms σ is at least the finding's: no ratio larger, some smaller on a bursty channel", () => {
  const prng = new Prng(SEED);
  // A quiet channel with a burst one sample in 50: mean absolute errors understate its RMS.
  const v = Array.from({ length: 3_000 }, (_, i) => 20 + prng.normal() + (i % 50 === 0 ? 40 : 0));
  const finding = chebyshevEvidence(series(v), defaultAnomalyConfig).ratio;
  const rms = chebyshevEvidence(series(v), defaultAnomalyConfig, { sigma: "rms" }).ratio;
  let smaller = 0;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(finding[i]!)) {
      assert.ok(Number.isNaN(rms[i]!));
      continue;
    }
    assert.ok(rms[i]! <= finding[i]!, `sample ${i}: ${rms[i]} > ${finding[i]}`);
    if (rms[i]! < finding[i]!) smaller++;
  }
  assert.ok(smaller > 1_000, `seed ${SEED}: ${smaller} smaller`);
});

test("chebyshevEvidence() rejects times and values of different lengths", () => {
  const s = { tUs: new Float64Array(3), v: new Float64Array(4) };
  assert.throws(() => chebyshevEvidence(s, defaultAnomalyConfig), /3 times but 4 values/);
});

test.run();
