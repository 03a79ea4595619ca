/**
 * The packed snapshot store (packed_snapshot_store.ts): snapshots appended to segment files, the
 * newest of each stream loaded, through reopening, segments rolled and compacted, records read
 * through opening's window whatever their length, a torn end of the newest segment cut (the
 * stream's snapshot before it loaded), damage in an older segment reported, and a directory of
 * the file store's snapshots read and superseded.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  type CorruptSnapshotInfo,
  FileSnapshotStore,
  PackedSnapshotStore,
  type Snapshot,
} from "../../../../actors/runtime/snapshots/mod.ts";
import { SCAN_WINDOW_BYTES } from "../../../../actors/runtime/snapshots/_scan_window.ts";
import { HINT_FILE } from "../../../../actors/runtime/snapshots/_hint_file.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("packed_snapshot_store");

function snap(stream: string, pos: number, kernelBytes = 64): Snapshot {
  const kernel = new Uint8Array(kernelBytes);
  for (let i = 0; i < kernel.length; i++) kernel[i] = (pos * 31 + i) & 0xff;
  return { stream, version: 2, pos, machine: { value: "idle", n: pos }, kernel };
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".pack")).sort();

/** The store in `dir` as a crash leaves it: no hint file, so the next open reads its segments. */
const crashed = (dir: string) => rmSync(join(dir, HINT_FILE), { force: true });

async function positions(store: PackedSnapshotStore, streams: string[]): Promise<number[]> {
  return await Promise.all(streams.map(async (s) => (await store.load(s))?.pos ?? -1));
}

test("the newest snapshot of each stream, through reopening", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    assert.is(await store.load("stats/a"), undefined);
    const streams = Array.from({ length: 200 }, (_, i) => `stats/s${i}`);
    for (let round = 1; round <= 3; round++) {
      await Promise.all(streams.map((s) => store.save(snap(s, round * 10))));
    }
    await store.save(snap("anomaly/ünïcode-é", 7, 5000));
    assert.equal(await store.load("stats/s5"), snap("stats/s5", 30));
    assert.equal(await store.load("anomaly/ünïcode-é"), snap("anomaly/ünïcode-é", 7, 5000));
    await store.close();
    assert.throws(() => store.list(), /closed/);

    const again = await PackedSnapshotStore.open(dir.path);
    assert.equal(await again.list(), [...streams, "anomaly/ünïcode-é"].sort());
    assert.equal(await positions(again, streams), streams.map(() => 30));
    assert.equal(await again.load("stats/s199"), snap("stats/s199", 30));
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a start's loads read each record where it lies, a loaded snapshot its own bytes", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    await store.save(snap("stats/a", 1));
    await store.save(snap("stats/b", 2));
    await store.close();
    const reports: CorruptSnapshotInfo[] = [];
    const again = await PackedSnapshotStore.open(dir.path, { onCorrupt: (i) => reports.push(i) });
    const a = await again.load("stats/a"), b = await again.load("stats/b");
    assert.equal(a, snap("stats/a", 1), "the first load's bytes are not written over");
    assert.equal(b, snap("stats/b", 2));
    // The file emptied under the store: opening kept nothing of it.
    writeFileSync(join(dir.path, segments(dir.path)[0]!), new Uint8Array(0));
    assert.is(await again.load("stats/a"), undefined);
    assert.match(reports[0]!.reason, /0 of its \d+ bytes read/);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("opening reads records longer than its window, and across the window's edges", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path, { fsync: false });
    // 40 records of 200 KiB (the window's edges fall inside them) and one past the window.
    const streams = Array.from({ length: 40 }, (_, i) => `anomaly/m${i}`);
    for (const [i, s] of streams.entries()) await store.save(snap(s, i + 1, 200 << 10));
    const big = snap("anomaly/big", 7, SCAN_WINDOW_BYTES + 12345);
    await store.save(big);
    await store.save(snap("anomaly/last", 9, 1000));
    await store.close();
    const [seg] = segments(dir.path);
    const path = join(dir.path, seg!);
    const whole = statSync(path).size;
    // A second long record of m0 cut short by a crash: the newest segment is cut there.
    const probe = await PackedSnapshotStore.open(join(dir.path, "probe"), { fsync: false });
    await probe.save(snap("anomaly/m0", 99, 200 << 10));
    await probe.close();
    const probeBytes = readFileSync(join(dir.path, "probe", segments(join(dir.path, "probe"))[0]!));
    appendFileSync(path, probeBytes.subarray(0, probeBytes.length - 1000));

    const again = await PackedSnapshotStore.open(dir.path);
    assert.is(statSync(path).size, whole, "cut after the last whole record");
    for (const [i, s] of streams.entries()) {
      assert.equal(await again.load(s), snap(s, i + 1, 200 << 10), s);
    }
    assert.equal(await again.load("anomaly/big"), big);
    assert.is((await again.load("anomaly/last"))?.pos, 9);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("segments roll at their size, and one mostly superseded is compacted away", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path, { segmentBytes: 4096 });
    const streams = Array.from({ length: 20 }, (_, i) => `bars/b${i}`);
    for (let round = 1; round <= 12; round++) {
      for (const s of streams) await store.save(snap(s, round, 100));
    }
    // 20 records of ~200 bytes a round, 12 rounds: 48 KiB written, ~4 KiB live.
    const files = segments(dir.path);
    assert.ok(files.length <= 4, `segments left: ${files.join(", ")}`);
    for (const f of files) assert.ok(statSync(join(dir.path, f)).size <= 4096, f);
    assert.equal(await positions(store, streams), streams.map(() => 12));
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path, { segmentBytes: 4096 });
    assert.equal(await positions(again, streams), streams.map(() => 12));
    await again.save(snap("bars/b0", 13, 100));
    assert.is((await again.load("bars/b0"))?.pos, 13);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a torn end of the newest segment is cut: the snapshot before it loads", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    await store.save(snap("stats/a", 1));
    await store.save(snap("stats/b", 1));
    await store.close();
    const [seg] = segments(dir.path);
    const path = join(dir.path, seg!);
    const whole = statSync(path).size;
    // A second snapshot of `a` written whole but its bytes damaged (a crash before its fsync),
    // then the start of a third cut short.
    const probe = await PackedSnapshotStore.open(join(dir.path, "probe"));
    await probe.save(snap("stats/a", 2));
    await probe.save(snap("stats/a", 3));
    await probe.close();
    const probeBytes = readFileSync(join(dir.path, "probe", segments(join(dir.path, "probe"))[0]!));
    const half = probeBytes.length / 2;
    const second = probeBytes.slice(0, half);
    second[second.length - 3]! ^= 0xff;
    appendFileSync(path, second);
    appendFileSync(path, probeBytes.subarray(half, half + 20));

    const reopened = await PackedSnapshotStore.open(dir.path);
    assert.is((await reopened.load("stats/a"))?.pos, 1, "the snapshot before the torn one");
    assert.is((await reopened.load("stats/b"))?.pos, 1);
    assert.is(statSync(path).size, whole, "cut after the last whole record");
    await reopened.save(snap("stats/a", 4));
    await reopened.close();
    const last = await PackedSnapshotStore.open(dir.path);
    assert.is((await last.load("stats/a"))?.pos, 4, "a save after the cut is read");
    await last.close();
  } finally {
    dir.remove();
  }
});

