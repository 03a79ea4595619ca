/**
 * A stop's snapshots, and a periodic round's, with a store that writes batches (the packed
 * store): each snapshot is encoded into its batch as it is taken, before the next instance's is
 * taken, so that only its bytes are held until its batch is written; a stop's batch is taken
 * while the one before is written, a round's is written after the journal's sync with the
 * snapshot that is no instance's, a stream's saves land in the order they were taken, and every
 * snapshot is saved and loads back; a batch that fails is said, not thrown.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { MemoryJournal } from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import {
  Snapshotter,
  type SnapshotterOptions,
} from "../../../../actors/runtime/recovery/snapshotter.ts";
import {
  MemorySnapshotStore,
  PackedSnapshotStore,
  type Snapshot,
  type SnapshotBatch,
} from "../../../../actors/runtime/snapshots/mod.ts";
import {
  encodeFrame,
  encodeValue,
  feedSubject,
  type InputRecord,
} from "../../../../protocol/mod.ts";
import { anomalyActor } from "../../../../actors/anomaly/mod.ts";
import { barsActor } from "../../../../actors/bars/mod.ts";
import { collapseActor } from "../../../../actors/collapse/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("snapshotter_batches");

/** A journaled frame of 4 samples of `value` for channel `key`, the `n`th of its channel. */
function frameRecord(key: string, value: number, n = 0): InputRecord {
  const t = new Float64Array(4).map((_, i) => 1_700_000_000_000_000 + (4 * n + i) * 15_000_000);
  const v = new Float64Array(4).map((_, i) => value + i);
  const frame = { channel: key, seq0: 4 * n, t, v };
  const payload = encodeFrame(frame, { id: `f-${key}-${n}`, src: "t" });
  return { kind: "frame", srcPos: 0, subject: feedSubject("t", key), payload };
}

/** `n` running slots of the stats kind, each with a frame of its own applied since its start. */
function slots(n: number): Slot[] {
  const tally = new HostMetrics({ host: "h" }).tally("stats");
  return Array.from({ length: n }, (_, i) => {
    const key = `c${i}`;
    const s = newSlot(statsActor, key, tally);
    s.inst = ActorInstance.create(statsActor, key, statsActor.defaultConfig);
    s.inst.skip(1, 0);
    s.inst.apply(frameRecord(key, i), 2);
    s.inst.sinceSnapshot = 1;
    return s;
  });
}

function snapshotter(
  store: PackedSnapshotStore,
  log: (m: string) => void = () => {},
  more: Partial<SnapshotterOptions> = {},
) {
  const metrics = new HostMetrics({ host: "h" });
  const journal = new MemoryJournal();
  return new Snapshotter({
    journal,
    store,
    metrics,
    log,
    now: () => 0,
    closing: () => true,
    ...more,
  });
}

/** `store` with batches of `size` saves, each batch's writes and adds counted by `seen`. */
function counted(
  store: PackedSnapshotStore,
  size: number,
  seen: { added: number; writing: number; mostWriting?: number; fail?: boolean },
  batchesInFlight = 1,
): PackedSnapshotStore {
  const batch = store.batch.bind(store);
  Object.defineProperty(store, "savesInFlight", { value: size });
  Object.defineProperty(store, "batchesInFlight", { value: batchesInFlight });
  store.batch = (): SnapshotBatch => {
    const b = batch();
    return {
      get size() {
        return b.size;
      },
      add(snap) {
        b.add(snap);
        seen.added++;
      },
      async write() {
        seen.writing++;
        seen.mostWriting = Math.max(seen.mostWriting ?? 0, seen.writing);
        await new Promise((r) => setTimeout(r, 5)); // a write that waits, as a file's does
        try {
          if (seen.fail) throw new Error("the disk is full");
          await b.write();
        } finally {
          seen.writing--;
        }
      },
    };
  };
  return store;
}

/**
 * The store in `dir` reopened lists the slots' streams (and `others`), and each loads back at the
 * position `expected` gives, its kernel's bytes those of its instance now.
 */
async function assertLoadsBack(
  dir: string,
  all: readonly Slot[],
  expected: ReadonlyMap<string, number>,
  others: readonly string[] = [],
): Promise<void> {
  const again = await PackedSnapshotStore.open(dir);
  assert.equal(await again.list(), [...all.map((s) => s.stream), ...others].sort());
  for (const slot of all) {
    const loaded = await snapshotter(again).load(slot);
    assert.ok(loaded, slot.stream);
    assert.is(loaded.pos, expected.get(slot.stream));
    assert.equal(loaded.kernel, slot.inst!.snapshot().kernel, slot.stream);
  }
  await again.close();
}

