import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { decodeValue, encodeValue } from "../../protocol/mod.ts";
import {
  encodeRecordingHeader,
  encodeRecordingTrailer,
  parseRecordingHeader,
  type RecordedMessage,
  Recorder,
  RECORDING_FORMAT_VERSION,
  RECORDING_PREFIX_BYTES,
  RecordingFormatError,
  RecordingReader,
  RecordingWriter,
} from "../../sim/recording/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("recording");
const dir = tempDir("troupe-recording-");
test.after(() => dir.remove());
let n = 0;
const file = () => join(dir.path, `r${++n}.rec`);

interface Msg {
  subject: string;
  tUs: number;
  data: Uint8Array;
  headers?: Record<string, string>;
}

/** Messages of every size class the encoder distinguishes, from a seeded PRNG. */
function sampleMessages(seed: number, count: number): Msg[] {
  const prng = new Prng(seed);
  const sizes = [0, 1, 200, 255, 256, 4000, 65_535, 65_536, 200_000];
  const out: Msg[] = [];
  let t = 1_704_067_200_000_000;
  for (let i = 0; i < count; i++) {
    const size = sizes[i % sizes.length]!;
    const data = new Uint8Array(size);
    for (let j = 0; j < size; j++) data[j] = prng.int(256);
    const subjectLength = [5, 31, 32, 100, 300][i % 5]!;
    const subject = `troupe.feed.x.${"c".repeat(subjectLength)}`;
    t += prng.int(5000);
    const m: Msg = { subject, tUs: t, data };
    if (i % 3 === 0) m.headers = { "Nats-Msg-Id": `id-${i}` };
    out.push(m);
  }
  return out;
}

function write(path: string, msgs: readonly Msg[]) {
  const w = RecordingWriter.create(path, {
    source: "test",
    bus: "in-process",
    config: { actors: { stats: { every_samples: 10 } } },
    seed: 42,
  }, { bufferBytes: 8192 });
  for (const m of msgs) w.append(m.subject, m.tUs, m.data, m.headers);
  w.close();
  return w;
}

async function readAll(path: string, chunkBytes?: number) {
  const reader = await RecordingReader.open(path, chunkBytes ? { chunkBytes } : {});
  const msgs: RecordedMessage[] = [];
  for await (const m of reader.messages()) msgs.push({ ...m, data: m.data.slice() });
  return { reader, msgs };
}

function assertSame(got: readonly RecordedMessage[], want: readonly Msg[]) {
  assert.is(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    assert.is(g.subject, w.subject, `subject ${i}`);
    assert.is(g.tUs, w.tUs, `time ${i}`);
    assert.equal(g.headers, w.headers, `headers ${i}`);
    assert.is(g.index, i);
    assert.ok(Buffer.from(g.data).equals(Buffer.from(w.data)), `data ${i}`);
  }
}

test("a recording reads back what was written: header, subjects, times, headers, data of every size", async () => {
  const path = file();
  const msgs = sampleMessages(1, 45);
  const w = write(path, msgs);
  assert.is(w.records, 45);
  const trailer = encodeRecordingTrailer({ records: 45, bytes: w.bytes });
  assert.is(w.bytes + trailer.byteLength, readFileSync(path).byteLength);
  for (const chunk of [undefined, 4096]) {
    const { reader, msgs: got } = await readAll(path, chunk);
    assert.is(reader.header.format, RECORDING_FORMAT_VERSION);
    assert.equal(reader.trailer, { records: 45, bytes: w.bytes });
    assert.is(reader.whole, true);
    assert.is(reader.header.source, "test");
    assert.is(reader.header.seed, 42);
    assert.equal(reader.header.config, { actors: { stats: { every_samples: 10 } } });
    assert.is(reader.header.subjects, "troupe.>");
    assert.is(reader.cut, undefined);
    assertSame(got, msgs);
  }
});