test("damage in an older segment is reported, and its streams are absent", async () => {
  const dir = tempDir();
  const reports: CorruptSnapshotInfo[] = [];
  try {
    const store = await PackedSnapshotStore.open(dir.path, { segmentBytes: 600 });
    await store.save(snap("stats/a", 1, 400)); // segment 0
    await store.save(snap("stats/b", 1, 400)); // segment 1
    await store.save(snap("stats/c", 1, 400)); // segment 2, the newest
    await store.close();
    const files = segments(dir.path);
    assert.is(files.length, 3, files.join(", "));
    // Segment 0's header damaged: not read, said at the open. Segment 1's snapshot damaged:
    // said when it is loaded. Each is then absent: the journal rebuilds its stream.
    const damage = (file: string, at: (length: number) => number) => {
      const bytes = readFileSync(join(dir.path, file));
      bytes[at(bytes.length)]! ^= 0x01;
      writeFileSync(join(dir.path, file), bytes);
    };
    damage(files[0]!, () => 14); // the name's first byte
    damage(files[1]!, (length) => length - 5);
    crashed(dir.path);

    const reopened = await PackedSnapshotStore.open(dir.path, {
      segmentBytes: 600,
      onCorrupt: (info) => reports.push(info),
    });
    assert.is(reports.length, 1, JSON.stringify(reports));
    assert.match(reports[0]!.where, `${files[0]!} at byte 0`);
    assert.match(reports[0]!.reason, /header fails its CRC/);
    assert.is(await reopened.load("stats/a"), undefined);
    assert.is(await reopened.load("stats/b"), undefined);
    assert.is(reports.length, 2);
    assert.is(reports[1]!.stream, "stats/b");
    assert.match(reports[1]!.reason, /CRC mismatch/);
    assert.is((await reopened.load("stats/c"))?.pos, 1);
    await reopened.close();
  } finally {
    dir.remove();
  }
});

