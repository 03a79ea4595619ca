import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeEnvelope,
  decodeInputRecord,
  decodeInputRecordCopy,
  encodeInitRecord,
  encodeInputRecord,
  encodeInputRecordParts,
  encodeSkipRecord,
  encodeVoidRecord,
  frameRecordHeadBytes,
  initRecordEncoder,
  type InputRecord,
  inputRecordKind,
  inputRecordSourcePosition,
  isFrameRecordHead,
  isSkipRecord,
  isVoidRecord,
  ProtocolError,
  seedRecord,
  skippedPosition,
  voidedRange,
} from "../../protocol/mod.ts";

const test = suite("input_record");

test("an input record round-trips its kind, source position, subject and payload (ASCII or not)", () => {
  for (const subject of ["troupe.feed.m.cpu", "troupe.feed.m.température", ""]) {
    const record = {
      kind: "frame" as const,
      srcPos: 2 ** 40 + 3,
      subject,
      payload: new Uint8Array([1, 2, 3]),
    };
    const bytes = encodeInputRecord(record);
    const back = decodeInputRecord(bytes);
    assert.is(back.kind, "frame");
    assert.is(back.srcPos, record.srcPos);
    assert.is(back.subject, subject);
    assert.equal(Array.from(back.payload), [1, 2, 3]);
    const parts = encodeInputRecordParts(record);
    assert.is(parts.length, 2);
    assert.equal(Array.from(parts[0]!), Array.from(bytes.subarray(0, bytes.length - 3)));
    assert.is(parts[1], record.payload);
  }
});

test("records of every kind and position keep their own header, also when frame headers are reused", () => {
  const payload = new Uint8Array([9]);
  const cases = [
    { kind: "frame" as const, srcPos: 0, subject: "troupe.feed.m.a" },
    { kind: "frame" as const, srcPos: 0, subject: "troupe.feed.m.b" },
    { kind: "frame" as const, srcPos: 7, subject: "troupe.feed.m.a" },
    { kind: "ctl" as const, srcPos: 0, subject: "troupe.feed.m.a" },
    { kind: "frame" as const, srcPos: 0, subject: "troupe.feed.m.a" },
  ];
  for (const c of cases) {
    for (const bytes of [encodeInputRecord({ ...c, payload }), joinParts({ ...c, payload })]) {
      const back = decodeInputRecord(bytes);
      assert.equal([back.kind, back.srcPos, back.subject, Array.from(back.payload)], [
        c.kind,
        c.srcPos,
        c.subject,
        [9],
      ]);
    }
  }
});

