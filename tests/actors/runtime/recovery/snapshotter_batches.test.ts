/**
 * A stop's snapshots with a store that writes batches (the packed store): each snapshot is
 * encoded into its batch as it is taken, before the next instance's is taken, so that only its
 * bytes are held until its batch is written; a batch is taken while the one before is written,
 * and every snapshot is saved and loads back; a batch that fails is said, not thrown.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { MemoryJournal } from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import { Snapshotter } from "../../../../actors/runtime/recovery/snapshotter.ts";
import {
  PackedSnapshotStore,
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

function snapshotter(store: PackedSnapshotStore, log: (m: string) => void = () => {}) {
  const metrics = new HostMetrics({ host: "h" });
  const journal = new MemoryJournal();
  return new Snapshotter({ journal, store, metrics, log, now: () => 0, closing: () => true });
}

/** `store` with batches of `size` saves, each batch's writes and adds counted by `seen`. */
function counted(
  store: PackedSnapshotStore,
  size: number,
  seen: { added: number; writing: number; fail?: boolean },
): PackedSnapshotStore {
  const batch = store.batch.bind(store);
  Object.defineProperty(store, "savesInFlight", { value: size });
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
    const again = await PackedSnapshotStore.open(dir.path);
    assert.equal(await again.list(), all.map((s) => s.stream).sort());
    for (const slot of all) {
      const loaded = await snapshotter(again).load(slot);
      assert.ok(loaded, slot.stream);
      assert.is(loaded.pos, expected.get(slot.stream));
      assert.equal(loaded.kernel, slot.inst!.snapshot().kernel, slot.stream);
    }
    await again.close();
  } finally {
    dir.remove();
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

test.run();
