import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor, statsKernel } from "../../../actors/stats/mod.ts";
import type { SampleFrame } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng.ts";

const test = suite("stats kernel");

/** Frames of the given sizes over one channel, 1 ms apart, values around `level`. */
function frames(sizes: number[], level: number, seed = 1): SampleFrame[] {
  const prng = new Prng(seed);
  let seq = 0;
  return sizes.map((n) => {
    const t = new Float64Array(n), v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      t[i] = 1_700_000_000_000_000 + (seq + i) * 1000;
      v[i] = level + (prng.next() - 0.5) * 10;
    }
    const frame = { channel: "c", seq0: seq, t, v };
    seq += n;
    return frame;
  });
}

test("running count, mean, variance, min, max and rate equal a two-pass over every sample so far", () => {
  // A large level checks the update's numerical stability, not only its algebra.
  for (const level of [0, 1e9]) {
    const s = statsKernel.init({ every_samples: 100 }, "c");
    const all: number[] = [];
    for (const frame of frames([1, 0, 7, 500, 1, 64, 333], level)) {
      const r = statsKernel.step(s, frame);
      all.push(...frame.v);
      if (all.length === 0) continue;
      const mean = all.reduce((a, x) => a + x, 0) / all.length;
      const variance = all.length > 1
        ? all.reduce((a, x) => a + (x - mean) ** 2, 0) / (all.length - 1)
        : 0;
      assert.is(r.count, all.length);
      assert.ok(Math.abs(r.mean - mean) <= 1e-12 * Math.max(1, Math.abs(mean)), `mean ${r.mean}`);
      assert.ok(
        Math.abs(r.variance - variance) <= (level ? 1e-8 : 1e-12) * variance + 1e-15,
        `var ${r.variance} vs ${variance} at ${level}`,
      );
      assert.is(r.min, Math.min(...all));
      assert.is(r.max, Math.max(...all));
      assert.is(r.rate_per_s, all.length > 1 ? 1000 : 0); // one sample per millisecond
      assert.is(r.t_last_us, 1_700_000_000_000_000 + (all.length - 1) * 1000);
    }
  }
});

test("a frame is due when it completes every_samples since the last due frame; configure() moves the bar", () => {
  const s = statsKernel.init({ every_samples: 1000 }, "c");
  const due = frames([300, 300, 300, 300, 300, 300, 300, 2500, 10], 5).map((f) =>
    statsKernel.step(s, f).due
  );
  // 1200 >= 1000 at the 4th frame; then 300, 600, 900, and 3400 with the 2500; then 10.
  assert.equal(due, [false, false, false, true, false, false, false, true, false]);
  statsKernel.configure!(s, { every_samples: 15 });
  assert.equal(frames([5, 5, 5, 20], 5, 2).map((f) => statsKernel.step(s, f).due), [
    true, // the 10 counted before the change, + 5
    false,
    false,
    true,
  ]);
});

test("only due frames become machine events", () => {
  const s = statsKernel.init({ every_samples: 600 }, "c");
  const events = frames([500, 500], 5).map((f) => statsActor.frameEvent(statsKernel.step(s, f), f));
  assert.is(events[0], undefined);
  assert.is(events[1]?.type, "frame");
});

test("a saved and loaded state steps to the same bits as the original", () => {
  const a = statsKernel.init({ every_samples: 50 }, "c");
  const fs = frames([40, 17, 90, 3, 200], 1e6, 3);
  for (const f of fs.slice(0, 2)) statsKernel.step(a, f);
  const b = statsKernel.load(statsKernel.save(a));
  for (const f of fs.slice(2)) {
    assert.equal(statsKernel.step(b, f), statsKernel.step(a, f));
  }
  assert.equal(Array.from(b), Array.from(a));
  assert.throws(() => statsKernel.load(new Uint8Array(56)), /expected 72 bytes, got 56/);
});

test.run();
