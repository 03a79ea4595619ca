import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  statsActor,
  type StatsFrameEvent,
  statsKernel,
  statsSummary,
} from "../../../actors/stats/mod.ts";
import type { SampleFrame } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

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
      statsKernel.step(s, frame);
      const r = statsSummary(s);
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

test("a publication falls on the sample that completes every_samples; configure() moves the bar", () => {
  const s = statsKernel.init({ every_samples: 1000 }, "c");
  const fs = frames([300, 300, 300, 300, 300, 300, 300, 2500, 10], 5);
  const counts = fs.map((f) => statsKernel.step(s, f).map((p) => p.count));
  // Samples 1000, 2000 (in the 7th frame), then 3000 and 4000 within the 2,500.
  assert.equal(counts, [[], [], [], [1000], [], [], [2000], [3000, 4000], []]);
  // Each publication is stamped with its own sample's time, not the frame's last.
  const t0 = 1_700_000_000_000_000;
  const again = statsKernel.init({ every_samples: 1000 }, "c");
  const times = fs.flatMap((f) => statsKernel.step(again, f).map((p) => p.t_last_us));
  assert.equal(times, [999, 1999, 2999, 3999].map((i) => t0 + i * 1000));
  // 610 samples are in the open block (4,610 so far): past 15, it publishes at the next sample.
  statsKernel.configure!(s, { every_samples: 15 });
  assert.equal(frames([5, 5, 5, 20], 5, 2).map((f) => statsKernel.step(s, f).map((p) => p.count)), [
    [4611],
    [],
    [],
    [4626, 4641],
  ]);
});

test("only frames in which a publication fell become machine events, with each publication", () => {
  const s = statsKernel.init({ every_samples: 300 }, "c");
  const events = frames([250, 700], 5).map((f) => statsActor.frameEvent(statsKernel.step(s, f), f));
  assert.is(events[0], undefined);
  assert.is(events[1]?.type, "frame");
  const pubs = (events[1] as StatsFrameEvent).publications;
  assert.equal(pubs.map((p) => p.count), [300, 600, 900]);
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
  assert.equal(statsSummary(b), statsSummary(a));
  assert.throws(() => statsKernel.load(new Uint8Array(72)), /expected 96 bytes, got 72/);
});

test.run();
