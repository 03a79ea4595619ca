/**
 * A snapshot's head read without decoding its machine (snapshot_head.ts): the same stream,
 * version, position and meta as `decodeSnapshot` gives, the body decoded later to the same
 * snapshot, every msgpack type passed over to its end, damage named; the packed store's
 * `loadHead`, whose body is read again where it lies, into memory reused from one body to the
 * next; and a restorable snapshot made from a head decodes its body only when an instance is made
 * from it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Encoder } from "@msgpack/msgpack";
import { closeSync, existsSync, openSync, readdirSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import {
  type CorruptSnapshotInfo,
  decodeSnapshot,
  decodeSnapshotBody,
  encodeSnapshot,
  FileSnapshotStore,
  PackedSnapshotStore,
  readSnapshotHead,
  type Snapshot,
  SnapshotCorruptError,
} from "../../../../actors/runtime/snapshots/mod.ts";
import { skipValue } from "../../../../actors/runtime/snapshots/snapshot_head.ts";
import { RECORD_HEAD } from "../../../../actors/runtime/snapshots/_packed_record.ts";
import { HINT_FILE } from "../../../../actors/runtime/snapshots/_hint_file.ts";
import { RestorableLater } from "../../../../actors/runtime/recovery/restorable_snapshot.ts";
import { crc32 } from "../../../../actors/runtime/journal/mod.ts";
import { encodeValue } from "../../../../protocol/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("snapshot_head");

/** A machine of every msgpack shape a persisted snapshot may hold, large and small. */
function machine(n: number): unknown {
  const wide: Record<string, number> = {};
  for (let i = 0; i < 40; i++) wide[`k${i}`] = i * n;
  return {
    xstate: {
      status: "active",
      value: { watching: n % 2 === 0 ? "idle" : "open" },
      context: {
        n,
        neg: -n - 1,
        big: 2 ** 40 + n,
        negBig: -(2 ** 40) - n,
        x: n / 3,
        ok: n % 2 === 0,
        none: null,
        list: Array.from({ length: 20 }, (_, i) => i - 10),
        wide,
        text: "é".repeat(40) + "x".repeat(n * 10),
      },
      historyValue: {},
      children: {},
    },
    config: { threshold: 4.5, name: `c${n}` },
    ids: new Uint8Array(24).fill(n & 0xff),
  };
}

function snapshot(n: number, meta = true): Snapshot {
  const kernel = new Uint8Array(100 + n * 300).map((_, i) => (i * 7 + n) & 0xff);
  const s: Snapshot = {
    stream: `anomaly/m${n}`,
    version: 3,
    pos: 17 * n + 1,
    machine: machine(n),
    kernel,
  };
  if (meta) s.meta = { srcPos: 1000 + n, from: "test" };
  return s;
}

/** Snapshot bytes whose body is `body`, with its CRC made right. */
function sealed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  out.set([0x54, 0x52, 0x50, 0x53], 0);
  out.set(body, 8);
  new DataView(out.buffer).setUint32(4, crc32(out, 8), true);
  return out;
}

test("a head says what the decoded snapshot says; its body decodes to the same snapshot", () => {
  for (const n of [0, 1, 2, 7, 300]) {
    for (const meta of [true, false]) {
      const bytes = encodeSnapshot(snapshot(n, meta));
      const whole = decodeSnapshot(bytes);
      const head = readSnapshotHead(bytes);
      assert.equal(
        { stream: head.stream, version: head.version, pos: head.pos, meta: head.meta },
        { stream: whole.stream, version: whole.version, pos: whole.pos, meta: whole.meta },
      );
      assert.ok(head.body() === bytes);
      assert.equal(decodeSnapshotBody(head.body()), whole);
    }
  }
});

