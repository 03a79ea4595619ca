/**
 * The snapshotter's time-based captures (snapshotter.ts): a periodic round takes at most
 * SNAPSHOTS_PER_ROUND_MAX instances, and the next round goes on where it left off, so that on a
 * host of many quiet instances every one has its turn and no round stalls the host on all of them.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import {
  SNAPSHOT_SAVES_IN_FLIGHT_MAX,
  SNAPSHOTS_PER_ROUND_MAX,
  Snapshotter,
  type SnapshotterOptions,
} from "../../../../actors/runtime/recovery/snapshotter.ts";
import type { Snapshot } from "../../../../actors/runtime/snapshots/mod.ts";
import { dueExtra } from "../../../_support/due_extra.ts";
import { memorySnapshotter } from "../../../_support/memory_snapshotter.ts";

const test = suite("snapshotter");

/** `n` running slots of the stats kind, each with an input since its last snapshot. */
function slots(n: number): Slot[] {
  const tally = new HostMetrics({ host: "h" }).tally("stats");
  return Array.from({ length: n }, (_, i) => {
    const key = `c${i}`;
    const s = newSlot(statsActor, key, tally);
    s.inst = ActorInstance.create(statsActor, key, statsActor.defaultConfig);
    s.inst.sinceSnapshot = 1;
    return s;
  });
}

function snapshotter(
  store = new MemorySnapshotStore(),
  maxAgeMs?: number,
  extra: Pick<SnapshotterOptions, "extra" | "extraSaved"> = {},
): Snapshotter {
  return memorySnapshotter(store, { ...(maxAgeMs === undefined ? {} : { maxAgeMs }), ...extra });
}

/** Tells `snaps` of each slot's news, as the host does when an input is applied. */
function noted(snaps: Snapshotter, all: Slot[]): Snapshotter {
  for (const s of all) snaps.noteNews(s);
  return snaps;
}

/** The keys of the slots captured since last asked (a capture resets `sinceSnapshot`). */
function captured(snaps: Snapshotter, all: Slot[]): string[] {
  const keys: string[] = [];
  for (const s of all) {
    if (s.inst!.sinceSnapshot === 0) {
      keys.push(s.key);
      s.inst!.sinceSnapshot = 1; // an input since: due again once its period is over
      snaps.noteNews(s);
    }
  }
  return keys;
}

test("captureDue() takes at most SNAPSHOTS_PER_ROUND_MAX a round and goes on where it left off", async () => {
  const n = SNAPSHOTS_PER_ROUND_MAX * 2 + 37;
  const all = slots(n);
  const snaps = noted(snapshotter(), all);
  const every = 5000;
  snaps.captureDue(10_000, every);
  const first = captured(snaps, all);
  assert.equal(first, all.slice(0, SNAPSHOTS_PER_ROUND_MAX).map((s) => s.key));
  // A second later: the first ones are not due again yet; the round goes on from the next one.
  snaps.captureDue(11_000, every);
  const second = captured(snaps, all);
  assert.equal(
    second,
    all.slice(SNAPSHOTS_PER_ROUND_MAX, 2 * SNAPSHOTS_PER_ROUND_MAX).map((s) => s.key),
  );
  snaps.captureDue(12_000, every);
  assert.equal(captured(snaps, all), all.slice(2 * SNAPSHOTS_PER_ROUND_MAX).map((s) => s.key));
  // Every one had its turn: none is due before its period is over.
  snaps.captureDue(13_000, every);
  assert.equal(captured(snaps, all), []);
  // Once it is, the round starts again from the first.
  snaps.captureDue(15_000, every);
  assert.equal(captured(snaps, all), first);
  await snaps.flush();
});

test("roundMax() lets a round take enough for every instance to have its turn within maxAgeMs (the journal no snapshot covers is then that old at most); SNAPSHOTS_PER_ROUND_MAX otherwise", async () => {
  const n = 5000;
  assert.is(snapshotter().roundMax(1000, n), SNAPSHOTS_PER_ROUND_MAX, "no maxAgeMs");
  const snaps = snapshotter(undefined, 10_000);
  assert.is(snaps.roundMax(1000, 200), SNAPSHOTS_PER_ROUND_MAX, "few instances: the fixed bound");
  assert.is(snaps.roundMax(1000, n), 500);
  assert.is(snaps.roundMax(250, n), 125, "rounds of a quarter second");
  // Rounds a second apart, every instance with news: each is captured in the first 10 s (a
  // turn of maxAgeMs), against 50 s at 100 a round.
  const all = slots(n);
  noted(snaps, all);
  const firstAt = new Map<string, number>();
  for (let t = 10_000; t < 20_000; t += 1000) {
    snaps.captureDue(t, 5000, snaps.roundMax(1000, n));
    for (const key of captured(snaps, all)) if (!firstAt.has(key)) firstAt.set(key, t);
  }
  assert.is(firstAt.size, n);
  await snaps.flush();
});

