/**
 * The anomaly kernel's step given a spent result (Kernel.step's `reuse`): it writes the frame's
 * columns into that result's buffer instead of allocating one, and every value is what a step
 * without it gives, bit for bit, whatever the spent result held (invalid samples included).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyKernel,
  type AnomalyResult,
  defaultAnomalyConfig,
} from "../../../actors/anomaly/mod.ts";
import type { SampleFrame } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly kernel, reused result");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 60_000_000;

/** Frame `k` of `n` samples of a seeded walk with jumps, some samples NaN or of a bad time. */
function frame(rng: Prng, k: number, n: number, start: { x: number }): SampleFrame {
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    start.x += rng.normal() + (rng.next() < 0.01 ? 40 * rng.normal() : 0);
    t[i] = T0 + (k * n + i) * STEP_US;
    v[i] = start.x;
    const r = rng.next();
    if (r < 0.02) v[i] = NaN;
    else if (r < 0.03) t[i] = Infinity;
  }
  return { channel: "c", seq0: k * n, t, v };
}

/** The result's three columns as bytes, for a bit-for-bit comparison (NaN included). */
function columnBytes(r: AnomalyResult): number[] {
  const bytes = (a: Float64Array) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];
  return [...bytes(r.score), ...bytes(r.expected), ...bytes(r.spread)];
}

test("stepAnomaly() writes into a spent result's buffer, with the values of a fresh step", () => {
  const seed = 3606;
  const rng = new Prng(seed);
  const fresh = anomalyKernel.init(defaultAnomalyConfig, "c");
  const reusing = anomalyKernel.init(defaultAnomalyConfig, "c");
  const start = { x: 100 };
  let spent: AnomalyResult | undefined;
  let scored = 0, invalid = 0, reused = 0;
  for (let k = 0; k < 24; k++) {
    // Frames of 500 and of fewer samples: a spent buffer serves any frame it is large enough for.
    const f = frame(rng, k, k % 5 === 4 ? 137 : 500, start);
    const want = anomalyKernel.step(fresh, f);
    if (spent) {
      // A spent result holds whatever it held: here, values no step would give.
      spent.score.fill(0.75);
      spent.expected.fill(-1);
      spent.spread.fill(1e9);
    }
    const before = spent?.score.buffer;
    const got = anomalyKernel.step(reusing, f, spent);
    if (before !== undefined && got.score.buffer === before) reused++;
    assert.equal(columnBytes(got), columnBytes(want), `seed ${seed}, frame ${k}`);
    assert.equal(got.changes, want.changes, `seed ${seed}, frame ${k}`);
    assert.equal([got.valid, got.skipped, got.seen], [want.valid, want.skipped, want.seen]);
    scored += want.score.filter((s) => s > 0).length;
    invalid += want.skipped;
    spent = got;
  }
  // Every frame after the first took the spent buffer (the first 500 samples' is large enough).
  assert.is(reused, 23, `seed ${seed}`);
  assert.ok(scored > 0 && invalid > 0, `seed ${seed}: ${scored} scored, ${invalid} invalid`);
  assert.equal(anomalyKernel.save(reusing), anomalyKernel.save(fresh), `seed ${seed}`);
});

test("a frame of a few samples writes into a spent result of as many: its three arrays", () => {
  const rng = new Prng(77);
  const fresh = anomalyKernel.init(defaultAnomalyConfig, "c");
  const reusing = anomalyKernel.init(defaultAnomalyConfig, "c");
  const start = { x: 100 };
  let spent: AnomalyResult | undefined;
  let reused = 0, scored = 0;
  for (let k = 0; k < 1200; k++) {
    const f = frame(rng, k, k % 300 === 299 ? 2 : 1, start);
    const want = anomalyKernel.step(fresh, f);
    spent?.score.fill(0.75);
    const arrays = spent && [spent.score, spent.expected, spent.spread];
    const got = anomalyKernel.step(reusing, f, spent);
    if (arrays && spent!.score.length === f.v.length) {
      const same = got.score === arrays[0] && got.expected === arrays[1] &&
        got.spread === arrays[2];
      assert.ok(same, `frame ${k}: a new array where the spent result's would do`);
      reused++;
    }
    assert.equal(columnBytes(got), columnBytes(want), `frame ${k}`);
    assert.equal(got.changes, want.changes, `frame ${k}`);
    scored += want.score.filter((s) => s > 0).length;
    spent = got;
  }
  assert.ok(reused >= 1190 && scored > 0, `${reused} reused, ${scored} scored`);
  assert.equal(anomalyKernel.save(reusing), anomalyKernel.save(fresh));
});

test.run();
