/**
 * The packed store's hint file: a store closed cleanly opens from it, with each stream's newest
 * record and head as a read of its segments gives them (saved one by one, in batches, and copied
 * by a compaction), and without reading its segments; it is trusted only whole and when the
 * directory's segments are those it names at the sizes it says, and removed by every open.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import {
  type CorruptSnapshotInfo,
  decodeSnapshotBody,
  PackedSnapshotStore,
  type Snapshot,
  SnapshotCorruptError,
} from "../../../../actors/runtime/snapshots/mod.ts";
import { HINT_FILE } from "../../../../actors/runtime/snapshots/_hint_file.ts";
import { crc32 } from "../../../../actors/runtime/journal/mod.ts";
import { RECORD_HEAD } from "../../../../actors/runtime/snapshots/_packed_record.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("hint_file");

function snap(stream: string, pos: number, kernelBytes = 64): Snapshot {
  const kernel = new Uint8Array(kernelBytes);
  for (let i = 0; i < kernel.length; i++) kernel[i] = (pos * 31 + i) & 0xff;
  const meta = { srcPos: pos * 100, from: stream.length % 2 === 0 ? "even" : "odd" };
  return { stream, version: 2 + (pos % 3), pos, machine: { value: "idle", n: pos }, kernel, meta };
}

const STREAMS = Array.from({ length: 40 }, (_, i) => `stats/s${i}`);
/** A name longer than the room the hint file's buffer is first made with for all of them. */
const LONG = `collapse/${"l".repeat(12_000)}`;

/** A store in `dir` of small segments: saves one by one and in batches, compacted on the way. */
async function fill(dir: string): Promise<void> {
  const store = await PackedSnapshotStore.open(dir, { segmentBytes: 2048 });
  for (let round = 1; round <= 4; round++) {
    if (round % 2 === 0) {
      const batch = store.batch!();
      for (const s of STREAMS) batch.add(snap(s, round * 10 + s.length, 80 + round));
      await batch.write();
    } else {
      for (const s of STREAMS.slice(0, round * 10)) await store.save(snap(s, round * 10, 90));
    }
  }
  await store.save(snap("bars/big", 7, 3000)); // a segment of its own
  await store.save(snap("anomaly/ünïcode-é", 8));
  await store.save(snap(LONG, 9));
  await store.close();
}

/** Every stream's head as the start takes it, and its snapshot loaded whole. */
async function heads(store: PackedSnapshotStore, streams: string[]): Promise<unknown[]> {
  const out = [];
  for (const s of streams) {
    const head = await store.loadHead(s);
    const { body: _body, bodyReads: _reads, ...fields } = head!;
    out.push({ ...fields, body: decodeSnapshotBody(head!.body()) });
  }
  for (const s of streams) out.push(await store.load(s));
  return out;
}

const open = (dir: string, reports: CorruptSnapshotInfo[] = []) =>
  PackedSnapshotStore.open(dir, { segmentBytes: 2048, onCorrupt: (i) => reports.push(i) });

test("a store closed cleanly opens from its hint file: each stream's newest record and head as its segments give them", async () => {
  const dir = tempDir();
  try {
    await fill(dir.path);
    const packs = readdirSync(dir.path).filter((f) => f.endsWith(".pack"));
    assert.ok(packs.length >= 2, packs.join(", "));
    assert.ok(existsSync(join(dir.path, HINT_FILE)));
    const all = [...STREAMS, "bars/big", "anomaly/ünïcode-é", LONG].sort();
    const hinted = await open(dir.path);
    assert.not.ok(existsSync(join(dir.path, HINT_FILE)), "an open removes the hint file");
    assert.equal(await hinted.list(), all);
    const fromHints = await heads(hinted, all);
    await hinted.close();
    assert.ok(existsSync(join(dir.path, HINT_FILE)), "written again at the close");
    rmSync(join(dir.path, HINT_FILE));
    const scanned = await open(dir.path);
    assert.equal(await heads(scanned, all), fromHints);
    await scanned.close();
    assert.equal(fromHints[all.length + 1] as Snapshot, snap("bars/big", 7, 3000));
    assert.equal(fromHints[all.indexOf(LONG) + all.length] as Snapshot, snap(LONG, 9));
  } finally {
    dir.remove();
  }
});