test("saveStopping() encodes each snapshot into its batch before it takes the next", async () => {
  const dir = tempDir();
  try {
    const all = slots(45);
    const seen = { added: 0, writing: 0 };
    const store = counted(await PackedSnapshotStore.open(dir.path), 4, seen);
    let taken = 0, held = 0, takenWhileWriting = 0;
    const expected = new Map<string, number>();
    for (const slot of all) {
      const inst = slot.inst!, snapshot = inst.snapshot.bind(inst);
      expected.set(slot.stream, inst.snapshot().pos);
      inst.snapshot = (detached?: boolean) => {
        held = Math.max(held, ++taken - seen.added);
        if (seen.writing > 0) takenWhileWriting++;
        return snapshot(detached);
      };
    }
    const snaps = snapshotter(store);
    await snaps.saveStopping(all);
    assert.is(taken, all.length);
    assert.is(seen.added, all.length);
    assert.is(held, 1, "one snapshot held before it is encoded, not a batch of them");
    assert.ok(takenWhileWriting > 0, "batches taken while the one before was written");
    assert.equal(snaps.savedPos, expected);
    await store.close();
    await assertLoadsBack(dir.path, all, expected);
  } finally {
    dir.remove();
  }
});

test("saveStopping() has up to the store's batchesInFlight batches written at once", async () => {
  for (const inFlight of [1, 3]) {
    const dir = tempDir();
    try {
      const all = slots(45);
      const seen = { added: 0, writing: 0, mostWriting: 0 };
      const store = counted(await PackedSnapshotStore.open(dir.path), 4, seen, inFlight);
      const expected = new Map(all.map((s) => [s.stream, s.inst!.snapshot().pos]));
      const snaps = snapshotter(store);
      await snaps.saveStopping(all);
      assert.is(seen.mostWriting, inFlight, `batches written at once, ${inFlight} allowed`);
      assert.is(seen.writing, 0, "every write ended before saveStopping resolved");
      assert.equal(snaps.savedPos, expected);
      await store.close();
      await assertLoadsBack(dir.path, all, expected);
    } finally {
      dir.remove();
    }
  }
});

test("a snapshot taken for a batch (not detached) encodes as a detached one does", () => {
  for (const def of [statsActor, anomalyActor, collapseActor, barsActor]) {
    const inst = ActorInstance.create(def, "c", def.defaultConfig);
    inst.skip(1, 0);
    for (let k = 0; k < 40; k++) inst.apply(frameRecord("c", 50 + (k % 7) * k, k), k + 2);
    const a = inst.snapshot(), b = inst.snapshot(false);
    const enc = (s: typeof a) => encodeValue({ m: s.machine, k: s.kernel, c: s.config, i: s.ids });
    assert.equal(enc(b), enc(a), def.kind);
  }
});

test("saveStopping() says a batch that could not be written, and goes on", async () => {
  const dir = tempDir();
  try {
    const all = slots(10);
    const seen = { added: 0, writing: 0, fail: true };
    const store = counted(await PackedSnapshotStore.open(dir.path), 4, seen);
    const said: string[] = [];
    const snaps = snapshotter(store, (m) => said.push(m));
    await snaps.saveStopping(all);
    assert.is(seen.added, 10);
    assert.equal(said, [
      "4 snapshots (stats/c0 and others) not saved: the disk is full",
      "4 snapshots (stats/c4 and others) not saved: the disk is full",
      "2 snapshots (stats/c8 and others) not saved: the disk is full",
    ]);
    assert.is(snaps.savedPos.size, 0);
    await store.close();
  } finally {
    dir.remove();
  }
});

test("saveStopping() with a store of single saves says the saves refused in one line", async () => {
  // A store without batches (the KV bucket's) whose saves a lost lease refuses, but one.
  class Refusing extends MemorySnapshotStore {
    override save(snap: Snapshot): Promise<void> {
      if (snap.stream === "stats/c3") return super.save(snap);
      return Promise.reject(new Error(`Cannot save a snapshot of ${snap.stream}: lease lost`));
    }
  }
  const said: string[] = [];
  const snaps = new Snapshotter({
    journal: new MemoryJournal(),
    store: new Refusing(),
    metrics: new HostMetrics({ host: "h" }),
    log: (m) => said.push(m),
    now: () => 0,
    closing: () => true,
  });
  await snaps.saveStopping(slots(10));
  assert.equal(said, [
    "9 snapshots (stats/c0 and others) not saved: Cannot save a snapshot of stats/c0: lease lost",
  ]);
  assert.equal([...snaps.savedPos.keys()], ["stats/c3"]);
});

