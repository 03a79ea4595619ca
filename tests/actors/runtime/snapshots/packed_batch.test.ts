/**
 * The packed store's batches (_packed_batch.ts): snapshots encoded into records in reused chunks
 * as they are added, written together, loaded back as saved (across chunks, one larger than a
 * chunk, through reopening), after the saves begun before them, with the chunks of a written
 * batch laid over by the next without harm to what it wrote; bad snapshots refused one by one.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  PackedSnapshotStore,
  type Snapshot,
  type SnapshotBatch,
} from "../../../../actors/runtime/snapshots/mod.ts";
import { CHUNK_BYTES } from "../../../../actors/runtime/snapshots/_packed_batch.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("packed_batch");

function snap(stream: string, pos: number, kernelBytes = 64): Snapshot {
  const kernel = new Uint8Array(kernelBytes);
  for (let i = 0; i < kernel.length; i++) kernel[i] = (pos * 31 + i * 7) & 0xff;
  return { stream, version: 3, pos, machine: { value: "idle", n: pos }, kernel };
}

function batchOf(store: PackedSnapshotStore, snaps: Snapshot[]): SnapshotBatch {
  const batch = store.batch();
  for (const s of snaps) batch.add(s);
  return batch;
}

test("a batch's snapshots load back as saved, across chunks, one larger than a chunk", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    const snaps = Array.from({ length: 400 }, (_, i) => snap(`anomaly/s${i}`, i + 1, 5000 + i));
    snaps.push(snap("anomaly/large", 9, CHUNK_BYTES + 1000), snap("stats/ünï", 4));
    assert.ok(snaps.reduce((n, s) => n + s.kernel.length, 0) > 2 * CHUNK_BYTES);
    const batch = batchOf(store, snaps);
    assert.is(batch.size, snaps.length);
    await batch.write();
    for (const s of snaps) assert.equal(await store.load(s.stream), s, s.stream);
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path);
    assert.equal(await again.list(), snaps.map((s) => s.stream).sort());
    for (const s of snaps) assert.equal(await again.load(s.stream), s, s.stream);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a batch is written after the saves begun before it: its snapshots are the newest", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    const older = [store.save(snap("stats/a", 1, 3000)), store.save(snap("stats/b", 1))];
    const batch = batchOf(store, [snap("stats/a", 2), snap("stats/b", 2, 9000)]);
    await Promise.all([...older, batch.write()]);
    assert.equal(await store.load("stats/a"), snap("stats/a", 2));
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path);
    assert.equal(await again.load("stats/a"), snap("stats/a", 2));
    assert.equal(await again.load("stats/b"), snap("stats/b", 2, 9000));
    await again.close();
  } finally {
    dir.remove();
  }
});

test("batches written one after another, over the chunks of the one before", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    const rounds = [1, 2, 3].map((r) =>
      Array.from({ length: 300 }, (_, i) => snap(`collapse/r${r}-${i}`, r * 1000 + i, 7000))
    );
    // Each written while the next is taken, as a stop does.
    let writing: Promise<void> = Promise.resolve();
    for (const round of rounds) {
      const batch = batchOf(store, round);
      await writing;
      writing = batch.write();
    }
    await writing;
    for (const s of rounds.flat()) assert.equal(await store.load(s.stream), s, s.stream);
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path);
    for (const s of rounds.flat()) assert.equal(await again.load(s.stream), s, s.stream);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a batch refuses a snapshot it cannot store, keeps the others, and is written once", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    const batch = store.batch();
    batch.add(snap("stats/good", 1));
    assert.throws(() => batch.add(snap("", 1)), /name must be 1 to 65,535 bytes, got 0/);
    assert.throws(() => batch.add({ ...snap("stats/x", 1), pos: -1 }), /"pos" must be/);
    assert.throws(
      () => batch.add({ ...snap("stats/y", 1), kernel: [1, 2] as unknown as Uint8Array }),
      /"kernel" must be bin/,
    );
    batch.add(snap("stats/good2", 2));
    assert.is(batch.size, 2);
    await batch.write();
    assert.equal(await store.list(), ["stats/good", "stats/good2"]);
    await rejectsWith(batch.write(), /twice/);
    assert.throws(() => batch.add(snap("stats/late", 1)), /written already/);
    await store.close();
  } finally {
    dir.remove();
  }
});

test("a closed store makes no batch, and a batch written after it closed is refused", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    const batch = batchOf(store, [snap("stats/a", 1)]);
    await store.close();
    assert.throws(() => store.batch(), /closed/);
    await rejectsWith(batch.write(), /closed/);
    const again = await PackedSnapshotStore.open(dir.path);
    assert.equal(await again.list(), []);
    await again.close();
  } finally {
    dir.remove();
  }
});

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable("it resolved");
}

test.run();