test("skipValue() passes over every msgpack type to the end of its value", () => {
  const ext = new Encoder(); // dates as msgpack's timestamp extension (fixext 4 and 8, ext 8)
  const values: unknown[] = [
    0,
    127,
    128,
    -1,
    -33,
    -200,
    -40_000,
    -3_000_000_000,
    255,
    65_535,
    4_000_000_000,
    2 ** 53 - 1,
    1.5,
    null,
    true,
    false,
    "",
    "a".repeat(31),
    "a".repeat(200),
    "a".repeat(70_000),
    new Uint8Array(3),
    new Uint8Array(300),
    new Uint8Array(70_000),
    Array.from({ length: 15 }, (_, i) => i),
    Array.from({ length: 16 }, (_, i) => [i, { i }]),
    Array.from({ length: 70_000 }, () => 1),
    Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, [i]])),
    Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i])),
    { deep: { deeper: { deepest: [1, [2, [3, { x: "y" }]]] } } },
  ];
  for (const v of values) {
    const bytes = encodeValue(v);
    assert.is(skipValue(bytes, 0), bytes.length, JSON.stringify(v)?.slice(0, 60));
    const twice = new Uint8Array(bytes.length * 2);
    twice.set(bytes, 0);
    twice.set(bytes, bytes.length);
    assert.is(skipValue(twice, bytes.length), twice.length);
  }
  for (const d of [new Date(1_000_000), new Date(1_700_000_000_123), new Date(-1)]) {
    const bytes = ext.encode({ at: d, after: 1 });
    assert.is(skipValue(bytes, 0), bytes.length, String(d));
  }
  const str32 = encodeValue("x".repeat(70_000));
  assert.throws(() => skipValue(str32.subarray(0, 1000), 0), /runs past its end/);
  assert.throws(() => skipValue(new Uint8Array([0x92, 0x01, 0xc1]), 0), /0xc1/);
  assert.throws(() => skipValue(new Uint8Array([0x93, 0x01]), 0), /runs past its end/);
});

test("damaged or ill-formed heads are refused, saying what is wrong", () => {
  const good = encodeSnapshot(snapshot(2));
  const flipped = good.slice();
  flipped[good.length - 3]! ^= 1;
  assert.throws(() => readSnapshotHead(flipped), /CRC mismatch/);
  const body = good.subarray(8);
  const cut = sealed(body.subarray(0, body.length - 40));
  assert.throws(() => readSnapshotHead(cut), /runs past its end/);
  const bad = (fields: Record<string, unknown>, pattern: RegExp) => {
    const base = {
      f: 2,
      stream: "stats/a",
      version: 1,
      pos: 3,
      machine: {},
      kernel: new Uint8Array(2),
    };
    const bytes = sealed(encodeValue({ ...base, ...fields }));
    try {
      readSnapshotHead(bytes);
      assert.unreachable(`read: ${JSON.stringify(fields)}`);
    } catch (err) {
      assert.instance(err, SnapshotCorruptError);
      assert.match((err as Error).message, pattern);
    }
  };
  bad({ kernel: "not bytes" }, /"kernel" must be bin, got .*undefined/);
  bad({ f: 3 }, /format 3, this code reads 2/);
  bad({ pos: -1 }, /"pos" must be an integer >= 0, got -1/);
  bad({ stream: "" }, /"stream" must be a non-empty string/);
  bad({ meta: { srcPos: [1] } }, /"meta.srcPos" must be a number or a string, got an array/);
  assert.throws(() => readSnapshotHead(sealed(encodeValue([1, 2]))), /the body is not a map/);
  const extra = new Uint8Array([...encodeValue({ f: 2 }), 0x01]);
  assert.throws(() => readSnapshotHead(sealed(extra)), /1 bytes left over/);
});

