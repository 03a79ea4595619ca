/**
 * The flat-run view's record of a channel's bounds (actors/anomaly/_bounds.ts): a gauge pinned at
 * its ceiling again and again is judged among its own stays there, while a reading frozen mid-range
 * is still a frozen reading.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyKernel, defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
import {
  boundRunBits,
  createBounds,
  extendBounds,
  recordBoundRun,
} from "../../../actors/anomaly/_bounds.ts";
import { runBin } from "../../../actors/anomaly/_bins.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly bounds");
const ORDINARY = { shareMax: 0.01, freeBits: 5 };

/**
 * A gauge at 96 with serially correlated noise (sd 3) clipped at 100, one sample a minute; from
 * sample `frozenAt` its reading freezes for 40 samples at the value before.
 */
function clippedGauge(n: number, frozenAt: number): { t: Float64Array; v: Float64Array } {
  const rng = new Prng(7);
  const t = new Float64Array(n), v = new Float64Array(n);
  let ar = 0;
  for (let i = 0; i < n; i++) {
    ar = 0.95 * ar + Math.sqrt(1 - 0.95 * 0.95) * rng.normal();
    t[i] = 1_700_000_000_000_000 + i * 60e6;
    v[i] = Math.min(100, 96 + 3 * ar);
  }
  for (let i = frozenAt; i < frozenAt + 40; i++) v[i] = v[frozenAt - 1]!;
  return { t, v };
}

test("step() does not alarm on a gauge's stays at the ceiling it keeps touching", () => {
  const n = 20_000, frozenAt = 15_000;
  const { t, v } = clippedGauge(n, frozenAt);
  const st = anomalyKernel.init({ ...defaultAnomalyConfig }, "c");
  const r = anomalyKernel.step(st, { channel: "c", seq0: 0, t, v });
  let pinned = 0, alarms = 0;
  for (let i = 1000; i < n; i++) {
    if (v[i] !== 100) continue;
    pinned++;
    if (r.score[i]! >= 0.5) alarms++;
  }
  // Before the bounds' record 4 of these 1,807 samples at 100 scored 0.5 or more (the flat-run
  // view: runs at 100 as rare as any run of the channel's).
  assert.ok(pinned > 1000, `samples at 100: ${pinned}`);
  assert.is(alarms, 0, `alarms at 100: ${alarms}`);
  let frozen = 0;
  for (let i = frozenAt; i < frozenAt + 40; i++) frozen = Math.max(frozen, r.score[i]!);
  assert.ok(v[frozenAt]! < 100, `frozen at ${v[frozenAt]}`);
  assert.ok(frozen >= 0.5, `a reading frozen mid-range still scores: ${frozen}`);
});

test("boundRunBits() judges a run at a bound only once the channel has come back to it", () => {
  const b = createBounds();
  extendBounds(b, 100, Infinity, -Infinity);
  assert.is(boundRunBits(b, 100, runBin(8), ORDINARY), Infinity, "no stay finished there yet");
  assert.is(boundRunBits(b, 99, runBin(8), ORDINARY), Infinity, "99 is no bound");
  // 100 stays of 0 samples (touch and leave): repeats are rare there, a run of 8 is news.
  for (let k = 0; k < 100; k++) recordBoundRun(b, 100, runBin(0));
  assert.ok(Math.abs(boundRunBits(b, 100, runBin(8), ORDINARY) - Math.log2(102)) < 1e-3);
  // 10 of 110 stays lasted 8 samples or more: there, staying put is ordinary (less 5 bits).
  for (let k = 0; k < 10; k++) recordBoundRun(b, 100, runBin(8));
  const bits = boundRunBits(b, 100, runBin(8), ORDINARY);
  assert.ok(Math.abs(bits - (Math.log2(112 / 11) - 5)) < 1e-3, `${bits}`);
  // A new maximum starts the top's record afresh; the bottom keeps its own.
  extendBounds(b, 0, 100, 100);
  recordBoundRun(b, 0, runBin(0));
  extendBounds(b, 101, 0, 100);
  assert.is(boundRunBits(b, 100, runBin(8), ORDINARY), Infinity);
  assert.ok(Math.abs(boundRunBits(b, 0, runBin(8), ORDINARY) - Math.log2(3)) < 1e-3);
});

test("save() and load() keep the bounds' record bit for bit", () => {
  const { t, v } = clippedGauge(3000, 2000);
  const st = anomalyKernel.init({ ...defaultAnomalyConfig }, "c");
  anomalyKernel.step(st, { channel: "c", seq0: 0, t, v });
  assert.is(st.bounds[0], 100);
  assert.ok(st.bounds[1]! > 10, `stays at 100: ${st.bounds[1]}`);
  const loaded = anomalyKernel.load(anomalyKernel.save(st));
  assert.equal(Array.from(loaded.bounds), Array.from(st.bounds));
});

test.run();