function joinParts(...args: Parameters<typeof encodeInputRecordParts>): Uint8Array {
  const parts = encodeInputRecordParts(...args);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A frame message's bytes: `before`, the times as little-endian f64, `after`; and the column. */
function frameBytes(times: number[], before = 37, after = 4011) {
  const t = new Float64Array(times);
  const payload = new Uint8Array(before + t.length * 8 + after);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
  const view = new DataView(payload.buffer);
  t.forEach((x, i) => view.setFloat64(before + i * 8, x, true));
  return { payload, times: { at: before, t } };
}

test("a host's subjects stay cached when there are more than 65,536 of them, visited in turn", () => {
  // A host of 100,000 channels sees each channel's subject once a round; the frame header of a
  // position-less frame is cached by subject, so a cached header comes back as the same array.
  const payload = new Uint8Array(4);
  const subject = (i: number) => `troupe.feed.node.node_filesystem_avail_bytes_instance_${i}`;
  const header = (i: number) =>
    encodeInputRecordParts({ kind: "frame", srcPos: 0, subject: subject(i), payload })[0]!;
  const N = 100_000;
  const first: Uint8Array[] = [];
  for (let i = 0; i < N; i++) first.push(header(i));
  let same = 0;
  for (let i = 0; i < N; i++) if (header(i) === first[i]) same++;
  assert.is(same, N, "headers made once and found again");
});

test("a record's header shares a buffer with others, except a cached header, kept for its channel's life", () => {
  // Headers of remote-write subjects pass V8's 64 bytes on its heap: an ArrayBuffer each would be
  // made per input. They are carved from a shared buffer; a cached header must not keep one alive.
  const payload = new Uint8Array(4);
  const subject = (i: number) => `troupe.feed.node.node_network_receive_bytes_total_eth${i}_x`;
  const live = [1, 2, 3].map((i) =>
    encodeInputRecordParts({ kind: "frame", srcPos: 40 + i, subject: subject(i), payload })[0]!
  );
  assert.ok(live[0]!.byteLength > 64, `${live[0]!.byteLength} bytes`);
  assert.ok(live[0]!.buffer === live[1]!.buffer && live[1]!.buffer === live[2]!.buffer);
  const ticked = encodeInputRecord({ kind: "tick", srcPos: 0, subject: subject(4), payload });
  assert.ok(ticked.buffer.byteLength > ticked.byteLength, "a whole record carved too");
  const cached = encodeInputRecordParts({
    kind: "frame",
    srcPos: 0,
    subject: subject(5),
    payload,
  })[0]!;
  assert.is(cached.buffer.byteLength, cached.byteLength, "a cached header's buffer is its own");
  assert.is(
    decodeInputRecord(joinParts({ kind: "frame", srcPos: 41, subject: subject(1), payload }))
      .subject,
    subject(1),
  );
});

test("a frame with evenly spaced times is journaled without its time column and decodes to the same bytes", () => {
  const base = 1_700_000_000_123_456;
  const { payload, times } = frameBytes([...Array(500).keys()].map((i) => base + i * 1000));
  const record = { kind: "frame" as const, srcPos: 12, subject: "troupe.feed.m.a", payload };
  const bytes = joinParts(record, times);
  assert.ok(bytes.length < payload.length - 3900, `${bytes.length} bytes for ${payload.length}`);
  const back = decodeInputRecord(bytes);
  assert.equal([back.kind, back.srcPos, back.subject], ["frame", 12, "troupe.feed.m.a"]);
  assert.equal(back.payload, payload);
  // Fractional steps too, as long as t[0] + i * dt gives each value exactly.
  const halves = frameBytes([...Array(64).keys()].map((i) => 0.5 + i * 0.25), 0, 9);
  const h = decodeInputRecord(joinParts({ ...record, payload: halves.payload }, halves.times));
  assert.equal(h.payload, halves.payload);
});

test("a frame whose times are not exactly t[0] + i * dt, or that is short, keeps its time column", () => {
  const base = 1_700_000_000_000_000;
  const cases = [
    [...Array(100).keys()].map((i) => base + i * 1000 + (i === 57 ? 1 : 0)), // one tick off
    [...Array(100).keys()].reduce((t: number[]) => [...t, (t.at(-1) ?? 0) + 0.1], []), // summed
    [...Array(100).keys()].map((i) => (i - 50) * 1000), // crosses 0 (whose sign bit is lost)
    [...Array(100).keys()].map((i) => i === 50 ? -0 : 5e6 - i * 1e5), // falls through -0
    [...Array(5).keys()].map((i) => base + i), // too short to gain
  ];
  for (const times of cases) {
    const { payload, times: col } = frameBytes(times);
    const record = { kind: "frame" as const, srcPos: 0, subject: "troupe.feed.m.b", payload };
    const parts = encodeInputRecordParts(record, col);
    assert.is(parts.length, 2);
    assert.is(parts[1], payload);
    assert.equal(decodeInputRecord(joinParts(record, col)).payload, payload);
  }
});

test("decodeInputRecordCopy() decodes what decodeInputRecord() does, holding none of the bytes", () => {
  const base = 1_700_000_000_000_000;
  const regular = frameBytes([...Array(50).keys()].map((i) => base + i * 1000));
  const record = { kind: "frame" as const, srcPos: 7, subject: "troupe.feed.m.a", payload: [] };
  const cases = [
    joinParts({ ...record, payload: regular.payload }, regular.times),
    encodeInputRecord({
      kind: "ctl",
      srcPos: 0,
      subject: "troupe.ctl.x",
      payload: Uint8Array.of(9, 8),
    }),
    encodeInputRecord({ kind: "frame", srcPos: 3, subject: "s", payload: new Uint8Array(0) }),
  ];
  for (const bytes of cases) {
    const copy = decodeInputRecordCopy(bytes);
    assert.equal(copy, decodeInputRecord(bytes));
    // The journal's buffer reused: the decoded record stays as it was.
    const payload = Array.from(copy.payload);
    bytes.fill(0xee);
    assert.equal(Array.from(copy.payload), payload);
    assert.is.not(copy.payload.buffer, bytes.buffer);
  }
});

test("a frame with one time off t[0] + i * dt keeps its time column, wherever that time is", () => {
  const base = 1_700_000_000_000_000;
  for (const n of [8, 9, 10, 11, 12]) {
    for (let off = 1; off < n; off++) {
      const { payload, times } = frameBytes(
        [...Array(n).keys()].map((i) => base + i * 1000 + (i === off ? 1 : 0)),
      );
      const parts = encodeInputRecordParts(
        { kind: "frame", srcPos: 0, subject: "troupe.feed.m.b", payload },
        times,
      );
      assert.is(parts.length, 2, `n ${n}, off ${off}`);
    }
  }
});

test("a regular frame record cut short or naming a column past its payload is refused", () => {
  const { payload, times } = frameBytes([...Array(16).keys()].map((i) => 1e15 + i * 10));
  const bytes = joinParts({ kind: "frame", srcPos: 0, subject: "s", payload }, times);
  assert.throws(
    () => decodeInputRecord(bytes.subarray(0, 11 + 1 + 20)),
    /field "times" must hold at, n, t0 and dt: the regular frame is cut short/,
  );
  const bad = bytes.slice();
  new DataView(bad.buffer).setUint32(12, 1 << 20, true);
  assert.throws(
    () => decodeInputRecord(bad),
    /field "at" is a time column that lies past its payload of \d+, got \d+/,
  );
});

test("a record's kind and source position read in place are those decoding gives, for every kind", () => {
  const times = new Float64Array(16).map((_, i) => 1.7e15 + i * 1000);
  const payload = new Uint8Array(8 + times.byteLength);
  payload.set(new Uint8Array(times.buffer), 8);
  const kinds = ["frame", "ctl", "tick", "init", "skip", "void"] as const;
  for (const [i, kind] of kinds.entries()) {
    const record: InputRecord = { kind, srcPos: 1000 + i, subject: "troupe.feed.m.é", payload };
    const bytes = encodeInputRecord(record);
    assert.is(inputRecordKind(bytes), kind);
    assert.is(inputRecordSourcePosition(bytes), 1000 + i);
    assert.is(isSkipRecord(bytes), kind === "skip");
    assert.is(isVoidRecord(bytes), kind === "void");
  }
  // A frame without its time column is a frame too.
  const record: InputRecord = { kind: "frame", srcPos: 77, subject: "troupe.feed.m.x", payload };
  const parts = encodeInputRecordParts(record, { at: 8, t: times });
  assert.is(parts.length, 3, "journaled without its time column");
  const regular = joinParts(record, { at: 8, t: times });
  assert.is(inputRecordKind(regular), "frame");
  assert.is(inputRecordSourcePosition(regular), 77);
  assert.is(isFrameRecordHead(parts[0]!), false, "the head of a record without its time column");
});

test("inputRecordKind() refuses bytes that are not an input record, naming what is wrong", () => {
  assert.throws(
    () => inputRecordKind(new Uint8Array(5)),
    /field "header" must be 11 bytes: the record is shorter than its header, got bin of 5 bytes/,
  );
  const bytes = encodeInputRecord({
    kind: "ctl",
    srcPos: 1,
    subject: "troupe.ctl.stats",
    payload: new Uint8Array(0),
  });
  const unknown = bytes.slice();
  unknown[0] = 12;
  assert.throws(() => inputRecordKind(unknown), /field "kind" is an unknown kind code, got 12/);
  assert.throws(
    () => inputRecordKind(bytes.subarray(0, 14)),
    /field "subject" runs past the record's end \(14 bytes\): its length, got 16/,
  );
});

test("initRecordEncoder() gives the bytes encodeInitRecord() gives, for every stream, whatever the configuration holds", () => {
  const configs: unknown[] = [
    { threshold: 0.99, views: ["level", "shift"], nested: { a: [1, 2.5, -3], b: null, c: "é" } },
    { big: "x".repeat(70_000), n: Number.MAX_SAFE_INTEGER, flag: true, bytes: Uint8Array.of(1, 2) },
    {},
    null,
    undefined,
    new Map([["a", 1]]), // one the fast writer hands to the general encoder
  ];
  for (const config of configs) {
    const encode = initRecordEncoder({ src: "host-1", config });
    for (const stream of ["anomaly/cpu-1", `bars/${"k".repeat(64)}`, "stats/é"]) {
      assert.equal(encode(stream), encodeInitRecord(stream, { src: "host-1", config }), stream);
    }
  }
});

test("a seed record round-trips: kind, stream and an envelope of type seed with its body", () => {
  const record = seedRecord("bars/AAPL", { id: "seed:AAPL.1m.csv:ab", src: "h1", body: { n: 3 } });
  const back = decodeInputRecord(encodeInputRecord(record));
  assert.is(back.kind, "seed");
  assert.is(inputRecordKind(encodeInputRecord(record)), "seed");
  assert.is(back.subject, "bars/AAPL");
  const env = decodeEnvelope(back.payload);
  assert.equal([env.id, env.type, env.src, env.body], ["seed:AAPL.1m.csv:ab", "seed", "h1", {
    n: 3,
  }]);
});

test("a frame record's head is recognised, and its length is what frameRecordHeadBytes() says", () => {
  for (const subject of ["troupe.feed.m.cpu", "troupe.feed.m.température"]) {
    const record: InputRecord = { kind: "frame", srcPos: 5, subject, payload: new Uint8Array(3) };
    const [head] = encodeInputRecordParts(record);
    assert.is(head!.byteLength, frameRecordHeadBytes(subject));
    assert.ok(isFrameRecordHead(head!));
    assert.not.ok(isFrameRecordHead(head!.subarray(0, head!.byteLength - 1)), "cut short");
    const ctl = encodeInputRecordParts({ ...record, kind: "ctl" })[0]!;
    assert.not.ok(isFrameRecordHead(ctl), "a control record's head");
  }
});

test("skippedPosition() reads the position a skip record names", () => {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setFloat64(0, 2 ** 33 + 5, true);
  const bytes = encodeInputRecord({ kind: "skip", srcPos: 9, subject: "troupe.feed.m.a", payload });
  assert.is(skippedPosition(decodeInputRecord(bytes)), 2 ** 33 + 5);
});

test("a void record names the positions it voids, and other records are refused as one", () => {
  const bytes = encodeVoidRecord("stats/BTC", 12, 2 ** 33 + 1);
  const record = decodeInputRecord(bytes);
  assert.is(record.kind, "void");
  assert.is(record.srcPos, 0, "a void takes no source position");
  assert.is(record.subject, "stats/BTC");
  assert.equal(voidedRange(record), { from: 12, to: 2 ** 33 + 1 });
  const skip = decodeInputRecord(encodeSkipRecord(3, record));
  assert.throws(
    () => voidedRange(skip),
    /field "kind" with 8 payload bytes is not a void record, got "skip"/,
  );
});

test("encodeInputRecord() refuses a subject too long for its u16 length, naming field and size", () => {
  // Before the record moved into protocol/, a subject of 65,536 bytes or more was written with its
  // length wrapped, and decoding gave back another subject and payload.
  const subject = "x".repeat(0x10000);
  const record = { kind: "ctl" as const, srcPos: 1, subject, payload: new Uint8Array(1) };
  const err = catchError(() => encodeInputRecord(record));
  assert.instance(err, ProtocolError);
  assert.is((err as ProtocolError).field, "subject");
  assert.is((err as ProtocolError).reason, "oversize");
  assert.match(err.message, /field "subject" must be at most 65535 UTF-8 bytes, got 65536/);
  const longest = "y".repeat(0xffff);
  assert.is(decodeInputRecord(encodeInputRecord({ ...record, subject: longest })).subject, longest);
});

test("encodeInputRecord() refuses an unknown kind or a source position that is not whole and >= 0", () => {
  const good = { kind: "frame" as const, srcPos: 3, subject: "s", payload: new Uint8Array(0) };
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ kind: "frames" }, "kind", /field "kind" must be one of frame, ctl, .*, got "frames"/],
    [{ srcPos: -1 }, "srcPos", /field "srcPos" must be a whole number >= 0, got -1/],
    [{ srcPos: NaN }, "srcPos", /got NaN/],
    [{ srcPos: 1.5 }, "srcPos", /got 1\.5/],
    [{ payload: [1, 2] }, "payload", /field "payload" must be bytes, got array of 2/],
  ];
  for (const [change, field, message] of cases) {
    const record = { ...good, ...change } as unknown as InputRecord;
    for (const encode of [encodeInputRecord, encodeInputRecordParts]) {
      const err = catchError(() => encode(record));
      assert.instance(err, ProtocolError, JSON.stringify(change));
      assert.is((err as ProtocolError).field, field);
      assert.match(err.message, message);
    }
  }
});

test("decodeInputRecord() throws a ProtocolError naming the field and its value", () => {
  const err = catchError(() => decodeInputRecord(new Uint8Array([0, 1, 2])));
  assert.instance(err, ProtocolError);
  assert.is((err as ProtocolError).field, "header");
  assert.is((err as ProtocolError).reason, "decode");
});

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error, got none");
}

test.run();
