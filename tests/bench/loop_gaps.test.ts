import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import process from "node:process";
import { addGap, describeGaps, LoopGaps, noGaps, overlapMs } from "../../bench/_loop_gaps.ts";

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
    gc_longest_ms: 0,
    gc_in_gaps_ms: 0,
  });
  assert.is(
    describeGaps(f),
    "3 gaps, 22 ms (longest 10 ms): on the CPU 10 ms, waiting to run 4.0 ms, asleep 8.0 ms; " +
      "0 collections, 0.0 ms (longest 0.0 ms, 0.0 ms of it within the gaps)",
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

test("overlapMs() sums the time collections fall within gaps, partly or wholly", () => {
  const gaps = [{ startMs: 10, ms: 5 }, { startMs: 20, ms: 10 }, { startMs: 40, ms: 2 }];
  const gcs = [
    { startMs: 0, ms: 1 }, // before every gap
    { startMs: 9, ms: 2 }, // 1 ms inside the first
    { startMs: 14, ms: 7 }, // the first's last 1 ms and the second's first 1 ms
    { startMs: 25, ms: 1 }, // wholly inside the second
    { startMs: 35, ms: 1 }, // between gaps
  ];
  assert.is(overlapMs(gaps, gcs), 4);
  assert.is(overlapMs(gaps, []), 0);
  assert.is(overlapMs([], gcs), 0);
  assert.is(overlapMs([{ startMs: 0, ms: 100 }], gcs), 12);
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

test("LoopGaps counts the collections of a loop that allocates as it holds the event loop", async () => {
  const gaps = LoopGaps.start({ gapMs: 5 });
  await new Promise((r) => setTimeout(r, 20));
  const until = performance.now() + 60;
  let kept: number[][] = [];
  while (performance.now() < until) {
    kept.push(new Array<number>(64).fill(kept.length)); // young garbage: scavenges in the hold
    if (kept.length > 1_000) kept = [];
  }
  await new Promise((r) => setTimeout(r, 20));
  const f = gaps.stop();
  if (Number.isNaN(f.gcs)) return; // the runtime reports no collections (Deno)
  assert.ok(f.gcs >= 1 && f.gc_longest_ms > 0, JSON.stringify(f));
  // The collections ran inside the hold, so within a gap, and no more than there was of either.
  assert.ok(f.gc_in_gaps_ms > 0, JSON.stringify(f));
  assert.ok(f.gc_in_gaps_ms <= f.gc_ms + 1e-9 && f.gc_in_gaps_ms <= f.gap_ms, JSON.stringify(f));
});

test.run();