test("a record body is plain msgpack [subject, t_us, data, headers?] after its length and zlib CRC-32", () => {
  const path = file();
  write(path, [{
    subject: "troupe.out.stats.a",
    tUs: 1_700_000_000_123_456,
    data: new Uint8Array([7, 8]),
  }]);
  const bytes = readFileSync(path);
  assert.equal([...bytes.subarray(0, 8)].map((c) => String.fromCharCode(c)).join(""), "TROUPREC");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.is(view.getUint32(8, true), 3);
  const headerLength = view.getUint32(12, true);
  assert.is(view.getUint32(16, true), zlib.crc32(bytes.subarray(20, 20 + headerLength)));
  const header = decodeValue(bytes.subarray(20, 20 + headerLength)) as Record<string, unknown>;
  assert.is(header.source, "test");
  assert.is(header.troupe, "0.1.0");
  const at = 20 + headerLength;
  const length = view.getUint32(at, true);
  const end = at + 8 + length;
  assert.is(view.getUint32(at + 4, true), zlib.crc32(bytes.subarray(at + 8, end)));
  const body = decodeValue(bytes.subarray(at + 8, end)) as unknown[];
  // The trailer: a map where a record has an array, saying what the file holds before it.
  const trailerLength = view.getUint32(end, true);
  assert.is(end + 8 + trailerLength, bytes.byteLength);
  assert.is(view.getUint32(end + 4, true), zlib.crc32(bytes.subarray(end + 8)));
  assert.equal(decodeValue(bytes.subarray(end + 8)), { end: "TROUPEND", records: 1, bytes: end });
  assert.is(body[0], "troupe.out.stats.a");
  assert.is(Number(body[1]), 1_700_000_000_123_456);
  assert.equal([...(body[2] as Uint8Array)], [7, 8]);
  assert.is(body.length, 3);
});

test("a truncated recording gives its complete records and says where it was cut, at every cut point", async () => {
  const path = file();
  const msgs = sampleMessages(2, 12).map((m) => ({ ...m, data: m.data.subarray(0, 300) }));
  write(path, msgs);
  const whole = readFileSync(path);
  const ends: number[] = [];
  {
    const { msgs: got } = await readAll(path);
    for (const m of got) ends.push(m.offset);
    ends.push(whole.byteLength);
  }
  const prng = new Prng(3);
  for (let trial = 0; trial < 25; trial++) {
    const cutAt = ends[0]! + prng.int(whole.byteLength - ends[0]!);
    const p = file();
    writeFileSync(p, whole.subarray(0, cutAt));
    const complete = ends.filter((e, i) => i > 0 && e <= cutAt).length;
    const { reader, msgs: got } = await readAll(p, 4096);
    assertSame(got, msgs.slice(0, complete));
    if (ends.includes(cutAt)) {
      assert.is(reader.cut, undefined, `cut at a record boundary ${cutAt} is a shorter recording`);
    } else {
      assert.ok(reader.cut, `cut at ${cutAt} is reported`);
      assert.is(reader.cut!.offset, ends[complete]!);
      assert.is(reader.cut!.records, complete);
      assert.is(reader.cut!.bytesLeft, cutAt - ends[complete]!);
      assert.match(reader.cut!.reason, `record ${complete}`);
      assert.equal(reader.cut!.unread.records, 0, "a torn tail leaves nothing intact unread");
    }
  }
});

test("a recording damaged mid-file stops there and counts the intact records after the damage", async () => {
  const path = file();
  const msgs = sampleMessages(2, 12).map((m) => ({ ...m, data: m.data.subarray(0, 300) }));
  write(path, msgs);
  const { msgs: got } = await readAll(path);
  const whole = readFileSync(path);
  for (const i of [0, 5, got.length - 1]) {
    const bytes = Buffer.from(whole);
    bytes[got[i]!.offset + 20]! ^= 0xff;
    const p = file();
    writeFileSync(p, bytes);
    const { reader, msgs: read } = await readAll(p, 4096);
    assert.is(read.length, i);
    const outputs = msgs.slice(i + 1).filter((m) => m.subject.startsWith("troupe.out.")).length;
    assert.equal(reader.cut!.unread, {
      records: msgs.length - i - 1,
      outputs,
      firstOffset: i + 1 < got.length ? got[i + 1]!.offset : undefined,
    });
  }
});

