/**
 * A stop bounded in time (`snapshots.stop_budget_ms`, the snapshotter's `stopBudgetMs`): it takes
 * first the instances without a stored snapshot, then the others by their inputs since their
 * last, most first; once a batch is written past the budget it takes no more, says how many it
 * left, and notes how far those left had published, as for those under `min_inputs`, so that the
 * next start replays them without publishing again. With either kind of store (batches or not).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { MemoryJournal, MemorySnapshotStore } from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import { Snapshotter } from "../../../../actors/runtime/recovery/snapshotter.ts";
import {
  PackedSnapshotStore,
  type SnapshotStore,
} from "../../../../actors/runtime/snapshots/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("stop_budget");

/**
 * 12 running stats slots: c0-c5 with a stored snapshot and 1 to 6 inputs since it (c5 the most),
 * c6-c11 without one; each has published through position 3.
 */
function slots(): Slot[] {
  const tally = new HostMetrics({ host: "h" }).tally("stats");
  return Array.from({ length: 12 }, (_, i) => {
    const key = `c${i}`;
    const s = newSlot(statsActor, key, tally);
    s.inst = ActorInstance.create(statsActor, key, statsActor.defaultConfig);
    s.inst.sinceSnapshot = i < 6 ? i + 1 : 1;
    s.status = "running";
    s.inst.pos = 3;
    s.publishedPos = 3;
    return s;
  });
}

/**
 * A stop of `slots()` with batches of 3 and a budget of 25 ms on a clock that moves 10 ms a
 * snapshot taken: what it saved in order, what it noted as published, and what it said.
 */
async function stopOf(store: SnapshotStore & { savesInFlight?: number }, budget?: number) {
  const all = slots();
  let clock = 0;
  for (const slot of all) {
    const inst = slot.inst!, snapshot = inst.snapshot.bind(inst);
    inst.snapshot = (detached?: boolean) => {
      clock += 10;
      return snapshot(detached);
    };
  }
  Object.defineProperty(store, "savesInFlight", { value: 3 });
  const order: string[] = [];
  const save = store.save.bind(store);
  store.save = (snap) => (order.push(snap.stream), save(snap));
  if (store.batch) {
    const batch = store.batch.bind(store);
    store.batch = () => {
      const b = batch(), add = b.add.bind(b);
      b.add = (snap) => (order.push(snap.stream), add(snap));
      return b;
    };
  }
  const said: string[] = [];
  const snaps = new Snapshotter({
    journal: new MemoryJournal(),
    store,
    metrics: new HostMetrics({ host: "h" }),
    log: (m) => said.push(m),
    now: () => clock,
    closing: () => true,
    ...(budget === undefined ? {} : { stopBudgetMs: budget }),
  });
  for (const s of all.slice(0, 6)) snaps.savedPos.set(s.stream, 0);
  const published = new Map<string, number>();
  await snaps.stopping(
    new Map(all.map((s) => [s.stream, s])),
    { notePublished: (p) => p.forEach((pos, stream) => published.set(stream, pos)) },
  );
  return { order: order.map((s) => s.replace("stats/", "")), published, said };
}

const NO_SNAPSHOT_FIRST = ["c6", "c7", "c8", "c9", "c10", "c11", "c5", "c4", "c3"];

for (const kind of ["without batches", "with batches"]) {
  const make = async (dir: string): Promise<SnapshotStore> =>
    kind === "with batches" ? await PackedSnapshotStore.open(dir) : new MemorySnapshotStore();

  test(`a stop past its budget takes no more batches, and notes those it left (${kind})`, async () => {
    const dir = tempDir();
    try {
      const { order, published, said } = await stopOf(await make(dir.path), 25);
      // 10 ms a snapshot: the first batch of 3 ends at 30 ms, past the 25.
      assert.equal(order, NO_SNAPSHOT_FIRST.slice(0, 3));
      const left = ["c0", "c1", "c2", "c3", "c4", "c5", "c9", "c10", "c11"];
      assert.equal([...published.keys()].map((s) => s.replace("stats/", "")).sort(), left.sort());
      assert.ok([...published.values()].every((pos) => pos === 3));
      assert.is(said.length, 1, said.join("\n"));
      assert.match(said[0]!, /the stop wrote 3 of 12 in 30 ms, its budget 25 ms/);
      assert.match(said[0]!, /the other 9 are restored/);
    } finally {
      dir.remove();
    }
  });

  test(`a stop within its budget takes every one, those without a snapshot first (${kind})`, async () => {
    const dir = tempDir();
    try {
      const { order, published, said } = await stopOf(await make(dir.path), 1_000);
      assert.equal(order, [...NO_SNAPSHOT_FIRST, "c2", "c1", "c0"]);
      assert.is(published.size, 0);
      assert.equal(said, []);
    } finally {
      dir.remove();
    }
  });

  test(`a stop without a budget takes every one in the host's order (${kind})`, async () => {
    const dir = tempDir();
    try {
      const { order } = await stopOf(await make(dir.path));
      assert.equal(order, Array.from({ length: 12 }, (_, i) => `c${i}`));
    } finally {
      dir.remove();
    }
  });
}

test.run();
