/**
 * A periodic round of snapshots (snapshot_round.ts) ends with the snapshot that is no instance's
 * (the edge's decisions): saved with the instances' the round took, or alone when it took none,
 * so that a host whose feed went quiet after a burst still saves where its input is journaled.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import type { HostTimers } from "../../../../actors/runtime/instances/host_timers.ts";
import { newSlot } from "../../../../actors/runtime/instances/slot.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { snapshotRound } from "../../../../actors/runtime/host/snapshot_round.ts";
import { dueExtra } from "../../../_support/due_extra.ts";
import { memorySnapshotter } from "../../../_support/memory_snapshotter.ts";

const test = suite("snapshot round");

/** A snapshotter whose extra snapshot is due when made so (`due`); the positions it saved. */
function withExtra() {
  const store = new MemorySnapshotStore();
  const { options, due, saved } = dueExtra();
  const snapshotter = memorySnapshotter(store, options);
  return { snapshotter, store, saved, due };
}

/** Timers whose callbacks run when `run` is called, in the order they were set. */
function steppedTimers(): HostTimers & { run(): void } {
  const pending: Array<() => void> = [];
  return {
    setTimeout: (fn) => void pending.push(fn),
    clearTimeout: () => {},
    run: () => {
      while (pending.length > 0) pending.shift()!();
    },
  };
}

for (const slice of [undefined, 2]) {
  const named = slice === undefined ? "at once" : `in slices of ${slice}`;

  test(`a round that takes no instance's snapshot saves the edge's alone when due (${named})`, async () => {
    const { snapshotter, saved, due } = withExtra();
    const timers = steppedTimers();
    const parts = { snapshotter, timers, stopped: () => false, instances: () => 0 };
    snapshotRound(parts, 1000, 100, slice);
    timers.run();
    await snapshotter.flush();
    assert.equal(saved, [], "nothing due: nothing saved");
    due(42);
    snapshotRound(parts, 1100, 100, slice);
    timers.run();
    await snapshotter.flush();
    assert.equal(saved, [42]);
  });

  test(`a round that takes instances' snapshots saves the edge's with them, once (${named})`, async () => {
    const { snapshotter, store, saved, due } = withExtra();
    const tally = new HostMetrics({ host: "h" }).tally("stats");
    const slots = Array.from({ length: 5 }, (_, i) => {
      const s = newSlot(statsActor, `c${i}`, tally);
      s.inst = ActorInstance.create(statsActor, s.key, statsActor.defaultConfig);
      s.inst.sinceSnapshot = 1;
      snapshotter.noteNews(s);
      return s;
    });
    const timers = steppedTimers();
    const parts = { snapshotter, timers, stopped: () => false, instances: () => 5 };
    due(43);
    snapshotRound(parts, 1000, 100, slice);
    timers.run(); // the slices after the first, each on a zero-delay timer
    await snapshotter.flush();
    assert.equal(saved, [43]);
    for (const s of slots) assert.ok(await store.load(s.stream), `${s.stream} saved`);
  });
}

test.run();
