/**
 * The band's honest σ (actors/anomaly/_scale.ts) and the bits an anomaly finding states for paging
 * by it (protocol's findingTailBits): one far-out sample on one series states past one node's
 * budget of about 23 bits, its step back too, while a noisy or bursty series' ordinary moves do
 * not, and the share of samples as far out as a claim is never above what the claim says.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyFrameEvent,
  anomalyKernel,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import { decimalQuantum } from "../../../actors/anomaly/_scale.ts";
import { ANOMALY_FINDING, findingTailBits } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly band scale");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5_000_000;
/** One node exporter's budget: 529 series at a 5 s scrape, one page a day (paging.md). */
const ONE_NODE_BITS = 23;

/** The kernel's result and its findings (openings, as the actor publishes them) with bits. */
function findings(values: ArrayLike<number>) {
  const n = values.length;
  const t = Float64Array.from({ length: n }, (_, i) => T0 + i * STEP_US);
  const frame = { channel: "c", seq0: 0, t, v: Float64Array.from(values) };
  const result = anomalyKernel.step(anomalyKernel.init(defaultAnomalyConfig, "c"), frame);
  const event = anomalyFrameEvent(result, frame, "normal");
  const found = (event?.changes ?? []).filter((c) => c.open).map((c) => ({
    i: Math.round((c.ts - T0) / STEP_US),
    bits: findingTailBits(ANOMALY_FINDING, c)!,
    score: c.score,
    halfWidth: (c.upper - c.lower) / 2,
  }));
  return { result, found };
}

test("decimalQuantum() is the resolution a value is written with", () => {
  assert.equal([100, 0, -7, 20.5, 0.25, 1e-3, 1234.5678].map(decimalQuantum), [
    1,
    1,
    1,
    0.1,
    0.01,
    0.001,
    0.0001,
  ]);
});

test("a constant gauge stepped tenfold states more than 23 bits, and so does its step back", () => {
  // 400 samples at 100, 200 at 1000, then 100 again (a textfile gauge at a 5 s scrape).
  const v = Array.from({ length: 650 }, (_, i) => (i < 400 || i >= 600 ? 100 : 1000));
  const { result, found } = findings(v);
  const up = found.find((f) => f.i === 400), back = found.find((f) => f.i === 600);
  assert.ok(up !== undefined && back !== undefined, JSON.stringify(found));
  assert.ok(up.bits > ONE_NODE_BITS, `step up: ${up.bits} bits`);
  assert.ok(back.bits > ONE_NODE_BITS, `step back: ${back.bits} bits`);
  // The score a finding's view gives stays at most 1 (15 bits): the bits are the band's.
  assert.ok(up.score <= 1 && back.score <= 1);
  // The band a constant's finding states is its resolution's: 900 from 100 is 900 √12 σ, and
  // Chebyshev's bits 2 log2 of that; the dashboard's band (the recent error's) is of no width.
  assert.ok(Math.abs(up.halfWidth - 3 / Math.sqrt(12)) < 1e-12, String(up.halfWidth));
  assert.is(result.spread[400], 0);
  assert.ok(Math.abs(up.bits - 2 * Math.log2(900 * Math.sqrt(12))) < 1e-9, String(up.bits));
});

test("a noisy series' ordinary spikes and a bursty series' repeated bursts state less than 23 bits", () => {
  const seed = 68;
  const rng = new Prng(seed);
  // Gaussian noise with a 6 sd spike every 500 samples, and Laplace noise (heavier tails).
  const gauss = Array.from(
    { length: 20_000 },
    (_, i) => 50 + rng.normal() + (i % 500 === 7 ? 6 : 0),
  );
  const laplace = Array.from({ length: 20_000 }, () => 50 + rng.exponential() - rng.exponential());
  // A disk's written bytes: 0 most of the time, a burst of some megabytes every 50 to 350 samples.
  const bursty: number[] = [];
  while (bursty.length < 20_000) {
    for (let k = 50 + rng.int(300); k > 0; k--) bursty.push(0);
    bursty.push(Math.round(2e6 * (1 + rng.next())));
  }
  const first = bursty.findIndex((x) => x > 0);
  for (
    const [name, v, from] of [["gauss", gauss, 0], ["laplace", laplace, 0], [
      "bursty",
      bursty,
      first + 1,
    ]] as const
  ) {
    const { found } = findings(v);
    assert.ok(found.length > 0, `${name}: no findings (seed ${seed})`);
    const most = Math.max(...found.filter((f) => f.i >= from).map((f) => f.bits));
    assert.ok(most < ONE_NODE_BITS, `${name}: a finding states ${most} bits (seed ${seed})`);
  }
  // The first burst of a channel that never moved is as far out as a gauge's step: it pages.
  assert.ok(findings(bursty).found.some((f) => f.i === first && f.bits > ONE_NODE_BITS));
});

test("findings claiming b bits or more come at most once in 2^b samples of noise", () => {
  const seed = 1968;
  const rng = new Prng(seed);
  const n = 40_000;
  const series: Record<string, number[]> = {
    gauss: Array.from({ length: n }, () => 10 + rng.normal()),
    laplace: Array.from({ length: n }, () => 10 + rng.exponential() - rng.exponential()),
    walk: [],
  };
  let x = 0;
  for (let i = 0; i < n; i++) series.walk!.push(x += rng.normal());
  for (const [name, v] of Object.entries(series)) {
    const { found } = findings(v);
    for (const b of [8, 10, 12, 15]) {
      const share = found.filter((f) => f.bits >= b).length / n;
      assert.ok(share <= 2 ** -b, `${name}: ${share} of samples claim ${b} bits (seed ${seed})`);
    }
  }
});

test.run();