test("the packed store's loadHead: the head of the newest snapshot, damage reported", async () => {
  const dir = tempDir();
  const reports: CorruptSnapshotInfo[] = [];
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    await store.save(snapshot(1));
    await store.save(snapshot(2));
    await store.save({ ...snapshot(1), pos: 99 });
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path, { onCorrupt: (i) => reports.push(i) });
    const one = await again.loadHead("anomaly/m1");
    assert.is(one?.pos, 99);
    const body = decodeSnapshotBody(one!.body()), want = snapshot(1);
    assert.equal(body, decodeSnapshot(one!.body()));
    assert.equal([...body.kernel], [...want.kernel]);
    assert.equal(
      (body.machine as { xstate: unknown }).xstate,
      (want.machine as { xstate: unknown }).xstate,
    );
    // A second head's read does not write over the first one's body.
    const two = await again.loadHead("anomaly/m2");
    assert.equal(decodeSnapshotBody(one!.body()), body);
    assert.equal(decodeSnapshotBody(two!.body()), snapshot(2));
    assert.equal(await again.loadHead("anomaly/m9"), undefined);
    assert.is(reports.length, 0);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("opening reads each record's head in passing: the start's loadHead reads nothing again, and one that did not read is read then, and reported", async () => {
  const dir = tempDir();
  const reports: CorruptSnapshotInfo[] = [];
  try {
    const store = await PackedSnapshotStore.open(dir.path, { segmentBytes: 4096 });
    for (let n = 1; n <= 6; n++) await store.save(snapshot(n));
    await store.close();
    const first = join(
      dir.path,
      readdirSync(dir.path).filter((f) => f.endsWith(".pack")).sort()[0]!,
    );
    // The first segment holds m1's record, then m2's: one byte of m2's snapshot damaged.
    const fd = openSync(first, "r+");
    const flip = (at: number) => {
      const b = new Uint8Array(1);
      readSync(fd, b, 0, 1, at);
      b[0]! ^= 0x01;
      writeSync(fd, b, 0, 1, at);
    };
    const m1 = RECORD_HEAD + "anomaly/m1".length + encodeSnapshot(snapshot(1)).length;
    flip(m1 + 300);
    rmSync(join(dir.path, HINT_FILE)); // as a crash leaves the store: its segments read whole
    const again = await PackedSnapshotStore.open(dir.path, { onCorrupt: (i) => reports.push(i) });
    // m1's record damaged under the open store: its head was read at the opening.
    flip(200);
    closeSync(fd);
    const one = await again.loadHead("anomaly/m1");
    assert.is(one?.pos, snapshot(1).pos);
    assert.equal(one?.meta, snapshot(1).meta);
    assert.throws(() => one!.body(), (err: unknown) => err instanceof SnapshotCorruptError);
    assert.is(reports.length, 0);
    assert.is(await again.loadHead("anomaly/m2"), undefined);
    assert.is(reports.length, 1, JSON.stringify(reports));
    assert.is(reports[0]!.stream, "anomaly/m2");
    assert.match(reports[0]!.reason, /CRC mismatch/);
    assert.equal(decodeSnapshotBody((await again.loadHead("anomaly/m6"))!.body()), snapshot(6));
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a start's head has its body read again where it lies: moved by a compaction, refused once superseded or closed", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path, { segmentBytes: 64 << 10 });
    for (let n = 1; n <= 12; n++) await store.save(snapshot(n));
    await store.close();
    const first = readdirSync(dir.path).filter((f) => f.endsWith(".pack")).sort()[0]!;
    const again = await PackedSnapshotStore.open(dir.path, { segmentBytes: 64 << 10 });
    const head = (await again.loadHead("anomaly/m1"))!;
    const other = (await again.loadHead("anomaly/m2"))!;
    // The others saved again until the first segment is mostly stale and compacted away.
    for (let round = 0; round < 3; round++) {
      for (let n = 3; n <= 12; n++) await again.save(snapshot(n));
    }
    assert.not.ok(existsSync(join(dir.path, first)), "the head's segment compacted away");
    assert.equal(decodeSnapshotBody(head.body()), snapshot(1), "read where it lies now");
    await again.save({ ...snapshot(2), pos: 1000 });
    assert.throws(() => other.body(), /anomaly\/m2 again: .* another snapshot/);
    await again.close();
    assert.throws(() => head.body(), /closed/);
  } finally {
    dir.remove();
  }
});

test("a start's bodies are read into memory reused from one to the next: a restorable snapshot made from one reads it again once written over, and its machine and configuration keep no view of it", async () => {
  const dir = tempDir();
  try {
    const store = await PackedSnapshotStore.open(dir.path);
    const bin = (n: number) => new Uint8Array(64).fill(n);
    const withBins = (n: number): Snapshot => {
      const s = snapshot(n);
      const m = s.machine as { xstate: { context: Record<string, unknown> }; config: object };
      m.xstate.context.blob = bin(n);
      m.xstate.context.nested = [{ deep: bin(n + 100) }];
      m.config = { ...m.config, key: bin(n + 50) };
      return s;
    };
    await store.save(withBins(1));
    await store.save(withBins(2));
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path);
    const one = new RestorableLater((await again.loadHead("anomaly/m1"))!);
    const two = new RestorableLater((await again.loadHead("anomaly/m2"))!);
    const machineOne = one.machine as {
      context: { blob: Uint8Array; nested: [{ deep: Uint8Array }] };
    };
    const configOne = one.config as { key: Uint8Array };
    const kernelOne = one.kernel;
    // The second body is read into the memory the first was read into.
    assert.equal([...two.kernel], [...snapshot(2).kernel]);
    assert.ok(kernelOne.buffer === two.kernel.buffer, "one memory for both bodies");
    // What the first's machine and configuration hold is their own.
    assert.equal([...machineOne.context.blob], [...bin(1)]);
    assert.equal([...machineOne.context.nested[0].deep], [...bin(101)]);
    assert.equal([...configOne.key], [...bin(51)]);
    assert.not.ok(machineOne.context.blob.buffer === kernelOne.buffer);
    // The first's fields, read after the second's body, are the first's: read again.
    assert.equal([...one.kernel], [...snapshot(1).kernel]);
    assert.equal([...one.ids], [...new Uint8Array(24).fill(1)]);
    assert.equal((one.machine as { context: { n: number } }).context.n, 1);
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a start's bodies asked for in the order they lie are read many at once; a file store's snapshot holds its own", async () => {
  const dir = tempDir();
  try {
    const files = await FileSnapshotStore.open(dir.path);
    await files.save(snapshot(40));
    await files.close();
    const store = await PackedSnapshotStore.open(dir.path);
    for (let n = 1; n <= 30; n++) await store.save(snapshot(n));
    await store.close();
    const again = await PackedSnapshotStore.open(dir.path);
    const heads = await Promise.all(
      Array.from({ length: 30 }, (_, i) => again.loadHead(`anomaly/m${i + 1}`)),
    );
    const reads = () => heads[0]!.bodyReads!();
    const inOrder = [...heads].sort((a, b) => a!.order! - b!.order!);
    assert.equal(inOrder.map((h) => h!.stream), heads.map((h) => h!.stream), "saved in this order");
    const before = reads();
    for (const h of [...inOrder].reverse()) {
      assert.is(decodeSnapshotBody(h!.body()).pos, h!.pos);
    }
    assert.is(reads() - before, 30, "out of order: one read each");
    for (const h of inOrder) {
      assert.equal(decodeSnapshotBody(h!.body()), snapshot(heads.indexOf(h) + 1));
    }
    assert.ok(reads() - before - 30 <= 2, `in order: ${reads() - before - 30} reads`);
    const file = (await again.loadHead("anomaly/m40"))!;
    assert.is(file.order, undefined);
    assert.equal(decodeSnapshotBody(file.body()), snapshot(40));
    await again.close();
  } finally {
    dir.remove();
  }
});

test("a restorable snapshot made from a head decodes its body when first read", () => {
  const s = snapshot(7);
  const bytes = encodeSnapshot(s);
  const head = readSnapshotHead(bytes), held = head.body;
  let bodies = 0;
  head.body = () => (bodies++, held());
  const later = new RestorableLater(head);
  assert.is(later.pos, s.pos);
  assert.is(later.srcPos, 1007);
  assert.is(bodies, 0);
  const m = s.machine as { xstate: unknown; config: unknown; ids: Uint8Array };
  assert.equal(later.config, m.config);
  assert.equal(later.machine, m.xstate);
  assert.equal([...later.kernel], [...s.kernel]);
  assert.equal([...later.ids], [...m.ids]);
  assert.is(bodies, 1, "a body the head holds is decoded once");

  // A body that passes its CRC but not the decoder: the head reads, the restore throws.
  // Its machine a map whose key is an array: msgpack, but no snapshot's.
  const parts = [
    [0x86],
    ...["f", 2, "stream", "stats/a", "version", 1, "pos", 3, "machine"].map((v) => encodeValue(v)),
    [0x81, 0x91, 0x01, 0x02],
    encodeValue("kernel"),
    encodeValue(new Uint8Array(2)),
  ];
  const body = new Uint8Array(parts.flatMap((p) => [...p]));
  const broken = new RestorableLater(readSnapshotHead(sealed(body)));
  assert.is(broken.pos, 3);
  assert.is(broken.srcPos, 0);
  assert.throws(() => broken.machine, (err: unknown) => err instanceof SnapshotCorruptError);
});

test.run();