test("a damaged record stops the reading there, naming the record and its offset", async () => {
  const path = file();
  const msgs = sampleMessages(4, 6).map((m) => ({ ...m, data: m.data.subarray(0, 100) }));
  write(path, msgs);
  const { msgs: ok } = await readAll(path);
  const bytes = readFileSync(path);
  bytes[ok[3]!.offset + 20]! ^= 0xff;
  writeFileSync(path, bytes);
  const { reader, msgs: got } = await readAll(path);
  assertSame(got, msgs.slice(0, 3));
  assert.is(reader.cut!.offset, ok[3]!.offset);
  assert.match(reader.cut!.reason, "record 3's checksum does not match");
});

test("a recording of another format version is refused, naming both versions", async () => {
  const path = file();
  write(path, sampleMessages(5, 2));
  const bytes = readFileSync(path);
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, 7, true);
  writeFileSync(path, bytes);
  try {
    await RecordingReader.open(path);
    assert.unreachable("opened a version 7 recording");
  } catch (err) {
    assert.instance(err, RecordingFormatError);
    assert.match((err as Error).message, "format version 7");
    assert.match((err as Error).message, "reads format version 2 or 3");
    assert.is((err as RecordingFormatError).version, 7);
  }
});

test("a closed recording ends with its trailer; a cut one, one with bytes after the trailer or a trailer that disagrees is not whole; a format 2 file reads as before", async () => {
  const path = file();
  const w = write(path, sampleMessages(3, 20));
  const bytes = readFileSync(path);
  const readThrough = async (p: string) => {
    const reader = await RecordingReader.open(p);
    let n = 0;
    for await (const batch of reader.batches()) n += batch.length;
    return { reader, n };
  };
  // Every record but no trailer: the cut a byte count alone cannot see.
  const noTrailer = file();
  writeFileSync(noTrailer, bytes.subarray(0, w.bytes));
  let r = await readThrough(noTrailer);
  assert.equal([r.n, r.reader.whole, r.reader.trailer, r.reader.cut], [
    20,
    false,
    undefined,
    undefined,
  ]);
  // Bytes after the trailer.
  const after = file();
  writeFileSync(after, Buffer.concat([bytes, Buffer.from([1, 2, 3])]));
  r = await readThrough(after);
  assert.is(r.reader.whole, false);
  assert.is(r.reader.cut!.reason, "3 bytes after the trailer");
  // A trailer that says more than the file holds (records dropped from the middle of a copy).
  const lying = file();
  const recs = await readRecords(path);
  writeFileSync(
    lying,
    Buffer.concat([
      bytes.subarray(0, recs[19]!.offset),
      encodeRecordingTrailer({ records: 20, bytes: w.bytes }),
    ]),
  );
  r = await readThrough(lying);
  assert.is(r.reader.whole, false);
  assert.match(r.reader.cut!.reason, `the trailer says 20 records in ${w.bytes} bytes`);
  // Format 2: the same records, no trailer; read, and whether it is whole cannot be told.
  const v2 = file();
  const old = Buffer.from(bytes.subarray(0, w.bytes));
  new DataView(old.buffer, old.byteOffset).setUint32(8, 2, true);
  writeFileSync(v2, old);
  r = await readThrough(v2);
  assert.equal([r.n, r.reader.header.format, r.reader.whole, r.reader.cut], [
    20,
    2,
    undefined,
    undefined,
  ]);
});