test("opened from its hint file, a store reads no snapshot until it is loaded: a body damaged since the close is found then", async () => {
  const dir = tempDir();
  const reports: CorruptSnapshotInfo[] = [];
  try {
    await saveTwo(dir.path);
    flip(dir.path, RECORD_HEAD + "anomaly/m1".length + 40); // m1's snapshot, in its body
    const again = await open(dir.path, reports);
    assert.is(reports.length, 0);
    const head = await again.loadHead("anomaly/m1");
    assert.is(head?.pos, 1);
    assert.equal(head?.meta, snap("anomaly/m1", 1).meta);
    assert.throws(() => head!.body(), (err: unknown) => err instanceof SnapshotCorruptError);
    assert.is(await again.load("anomaly/m1"), undefined);
    assert.is(reports.length, 1);
    assert.match(reports[0]!.reason, /CRC mismatch/);
    assert.equal(await again.load("anomaly/m2"), snap("anomaly/m2", 2));
    await again.close();
    // Its hint stands (its body is checked at each load): the next open is from hints again.
    assert.ok(existsSync(join(dir.path, HINT_FILE)));
  } finally {
    dir.remove();
  }
});

test("a hint file is trusted only whole, and when the segments are those it names at their sizes", async () => {
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ["none", () => {}, /^3 snapshots placed from the hint file$/],
    ["its bytes damaged", (dir) => {
      const path = join(dir, HINT_FILE), bytes = readFileSync(path);
      bytes[bytes.length - 3]! ^= 0x01;
      writeFileSync(path, bytes);
    }, /^2 segments read \(the hint file is damaged\)$/],
    ["cut short", (dir) => {
      const path = join(dir, HINT_FILE);
      writeFileSync(path, readFileSync(path).subarray(0, 30));
    }, /^2 segments read \(the hint file is damaged\)$/],
    [
      "a segment grown",
      (dir) => appendFileSync(join(dir, "snapshots-1.pack"), new Uint8Array(3)),
      /^2 segments read \(segment 1 is of \d+ bytes, the hint file says \d+\)$/,
    ],
    [
      "a segment more",
      (dir) => writeFileSync(join(dir, "snapshots-9.pack"), new Uint8Array(0)),
      /^3 segments read \(the hint file names 2 segments, the directory holds 3\)$/,
    ],
    ["no hint file", (dir) => rmSync(join(dir, HINT_FILE)), /^2 segments read \(no hint file\)$/],
  ];
  for (const [what, change, opened] of cases) {
    const dir = tempDir();
    const reports: CorruptSnapshotInfo[] = [];
    try {
      await saveTwo(dir.path, snap("bars/big", 3, 3000)); // segment 1, the newest
      // A damaged body in an older segment: reported when the open reads its segments (its head
      // not read, and read again at loadHead), not when it opens from a hint.
      flip(dir.path, RECORD_HEAD + "anomaly/m1".length + 40);
      change(dir.path);
      const again = await open(dir.path, reports);
      const hinted = what === "none";
      assert.match(again.opened, opened, what);
      assert.is(await again.loadHead("anomaly/m1") !== undefined, hinted, what);
      assert.is(reports.length, hinted ? 0 : 1, `${what}: ${JSON.stringify(reports)}`);
      assert.equal(await again.load("anomaly/m2"), snap("anomaly/m2", 2), what);
      assert.not.ok(existsSync(join(dir.path, HINT_FILE)), what);
      await again.close();
    } finally {
      dir.remove();
    }
  }
});

