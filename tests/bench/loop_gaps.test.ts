import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import process from "node:process";
import { addGap, describeGaps, LoopGaps, noGaps } from "../../bench/_loop_gaps.ts";

const test = suite("bench _loop_gaps");

test("addGap() splits a gap into on the CPU, waiting to run and asleep, clamped to the gap", () => {
  const f = noGaps(true);
  addGap(f, { gapMs: 10, onCpuMs: 6, waitMs: 3 });
  addGap(f, { gapMs: 4, onCpuMs: 5, waitMs: 2 }); // read a little apart: clamped
  addGap(f, { gapMs: 8, onCpuMs: -0.1, waitMs: 1 });
  assert.equal(f, {
    gaps: 3,
    gap_ms: 22,
    longest_ms: 10,
    on_cpu_ms: 10,
    waiting_ms: 4,
    asleep_ms: 8,
    gcs: 0,
    gc_ms: 0,
  });
  assert.is(
    describeGaps(f),
    "3 gaps, 22 ms (longest 10 ms): on the CPU 10 ms, waiting to run 4.0 ms, asleep 8.0 ms; " +
      "0 collections, 0.0 ms",
  );
});

test("without scheduler counts a gap is counted and its split is unknown", () => {
  const f = noGaps(false);
  addGap(f, { gapMs: 5, onCpuMs: undefined, waitMs: undefined });
  assert.is(f.gaps, 1);
  assert.ok(Number.isNaN(f.on_cpu_ms) && Number.isNaN(f.gcs));
  assert.is(describeGaps(f), "1 gaps, 5.0 ms (longest 5.0 ms): (no scheduler counts here)");
  assert.is(describeGaps(noGaps(false)), "no gaps");
});

test("LoopGaps sees the event loop held by a busy loop as a gap of at least that long", async () => {
  const gaps = LoopGaps.start({ gapMs: 5 });
  await new Promise((r) => setTimeout(r, 20));
  const until = performance.now() + 30;
  while (performance.now() < until) { /* hold the event loop */ }
  await new Promise((r) => setTimeout(r, 20));
  const f = gaps.stop();
  assert.ok(f.gaps >= 1 && f.longest_ms >= 30, JSON.stringify(f));
  if (existsSync(`/proc/self/task/${process.pid}/schedstat`)) {
    // Some of the hold was on the CPU, and the parts add up to the gaps.
    assert.ok(f.on_cpu_ms > 0, JSON.stringify(f));
    assert.ok(Math.abs(f.on_cpu_ms + f.waiting_ms + f.asleep_ms - f.gap_ms) < 1e-6);
  }
});

test.run();
