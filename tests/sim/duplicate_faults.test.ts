/**
 * The simulator's `duplicate` fault: the feed log holds byte-for-byte copies of frames it already
 * holds (the same envelope id at a new sequence, a producer's retry). A copy of one of the last few
 * frames is within every instance's window of recent ids: the hosts pass over it, as the fault-free
 * run does. A copy of a frame far back is past the window: it is applied again, by the hosts as by
 * the fault-free run (the window is bounded; the outputs it gives carry the first application's
 * ids, which the checks accept as a second version). A host that applies a copy within the window
 * (the `apply_duplicate` sabotage) is caught. Runs without the fault keep their traces
 * (portable_trace.test.ts).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../actors/stats/mod.ts";
import { DUPLICATE_P, FAR_FRAMES, planFeed } from "../../sim/_sim_feed_generator.ts";
import { parseFaults } from "../../sim/faults.ts";
import { simulate } from "../../sim/simulator.ts";

const test = suite("simulator: duplicate ids");

test("the plan: copies only under the fault, drawn from their own PRNG, near and far", () => {
  const spec = { seed: 7, channels: 4, batch: 100, budget: 200_000 };
  const plain = planFeed(spec);
  assert.is(plain.copies.size, 0);
  const dup = planFeed({ ...spec, duplicates: true });
  // The frames are the same, with the copies (0 samples each) among them.
  assert.equal(dup.samples.filter((n) => n > 0), plain.samples);
  assert.is(dup.samples.length, plain.samples.length + dup.copies.size);
  const expected = plain.samples.length * DUPLICATE_P;
  assert.ok(Math.abs(dup.copies.size - expected) < expected / 2, `${dup.copies.size} copies`);
  const kinds = [...dup.copies.values()].map((c) => c.kind);
  assert.ok(kinds.includes("near") && kinds.includes("far"));
  for (const [seq] of dup.copies) assert.is(dup.samples[seq - 1], 0);
});

test("copies within the window are passed over by every host, across crashes and partitions", async () => {
  const r = await simulate({
    seed: 2,
    faults: parseFaults("all,duplicate"),
    durationS: 6,
    actors: [statsActor],
  });
  assert.ok(r.ok, JSON.stringify(r.violations));
  assert.ok(r.stats.copies > 0, "copies logged");
  assert.is(
    r.trace.filter((l) => / log copy seq=\d+ \((near|far)\)/.test(l)).length,
    r.stats.copies,
  );
  // Eight channels of ~25 frames each: no channel is FAR_FRAMES long, so every copy is within
  // the window, and nothing is applied again.
  assert.is(r.stats.reapplied, 0);
  assert.is(r.command, "troupe sim --seed 2 --faults all,duplicate --duration 6 --actors stats");
});

test(`copies of a frame ${FAR_FRAMES} frames of its channel back are applied again, as the fault-free run does`, async () => {
  // One channel, 80 frames a second: the channel is past FAR_FRAMES frames after ~4 virtual s.
  const r = await simulate({
    seed: 5,
    faults: parseFaults("duplicate"),
    durationS: 8,
    channels: 1,
    rate: 8000,
    actors: [statsActor],
  });
  assert.ok(r.ok, JSON.stringify(r.violations));
  assert.ok(r.stats.reapplied > 0, `inputs applied again: ${r.stats.reapplied}`);
  assert.ok(r.stats.reapplied < r.stats.copies, "the near copies are passed over");
});

test("a host that applies a copy within the window is caught", async () => {
  const r = await simulate({
    seed: 3,
    faults: parseFaults("duplicate"),
    durationS: 6,
    actors: [statsActor],
    sabotage: "apply_duplicate",
  });
  assert.not.ok(r.ok);
  const kinds = new Set(r.violations.map((v) => v.invariant));
  // Its state is not the fault-free run's, nor what its own journal replays to.
  assert.ok(kinds.has("outputs_equal_fault_free"), JSON.stringify(r.violations));
  assert.ok(kinds.has("recovery_equals_replay"), JSON.stringify(r.violations));
});

test.run();