test("captureDue() given a smaller bound takes that many, says it left off, and goes on from there", async () => {
  const all = slots(25);
  const snaps = noted(snapshotter(), all);
  assert.is(snaps.captureDue(10_000, 5000, 10), true);
  assert.equal(captured(snaps, all), all.slice(0, 10).map((s) => s.key));
  assert.is(snaps.captureDue(10_000, 5000, 10), true);
  assert.equal(captured(snaps, all), all.slice(10, 20).map((s) => s.key));
  assert.is(snaps.captureDue(10_000, 5000, 10), false, "the sweep is over");
  assert.equal(captured(snaps, all), all.slice(20).map((s) => s.key));
  await snaps.flush();
});

test("saveStopping() saves every instance with inputs since its snapshot", async () => {
  const all = slots(SNAPSHOTS_PER_ROUND_MAX + 10);
  const store = new MemorySnapshotStore();
  const snaps = snapshotter(store);
  all[3]!.inst!.sinceSnapshot = 0;
  await snaps.saveStopping(all);
  const saved = (await store.list()).sort();
  const expected = all.filter((_, i) => i !== 3).map((s) => s.stream).sort();
  assert.equal(saved, expected);
});

/** Flushes a stop's snapshots of `n` slots into `store`; the most saves in flight at once. */
async function mostInFlight(store: MemorySnapshotStore, n: number): Promise<number> {
  const all = slots(n);
  let inFlight = 0, most = 0;
  const save = store.save.bind(store);
  store.save = async (snap: Snapshot) => {
    most = Math.max(most, ++inFlight);
    // A save that waits, as a file's fsync does: the others start meanwhile.
    await new Promise((r) => setTimeout(r, 2));
    await save(snap);
    inFlight--;
  };
  const snaps = snapshotter(store);
  await snaps.saveStopping(all);
  assert.is(inFlight, 0);
  assert.equal((await store.list()).sort(), all.map((s) => s.stream).sort());
  assert.is(snaps.savedPos.size, all.length);
  return most;
}

test("flush() saves many snapshots at once, never more than SNAPSHOT_SAVES_IN_FLIGHT_MAX, and every one", async () => {
  const most = await mostInFlight(new MemorySnapshotStore(), SNAPSHOT_SAVES_IN_FLIGHT_MAX * 3 + 5);
  assert.is(most, SNAPSHOT_SAVES_IN_FLIGHT_MAX);
});

test("flush() has as many saves in flight as its store takes at once", async () => {
  const store = Object.assign(new MemorySnapshotStore(), { savesInFlight: 100 });
  assert.is(await mostInFlight(store, 250), 100);
});

test("saveStopping() takes a batch while the one before is written, never more at once", async () => {
  const all = slots(45);
  const store = Object.assign(new MemorySnapshotStore(), { savesInFlight: 4 });
  let taken = 0, saved = 0, held = 0, writing = 0, takenWhileWriting = 0;
  for (const slot of all) {
    const inst = slot.inst!, snapshot = inst.snapshot.bind(inst);
    inst.snapshot = () => {
      held = Math.max(held, ++taken - saved);
      if (writing > 0) takenWhileWriting++;
      return snapshot();
    };
  }
  const save = store.save.bind(store);
  store.save = async (snap: Snapshot) => {
    writing++;
    await new Promise((r) => setTimeout(r, 2)); // a write that waits, as a file's does
    await save(snap);
    writing--;
    saved++;
  };
  await snapshotter(store).saveStopping(all);
  assert.is(saved, all.length);
  assert.ok(held <= 2 * 4, `${held} snapshots held at once, for batches of 4`);
  assert.ok(takenWhileWriting > 0, "batches taken while the one before was written");
});

test("captureExtra() saves the snapshot that is no instance's alone when no instance's was taken to carry it, and says so once saved", async () => {
  const store = new MemorySnapshotStore();
  const { options, due, saved } = dueExtra();
  const snaps = snapshotter(store, undefined, options);
  snaps.captureExtra(); // nothing due: nothing saved
  await snaps.flush();
  assert.equal(saved, []);
  due(7);
  snaps.captureExtra();
  await snaps.flush();
  assert.equal(saved, [7]);
  assert.is((await store.load("_edge.h"))?.pos, 7);
  // A round that took an instance's: the extra goes with its batch.
  const all = slots(1);
  noted(snaps, all);
  due(9);
  snaps.captureDue(10_000, 0);
  snaps.captureExtra();
  await snaps.flush();
  assert.equal(saved, [7, 9]);
  assert.ok(await store.load(all[0]!.stream), "the instance's saved with it");
});

test.run();
