/**
 * A finding restated at a stronger sample of its excursion (actors/anomaly/_restate.ts): a fault
 * that begins within a sample's interval moves its first sample only partly; the next, read
 * against the reference the opening was read against, restates the finding with one bit less than
 * its distance says, and only within `restate_us` of the opening.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type AnomalyConfig,
  anomalyFrameEvent,
  anomalyKernel,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import { ANOMALY_FINDING, findingTailBits } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly restatement");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5_000_000;
const ONSET = 300;

/** Busy CPU's share about 0.02 (σ 0.005), then from ONSET `first`, then 1 for 12 samples. */
function burn(first: number, seed = 7): Float64Array {
  const prng = new Prng(seed);
  return Float64Array.from({ length: ONSET + 40 }, (_, i) => {
    if (i === ONSET) return first;
    if (i > ONSET && i < ONSET + 13) return 1;
    return Math.max(0, 0.02 + 0.005 * prng.normal());
  });
}

/**
 * The findings the actor publishes for `v` fed in frames of `frameSamples`, with their bits, from
 * the onset on (the noise before it opens one now and then).
 */
function findings(
  v: Float64Array,
  config: AnomalyConfig = defaultAnomalyConfig,
  frameSamples = v.length,
) {
  const st = anomalyKernel.init(config, "c");
  const t = Float64Array.from({ length: v.length }, (_, i) => T0 + i * STEP_US);
  const out = [];
  for (let i = 0; i < v.length; i += frameSamples) {
    const end = Math.min(v.length, i + frameSamples);
    const frame = { channel: "c", seq0: i, t: t.subarray(i, end), v: v.subarray(i, end) };
    const event = anomalyFrameEvent(anomalyKernel.step(st, frame), frame, "normal");
    for (const c of event?.changes ?? []) {
      if (!c.open || c.ts < t[ONSET]!) continue;
      out.push({
        i: Math.round((c.ts - T0) / STEP_US),
        restated: c.restated === true,
        expected: c.expected,
        sigma: (c.upper - c.lower) / 2 / 3,
        value: c.value,
        bits: findingTailBits(ANOMALY_FINDING, c)!,
      });
    }
  }
  return out;
}

test("a burn whose first sample straddles its onset is restated at the next, against the reference it opened on", () => {
  const found = findings(burn(0.29));
  const opening = found.find((f) => f.i === ONSET && !f.restated)!;
  assert.ok(opening !== undefined, JSON.stringify(found));
  const restated = found.filter((f) => f.restated);
  assert.is(restated.length, 1, JSON.stringify(found));
  const r = restated[0]!;
  assert.is(r.i, ONSET + 1);
  assert.is(r.value, 1);
  // The held reference: the opening's expected value, its σ widened by √2 (one bit: two tests).
  assert.is(r.expected, opening.expected);
  assert.ok(Math.abs(r.sigma - Math.SQRT2 * opening.sigma) < 1e-12, `${r.sigma} ${opening.sigma}`);
  const k = (r.value - r.expected) / (r.sigma);
  assert.ok(Math.abs(r.bits - 2 * Math.log2(k)) < 1e-9, `${r.bits} against k ${k}`);
  assert.ok(r.bits >= opening.bits + 1, `${r.bits} after ${opening.bits}`);
});

test("a step whose first sample is its whole is not restated: its later samples say no more", () => {
  const found = findings(burn(1));
  assert.equal(found.map((f) => [f.i, f.restated]), [[ONSET, false]]);
});

test("restate_us bounds the hold: past it nothing is restated, and 0 restates nothing", () => {
  const held = findings(burn(0.29), { ...defaultAnomalyConfig, restate_us: STEP_US });
  assert.equal(held.map((f) => [f.i, f.restated]), [[ONSET, false], [ONSET + 1, true]]);
  for (const restate_us of [STEP_US - 1, 0]) {
    const found = findings(burn(0.29), { ...defaultAnomalyConfig, restate_us });
    assert.equal(found.map((f) => [f.i, f.restated]), [[ONSET, false]], String(restate_us));
  }
});

test("framing changes no restatement, and a state saved between the opening and it keeps it", () => {
  const v = burn(0.29, 11);
  const whole = findings(v);
  assert.ok(whole.some((f) => f.restated));
  assert.equal(findings(v, defaultAnomalyConfig, 1), whole);
  assert.equal(findings(v, defaultAnomalyConfig, 7), whole);
  // Saved and loaded at the frame boundary right after the opening.
  const st = anomalyKernel.init(defaultAnomalyConfig, "c");
  const t = Float64Array.from({ length: v.length }, (_, i) => T0 + i * STEP_US);
  const at = ONSET + 1;
  anomalyKernel.step(st, { channel: "c", seq0: 0, t: t.subarray(0, at), v: v.subarray(0, at) });
  const loaded = anomalyKernel.load!(anomalyKernel.save!(st));
  const frame = { channel: "c", seq0: at, t: t.subarray(at), v: v.subarray(at) };
  const event = anomalyFrameEvent(anomalyKernel.step(loaded, frame), frame, "alerting");
  const restated = (event?.changes ?? []).filter((c) => c.restated);
  assert.equal(
    restated.map((c) => Math.round((c.ts - T0) / STEP_US)),
    whole.filter((f) => f.restated).map((f) => f.i),
  );
});

test.run();