test("a header names the user's kind modules with their versions; one without them reads as none; a bad list is refused", async () => {
  const kinds = [{ module: "/x/spread.ts", kinds: { spread: 2 } }, {
    module: "troupe-kinds-acme",
    kinds: { acme: 1, acme_pair: 3 },
  }];
  const body = (init: Parameters<typeof encodeRecordingHeader>[0]) =>
    encodeRecordingHeader(init, 1).subarray(RECORDING_PREFIX_BYTES);
  const read = (init: Parameters<typeof encodeRecordingHeader>[0]) =>
    parseRecordingHeader("r.rec", body(init), RECORDING_FORMAT_VERSION);
  assert.equal(read({ source: "t", kinds }).kinds, kinds);
  assert.equal((decodeValue(body({ source: "t", kinds })) as { kinds: unknown }).kinds, kinds);
  // Only troupe's own kinds, and files from before the field: no key, no kinds.
  assert.is(read({ source: "t" }).kinds, null);
  assert.not.ok("kinds" in (decodeValue(body({ source: "t", kinds: [] })) as object));
  const bad = encodeValue({ source: "t", kinds: [{ module: "", kinds: {} }] });
  assert.throws(
    () => parseRecordingHeader("r.rec", bad, RECORDING_FORMAT_VERSION),
    /r\.rec: the header's kinds \[0\]\.module must be a module path or package name, got ""/,
  );
  // The recorder notes the user's kinds' versions beside troupe's own.
  const path = file();
  const bus = new InProcessBus();
  const rec = Recorder.start(bus, { path, header: { source: "test", kinds: [kinds[0]!] } });
  rec.stop();
  await bus.close();
  const { reader } = await readAll(path);
  assert.equal(reader.header.kinds, [kinds[0]]);
  assert.is(reader.header.versions?.spread, 2);
  assert.is(reader.header.versions?.stats, 3);
});

test("a file that is not a recording, or is cut inside its header, is refused with what it is", async () => {
  const notOne = file();
  writeFileSync(notOne, "timestamp,value\n");
  try {
    await RecordingReader.open(notOne);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, RecordingFormatError);
    assert.match((err as Error).message, 'starts with "timestam"');
  }
  const cut = file();
  write(cut, []);
  truncateSync(cut, 30);
  try {
    await RecordingReader.open(cut);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, RecordingFormatError);
    assert.match((err as Error).message, "cut inside its header");
  }
});

test("Recorder writes what crosses the bus, in order, with receive times from its clock", async () => {
  const path = file();
  const bus = new InProcessBus();
  let now = 1_000_000;
  const rec = Recorder.start(bus, {
    path,
    header: { source: "test", bus: "in-process", seed: 9 },
    clock: { now: () => (now += 10) },
  });
  bus.subscribe("troupe.feed.>", (msg) => {
    bus.publish(`troupe.out.echo.${msg.subject.split(".")[3]}`, msg.data);
  });
  for (let i = 0; i < 5; i++) bus.publish(`troupe.feed.f.c${i}`, new Uint8Array([i]));
  bus.publish("elsewhere.x", new Uint8Array([9]));
  await bus.flush();
  const summary = rec.stop();
  assert.is(summary.records, 10);
  assert.equal(summary.byArea, { feed: 5, out: 5 });
  const { reader, msgs } = await readAll(path);
  assert.is(reader.header.seed, 9);
  assert.equal(msgs.map((m) => m.subject), [
    ...[0, 1, 2, 3, 4].map((i) => `troupe.feed.f.c${i}`),
    ...[0, 1, 2, 3, 4].map((i) => `troupe.out.echo.c${i}`),
  ]);
  // The clock is read for the header, for when the recording began, then once a message.
  assert.is(summary.beganUs, 1_000_020);
  assert.equal(msgs.map((m) => m.tUs), msgs.map((_, i) => 1_000_030 + i * 10));
  assert.equal(msgs.map((m) => m.data[0]), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
});

test.run();