test("a start's heads held in memory are given at once, from the hint file or a read of the segments; none once the store saves", async () => {
  const dir = tempDir();
  try {
    await saveTwo(dir.path, snap("bars/big", 3, 3000));
    for (const from of ["hints", "segments"]) {
      if (from === "segments") rmSync(join(dir.path, HINT_FILE));
      const store = await open(dir.path);
      assert.ok(store.hasHeadNow("anomaly/m1"), from);
      const head = store.headNow("anomaly/m1");
      assert.equal([head?.stream, head?.pos, head?.version], ["anomaly/m1", 1, 3], from);
      assert.equal(head?.meta, snap("anomaly/m1", 1).meta, from);
      assert.equal(decodeSnapshotBody(head!.body()), snap("anomaly/m1", 1), from);
      assert.not.ok(store.hasHeadNow("anomaly/none"), from);
      assert.is(store.headNow("anomaly/none"), undefined, from);
      await store.save(snap("anomaly/m3", 3));
      assert.not.ok(store.hasHeadNow("anomaly/m2"), `${from}: the start is over`);
      assert.is(store.headNow("anomaly/m2"), undefined, from);
      assert.is((await store.loadHead("anomaly/m2"))?.pos, 2, from);
      await store.close();
    }
  } finally {
    dir.remove();
  }
});

test("a head's meta of a source position alone comes back as saved at every size of its number, and a hint file of format 1 is read too", async () => {
  const metas: Array<Snapshot["meta"]> = [
    ...[0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 1.5, -1, NaN].map((
      srcPos,
    ) => ({ srcPos })),
    { srcPos: "7" },
    { srcPos: 5, then: 1 },
    { then: 1, srcPos: 5 },
    {},
    undefined,
  ];
  const streams = metas.map((_, i) => `anomaly/m${i}`);
  const dir = tempDir();
  try {
    let store = await open(dir.path);
    for (let i = 0; i < metas.length; i++) {
      const s = snap(streams[i]!, i + 1), meta = metas[i];
      if (meta === undefined) delete s.meta;
      else s.meta = meta;
      await store.save(s);
    }
    await store.close();
    for (const format of [2, 1]) {
      if (format === 1) toFormat1(join(dir.path, HINT_FILE));
      store = await open(dir.path);
      assert.match(store.opened, /^\d+ snapshots placed from the hint file$/, `format ${format}`);
      for (let i = 0; i < metas.length; i++) {
        const head = await store.loadHead(streams[i]!);
        assert.equal(head?.meta, metas[i], `format ${format}: ${JSON.stringify(metas[i])}`);
      }
      await store.close();
    }
  } finally {
    dir.remove();
  }
});

/**
 * Rewrites the hint file at `path` (format 2) in format 1, which a host of the version before
 * wrote: its streams' count before them, not after.
 */
function toFormat1(path: string): void {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.is(view.getUint32(8, true), 2);
  const streamsAt = 16 + view.getUint32(12, true) * 12, end = bytes.length - 4;
  const out = new Uint8Array(bytes.length);
  const outView = new DataView(out.buffer);
  out.set(bytes.subarray(0, streamsAt));
  outView.setUint32(8, 1, true);
  outView.setUint32(streamsAt, view.getUint32(end, true), true);
  out.set(bytes.subarray(streamsAt, end), streamsAt + 4);
  outView.setUint32(4, crc32(out, 8), true);
  writeFileSync(path, out);
}

/** A store in `dir` of two streams' snapshots, in segment 0, and `last` after them; closed. */
async function saveTwo(dir: string, last?: Snapshot): Promise<void> {
  const store = await open(dir);
  await store.save(snap("anomaly/m1", 1));
  await store.save(snap("anomaly/m2", 2));
  if (last !== undefined) await store.save(last);
  await store.close();
}

/** Flips one bit of segment 0's byte `at`, in place (the file's size unchanged). */
function flip(dir: string, at: number): void {
  const fd = openSync(join(dir, "snapshots-0.pack"), "r+");
  const b = new Uint8Array(1);
  readSync(fd, b, 0, 1, at);
  b[0]! ^= 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

test.run();