test("opening takes each stream's newest record whatever segment it lies in, and falls back past a damaged newer one", async () => {
  const dir = tempDir();
  const reports: CorruptSnapshotInfo[] = [];
  try {
    const store = await PackedSnapshotStore.open(dir.path, { segmentBytes: 700 });
    // Four segments, each older one kept from compaction by a large record that stays live.
    for (const [stream, pos] of [["stats/x", 1], ["stats/x", 2], ["stats/y", 1]] as const) {
      await store.save(snap(stream, pos, 100));
      await store.save(snap(`bars/${stream.slice(6)}${pos}`, 1, 380));
    }
    await store.save(snap("stats/y", 2, 100)); // the newest segment, x at 3 after it
    await store.save(snap("stats/x", 3, 100));
    await store.close();
    const files = segments(dir.path).sort((a, b) => parseInt(a.slice(10)) - parseInt(b.slice(10)));
    assert.is(files.length, 4, files.join(", "));
    const reopen = () =>
      PackedSnapshotStore.open(dir.path, { segmentBytes: 700, onCorrupt: (i) => reports.push(i) });
    let again = await reopen();
    assert.equal(await positions(again, ["stats/x", "stats/y", "bars/x2"]), [3, 2, 1]);
    await again.close();
    // Segment 3 cut before its second record (x at 3): x's newest is segment 1's again.
    const newest = join(dir.path, files[3]!), bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, bytes.length - 1));
    again = await reopen();
    assert.equal(await positions(again, ["stats/x", "stats/y", "bars/x2"]), [2, 2, 1]);
    await again.close();
    // Segment 1's first header damaged: x falls back to segment 0's record, said at the open;
    // what follows it in segment 1 is not read.
    const older = join(dir.path, files[1]!), old = readFileSync(older);
    old[14]! ^= 0x01;
    writeFileSync(older, old);
    crashed(dir.path);
    again = await reopen();
    assert.equal(await positions(again, ["stats/x", "stats/y", "bars/x2", "bars/x1"]), [
      1,
      2,
      -1,
      1,
    ]);
    assert.is(reports.length, 1, JSON.stringify(reports));
    assert.match(reports[0]!.where, `${files[1]!} at byte 0`);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("the file store's snapshots are read, and removed once superseded", async () => {
  const dir = tempDir();
  try {
    const files = await FileSnapshotStore.open(dir.path);
    await files.save(snap("stats/a", 5));
    await files.save(snap("stats/b", 6));
    await files.close();
    const store = await PackedSnapshotStore.open(dir.path);
    assert.equal(await store.list(), ["stats/a", "stats/b"]);
    assert.equal(await store.load("stats/b"), snap("stats/b", 6));
    await store.save(snap("stats/a", 9));
    await store.close();
    const left = readdirSync(dir.path).filter((n) => n.endsWith(".snap"));
    assert.equal(left, ["stats=2Fb.snap"], "a's file went with its packed snapshot");
    const again = await PackedSnapshotStore.open(dir.path);
    assert.equal(await positions(again, ["stats/a", "stats/b"]), [9, 6]);
    await again.close();
    // Back to the file store would lose a's snapshot (its file is gone): refused, saying so.
    try {
      await FileSnapshotStore.open(dir.path);
      assert.unreachable("the file store opened a packed store's directory");
    } catch (err) {
      assert.match((err as Error).message, /holds the packed store's snapshots-0\.pack/);
    }
  } finally {
    dir.remove();
  }
});

test("a directory is open in one store at a time: a second open is refused, naming it", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    try {
      await PackedSnapshotStore.open(dir.path);
      assert.unreachable("a second store opened the directory");
    } catch (err) {
      assert.match((err as Error).message, `The snapshot directory ${dir.path} is in use`);
    }
    await store.save(snap("stats/a", 1));
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path);
    assert.is((await again.load("stats/a"))?.pos, 1, "open again once closed");
    await again.close();
  } finally {
    dir.remove();
  }
});

/** The files this process has open, where the system lists them (Linux's /proc). */
const openFiles = () => existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : 0;

test("a segment that cannot be read fails the open, which leaves no file open and the lock free", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    await store.save(snap("stats/a", 1));
    await store.close();
    // A later segment that is not a file: the first is opened before it is reached.
    const bad = join(dir.path, "snapshots-5.pack");
    mkdirSync(bad);
    const before = openFiles();
    try {
      await PackedSnapshotStore.open(dir.path);
      assert.unreachable("the store opened with a segment it cannot read");
    } catch (err) {
      assert.match((err as Error).message, /EISDIR|directory/i);
    }
    assert.is(openFiles(), before, "no segment left open");
    rmdirSync(bad);
    const again = await PackedSnapshotStore.open(dir.path);
    assert.is((await again.load("stats/a"))?.pos, 1, "the directory's lock was let go");
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a stream name the store cannot hold is refused, naming it", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    assert.throws(() => store.save(snap("", 1)), /stream "": its name must be 1 to 65,535 bytes/);
    await store.close();
    assert.throws(() => store.save(snap("stats/a", 1)), /closed/);
  } finally {
    dir.remove();
  }
});

test.run();