/** What a round's store and journal saw: snapshots encoded before the write, syncs before it. */
async function roundOf(n: number, fail = false) {
  const dir = tempDir();
  const all = slots(n);
  const seen = { added: 0, writing: 0, fail };
  const store = counted(await PackedSnapshotStore.open(dir.path), 4, seen);
  const journal = new MemoryJournal();
  let syncs = 0, syncsAtWrite = -1, addedAtWrite = -1;
  const sync = journal.sync.bind(journal);
  journal.sync = () => (syncs++, sync());
  const write = store.batch.bind(store);
  store.batch = () => {
    const b = write();
    return {
      get size() {
        return b.size;
      },
      add: (snap: Snapshot) => b.add(snap),
      write: () => {
        syncsAtWrite = syncs;
        addedAtWrite = seen.added;
        return b.write();
      },
    };
  };
  const extra: Snapshot = {
    stream: "sys/edge",
    version: 1,
    pos: 9,
    machine: { xstate: { n: 1 }, config: null, ids: new Uint8Array(0) },
    kernel: new Uint8Array([1, 2, 3]),
    meta: { srcPos: 0 },
  };
  const said: string[] = [], extraSaved: Snapshot[] = [];
  let edgeDue = true; // as the host's edge: due once, till its position moves again
  const snaps = snapshotter(store, (m) => said.push(m), {
    journal,
    extra: () => edgeDue ? (edgeDue = false, extra) : undefined,
    extraSaved: (snap) => extraSaved.push(snap),
  });
  for (const slot of all) snaps.noteNews(slot);
  return {
    dir,
    all,
    seen,
    store,
    snaps,
    said,
    extraSaved,
    at: () => ({ syncsAtWrite, addedAtWrite }),
  };
}

test("a round's captures are encoded into one batch as taken, written after the journal's sync", async () => {
  const r = await roundOf(30);
  try {
    let taken = 0, held = 0;
    const expected = new Map<string, number>();
    for (const slot of r.all) {
      const inst = slot.inst!, snapshot = inst.snapshot.bind(inst);
      expected.set(slot.stream, inst.snapshot().pos);
      inst.snapshot = (detached?: boolean) => {
        held = Math.max(held, ++taken - r.seen.added);
        return snapshot(detached);
      };
    }
    assert.is(r.snaps.captureDue(1_000, 0, 100), false, "every one looked at");
    assert.is(taken, 30);
    assert.is(held, 1, "one snapshot held before it is encoded, not the round's");
    r.snaps.captureExtra(); // the round's end: its batch carries the edge's snapshot
    await r.snaps.flush();
    const { syncsAtWrite, addedAtWrite } = r.at();
    assert.ok(syncsAtWrite >= 1, "the journal synced before the batch was written");
    assert.is(addedAtWrite, 31, "the round's 30 and the edge's, in one batch");
    assert.equal(r.extraSaved.map((s) => s.stream), ["sys/edge"]);
    assert.equal(r.said, []);
    for (const [stream, pos] of expected) assert.is(r.snaps.savedPos.get(stream), pos, stream);
    await r.store.close();
    await assertLoadsBack(r.dir.path, r.all, expected, ["sys/edge"]);
  } finally {
    r.dir.remove();
  }
});

test("a stream's snapshots land in the order taken, queued and in rounds alike", async () => {
  const r = await roundOf(3);
  try {
    const [a, b] = r.all as [Slot, Slot, Slot];
    const step = (slot: Slot, n: number) => {
      slot.inst!.apply(frameRecord(slot.key, n, n), slot.inst!.pos + 1);
      slot.inst!.sinceSnapshot++;
      r.snaps.noteNews(slot);
    };
    r.snaps.capture(a); // queued, and its flush begun
    step(a, 1);
    r.snaps.captureDue(1_000, 0, 100); // a again, newer, in the round's batch
    step(a, 2);
    r.snaps.capture(a); // newer still: queued behind the round
    step(b, 3);
    r.snaps.captureDue(2_000, 0, 100);
    await r.snaps.flush();
    assert.is(r.snaps.savedPos.get(a.stream), a.inst!.pos);
    assert.is(r.snaps.savedPos.get(b.stream), b.inst!.pos);
    await r.store.close();
    const again = await PackedSnapshotStore.open(r.dir.path);
    assert.is((await snapshotter(again).load(a))?.pos, a.inst!.pos, "the newest of a's, last");
    assert.is((await snapshotter(again).load(b))?.pos, b.inst!.pos);
    await again.close();
  } finally {
    r.dir.remove();
  }
});

test("a round's batch that could not be written is said, and the rounds go on", async () => {
  const r = await roundOf(5, true);
  try {
    r.snaps.captureDue(1_000, 0, 100);
    await r.snaps.flush();
    assert.equal(r.said, ["6 snapshots (stats/c0 and others) not saved: the disk is full"]);
    assert.equal(r.extraSaved, []);
    assert.is(r.snaps.savedPos.size, 0);
    await r.store.close();
  } finally {
    r.dir.remove();
  }
});

test.run();
