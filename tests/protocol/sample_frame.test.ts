import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  columnsFrameOf,
  decodeColumns,
  decodeEnvelope,
  decodeFrame,
  decodeFrameInto,
  encodeColumns,
  encodeEnvelope,
  encodeFrame,
  encodeFramePlaced,
  encodeValue,
  FRAME_TIME_US_MAX,
  FRAME_TIME_US_MIN,
  type FrameRoom,
  ProtocolError,
  type SampleFrame,
  validateFrame,
} from "../../protocol/mod.ts";

const test = suite("sample_frame");

function frame(n: number, channel = "BTC-USD"): SampleFrame {
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = 1_700_000_000_000_000 + i * 1000;
    v[i] = Math.sin(i) * 100 + 0.1 * i;
  }
  return { channel, seq0: 42, t, v };
}

function rejects(fn: () => unknown, reason: string, field?: string): ProtocolError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ProtocolError);
    const e = err as ProtocolError;
    assert.is(e.reason, reason, e.message);
    if (field !== undefined) assert.is(e.field, field, e.message);
    return e;
  }
  throw new Error(`expected a ProtocolError(${reason})`);
}

test("encodeFrame() and decodeFrame() round-trip every sample bit for bit", () => {
  const f = frame(500);
  const bytes = encodeFrame(f, { id: "i1", src: "test", seq: 7 });
  const { envelope, frame: g } = decodeFrame(bytes);
  assert.is(envelope.id, "i1");
  assert.is(envelope.seq, 7);
  assert.is(envelope.ts, f.t[499]);
  assert.is(g.channel, "BTC-USD");
  assert.is(g.seq0, 42);
  assert.equal(Array.from(g.t), Array.from(f.t));
  assert.equal(Array.from(g.v), Array.from(f.v));
});

test("encodeFramePlaced() writes encodeFrame()'s bytes and says where the time column's bytes begin", () => {
  // Envelopes of several shapes: what comes before the body moves where the columns go.
  for (
    const [f, meta] of [
      [frame(500), { id: "i1", src: "test" }],
      [frame(3, "a"), { id: "i2", src: "test", cause: "c", ts: 5 }],
      [{ ...frame(2), channel: "x".repeat(64) }, { id: "\u00e9".repeat(40), src: "s" }],
    ] as const
  ) {
    const { bytes, tAt } = encodeFramePlaced(f, meta);
    assert.equal(bytes, encodeFrame(f, meta));
    const t = (decodeEnvelope(bytes).body as { t: Uint8Array }).t;
    assert.is(tAt, t.byteOffset - bytes.byteOffset);
    assert.equal(new Float64Array(bytes.slice(tAt, tAt + f.t.byteLength).buffer), f.t);
  }
});

test("decodeFrame() views aligned bytes without copying, and copies misaligned bytes once", () => {
  const bytes = encodeFrame(frame(64), { id: "i", src: "s" });
  for (let shift = 0; shift < 8; shift++) {
    const buf = new Uint8Array(bytes.byteLength + shift);
    buf.set(bytes, shift);
    const { frame: g } = decodeFrame(buf.subarray(shift));
    assert.is(g.v.length, 64);
    assert.is(g.v[3], frame(64).v[3]);
    if (g.v.buffer === buf.buffer) assert.is(g.v.byteOffset % 8, 0);
  }
  // At least one of the eight shifts lands aligned and must be a view.
  const views = [...Array(8).keys()].filter((shift) => {
    const buf = new Uint8Array(bytes.byteLength + shift);
    buf.set(bytes, shift);
    return decodeFrame(buf.subarray(shift)).frame.t.buffer === buf.buffer;
  });
  assert.is(views.length, 1);
});

test("decodeFrame() gives each misaligned frame columns of its own, small and large", () => {
  // Copies are carved from a shared slab: hundreds of frames roll it over, and a frame's columns
  // must keep their values while later frames are decoded (and past the slab's size, alone).
  const kept: Array<{ n: number; g: SampleFrame }> = [];
  for (let i = 0; i < 600; i++) {
    const n = i % 97 === 0 ? 5000 : 1 + (i % 70);
    const f = frame(n);
    f.v[0] = i;
    const bytes = encodeFrame(f, { id: `i${i}`, src: "s" });
    const buf = new Uint8Array(bytes.byteLength + 3);
    buf.set(bytes, 3);
    const { frame: g } = decodeFrame(buf.subarray(3));
    buf.fill(0); // the message's bytes may be reused once decoded: the copies must not see it
    kept.push({ n, g });
  }
  kept.forEach(({ n, g }, i) => {
    const f = frame(n);
    f.v[0] = i;
    assert.is(g.t.byteOffset % 8, 0);
    assert.equal(Array.from(g.t), Array.from(f.t), `frame ${i}`);
    assert.equal(Array.from(g.v), Array.from(f.v), `frame ${i}`);
  });
});

test("decodeFrame() rejects bytes that are not msgpack", () => {
  rejects(() => decodeFrame(new Uint8Array([0xc1, 0x00])), "decode");
});

test("decodeFrame() rejects another protocol version, naming both", () => {
  const bytes = encodeValue({ v: 9, id: "a", type: "frame", src: "s", ts: 0, body: {} });
  const e = rejects(() => decodeFrame(bytes), "version", "v");
  assert.match(e.message, "9");
  assert.match(e.message, "1");
});

test("decodeFrame() rejects a missing field, naming it", () => {
  const bytes = encodeValue({ v: 1, type: "frame", src: "s", ts: 0, body: {} });
  const e = rejects(() => decodeFrame(bytes), "field", "id");
  assert.match(e.message, '"id" is missing');
});

test("decodeFrame() rejects a t column that is not 8-byte values, giving its length", () => {
  const bytes = encodeEnvelope({
    id: "a",
    type: "frame",
    src: "s",
    ts: 0,
    body: { channel: "c", seq0: 0, t: new Uint8Array(13), v: new Uint8Array(13) },
  });
  const e = rejects(() => decodeFrame(bytes), "field", "body.t");
  assert.match(e.message, "13 bytes");
});

test("decodeFrame() rejects a frame whose t and v lengths differ", () => {
  const bytes = encodeEnvelope({
    id: "a",
    type: "frame",
    src: "s",
    ts: 0,
    body: { channel: "c", seq0: 0, t: new Uint8Array(16), v: new Uint8Array(8) },
  });
  rejects(() => decodeFrame(bytes), "field", "body.v");
});

test("decodeFrame() rejects NaN values and times that go backwards, naming the index", () => {
  const f = frame(10);
  const raw = (g: SampleFrame) =>
    encodeEnvelope({
      id: "a",
      type: "frame",
      src: "s",
      ts: 0,
      body: {
        channel: g.channel,
        seq0: 0,
        t: new Uint8Array(g.t.buffer),
        v: new Uint8Array(g.v.buffer),
      },
    });
  f.v[4] = NaN;
  const e = rejects(() => decodeFrame(raw(f)), "value", "body.v[4]");
  assert.match(e.message, "NaN");
  const g = frame(10);
  g.t[6] = g.t[5]! - 1;
  rejects(() => decodeFrame(raw(g)), "order", "body.t[6]");
  const h = frame(10);
  h.t[7] = h.t[6]!; // a repeated time is allowed
  assert.is(decodeFrame(raw(h)).frame.t.length, 10);
});

test("validateFrame() finds a bad sample at every index, in a frame's fours and its tail", () => {
  for (let n = 1; n <= 11; n++) {
    validateFrame(frame(n));
    for (let i = 0; i < n; i++) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const f = frame(n);
        f.v[i] = bad;
        rejects(() => validateFrame(f), "value", `body.v[${i}]`);
        const g = frame(n);
        g.t[i] = bad;
        rejects(() => validateFrame(g), "value", `body.t[${i}]`);
      }
      if (i === 0) continue;
      const h = frame(n);
      h.t[i] = h.t[i - 1]! - 1;
      rejects(() => validateFrame(h), "order", `body.t[${i}]`);
    }
  }
});

test("decodeFrame() refuses times outside 1970 to 2100 in microseconds, naming the field and the value, at every index; accepts the ends, -0 and subnormals", () => {
  const at = (i: number, x: number, n = 6) => {
    const f = frame(n);
    if (i === 0) f.t.fill(x);
    else for (let j = i; j < n; j++) f.t[j] = x;
    return encodeFrame(f, { id: "a", src: "s", ts: 0 });
  };
  for (const bad of [1e300, 1e16, 9007199254740991, FRAME_TIME_US_MAX + 1, Number.MAX_VALUE]) {
    for (const i of [0, 3, 5]) {
      const e = rejects(() => decodeFrame(at(i, bad)), "value", `body.t[${i}]`);
      assert.match(e.message, String(bad));
      assert.match(e.message, String(FRAME_TIME_US_MAX));
    }
  }
  for (const bad of [-1, -1e300, -Number.MIN_VALUE]) {
    const e = rejects(() => decodeFrame(at(0, bad)), "value", "body.t[0]");
    assert.match(e.message, String(bad));
  }
  for (const good of [FRAME_TIME_US_MIN, -0, Number.MIN_VALUE, FRAME_TIME_US_MAX]) {
    const f = frame(3);
    f.t.fill(good);
    assert.is(decodeFrame(encodeFrame(f, { id: "a", src: "s", ts: 0 })).frame.t.length, 3);
  }
});

test("decodeFrame() refuses a seq0 that leaves the sample after its last no safe integer number", () => {
  const f = frame(4);
  f.seq0 = Number.MAX_SAFE_INTEGER - 3;
  const e = rejects(
    () => decodeFrame(encodeFrame(f, { id: "a", src: "s" })),
    "value",
    "body.seq0",
  );
  assert.match(e.message, String(f.seq0));
  f.seq0 = Number.MAX_SAFE_INTEGER - 4;
  assert.is(decodeFrame(encodeFrame(f, { id: "a", src: "s" })).frame.seq0, f.seq0);
});

test("decodeFrame() rejects an invalid channel name without rewriting it", () => {
  const bytes = encodeEnvelope({
    id: "a",
    type: "frame",
    src: "s",
    ts: 0,
    body: { channel: "BTC.USD", seq0: 0, t: new Uint8Array(0), v: new Uint8Array(0) },
  });
  const e = rejects(() => decodeFrame(bytes), "value", "channel");
  assert.match(e.message, '"BTC.USD"');
});

test("decodeFrame() rejects oversize messages and frames before using them", () => {
  const bytes = encodeFrame(frame(1000), { id: "a", src: "s" });
  rejects(() => decodeFrame(bytes, { messageBytesMax: 1024 }), "oversize", "message");
  rejects(() => decodeFrame(bytes, { samplesPerFrameMax: 999 }), "oversize");
});

/** Room for `n` samples at index `at` of columns of `size`, counting the calls. */
function roomAt(size: number, at: number) {
  const t = new Float64Array(size), v = new Float64Array(size);
  const room: FrameRoom = {
    t,
    v,
    t_bytes: new Uint8Array(t.buffer),
    v_bytes: new Uint8Array(v.buffer),
    at,
  };
  const asked: number[] = [];
  return { room, asked, give: (n: number) => (asked.push(n), room) };
}

test("decodeFrameInto() writes a frame's columns into the room as decodeFrame() reads them", () => {
  const f = frame(60);
  // Misaligned, as a message in a socket's buffer mostly is.
  const bytes = encodeFrame(f, { id: "a", src: "s" });
  const shifted = new Uint8Array(bytes.length + 3).subarray(3);
  shifted.set(bytes);
  const { room, asked, give } = roomAt(200, 100);
  const g = decodeFrameInto(shifted, { room: give });
  assert.equal(asked, [60]);
  assert.is(g.t.buffer, room.t.buffer, "t is a view of the room");
  assert.is(g.v.buffer, room.v.buffer, "v is a view of the room");
  assert.is(g.t.byteOffset, 800);
  assert.equal([...room.t.subarray(100, 160)], [...f.t]);
  assert.equal([...room.v.subarray(100, 160)], [...f.v]);
  assert.equal(g, decodeFrame(shifted).frame);
  // No room given: columns of the frame's own, as decodeFrame() gives.
  const own = decodeFrameInto(shifted, { room: () => undefined });
  assert.is.not(own.t.buffer, room.t.buffer);
  assert.equal(own, decodeFrame(shifted).frame);
});

test("decodeFrameInto() rejects what decodeFrame() rejects, with the same reason and field", () => {
  const g = frame(10);
  g.t[6] = g.t[5]! - 1;
  const raw = (body: Record<string, unknown>) =>
    encodeEnvelope({ id: "a", type: "frame", src: "s", ts: 0, body });
  const cases: [Uint8Array, string, string | undefined][] = [
    [
      raw({ channel: "c", seq0: 0, t: new Uint8Array(13), v: new Uint8Array(13) }),
      "field",
      "body.t",
    ],
    [
      raw({ channel: "c", seq0: 0, t: new Uint8Array(16), v: new Uint8Array(8) }),
      "field",
      "body.v",
    ],
    [
      raw({ channel: "c", seq0: 0, t: new Uint8Array(g.t.buffer), v: new Uint8Array(g.v.buffer) }),
      "order",
      "body.t[6]",
    ],
    [encodeFrame(frame(1000), { id: "a", src: "s" }), "oversize", undefined],
  ];
  for (const [bytes, reason, field] of cases) {
    const { give } = roomAt(2000, 0);
    const limits = { samplesPerFrameMax: 999 };
    const a = rejects(() => decodeFrame(bytes, limits), reason, field);
    const b = rejects(() => decodeFrameInto(bytes, { ...limits, room: give }), reason, field);
    assert.is(b.message, a.message);
  }
});

test("encodeColumns() and decodeColumns() round-trip named columns", () => {
  const f = frame(20);
  const score = f.v.map((x) => Math.abs(x) / 200);
  const bytes = encodeColumns(
    { channel: f.channel, seq0: f.seq0, t: f.t, columns: { score, expected: f.v } },
    { id: "o", src: "anomaly" },
  );
  const { frame: g } = decodeColumns(bytes);
  assert.equal(Array.from(g.columns.score!), Array.from(score));
  assert.equal(Array.from(g.columns.expected!), Array.from(f.v));
});

test("columnsFrameOf() reads a decoded envelope as decodeColumns() does, and refuses short columns", () => {
  const f = frame(4);
  const bytes = encodeColumns(
    { channel: f.channel, seq0: 7, t: f.t, columns: { value: f.v } },
    { id: "o", src: "anomaly" },
  );
  assert.equal(columnsFrameOf(decodeEnvelope(bytes)), decodeColumns(bytes).frame);
  const bin = (a: Float64Array) => new Uint8Array(a.slice().buffer);
  const short = encodeEnvelope({
    id: "s",
    type: "columns",
    src: "t",
    ts: 0,
    body: { channel: "c", seq0: 0, t: bin(f.t), columns: { value: bin(f.v.subarray(0, 3)) } },
  });
  assert.throws(
    () => columnsFrameOf(decodeEnvelope(short)),
    (e: unknown) =>
      e instanceof ProtocolError && e.field === "body.columns.value" &&
      e.message === 'Column "value" has 3 values for 4 times',
  );
  const stats = encodeEnvelope({ id: "x", type: "stats", src: "t", ts: 0, body: {} });
  assert.throws(() => columnsFrameOf(decodeEnvelope(stats)), /field "type" must be "columns"/);
});

test("decodeEnvelope() keeps optional correlation fields", () => {
  const bytes = encodeEnvelope({
    id: "x",
    type: "ping",
    src: "s",
    ts: 5,
    corr: "c1",
    cause: "c0",
    seq: 3,
    body: null,
  });
  const e = decodeEnvelope(bytes);
  assert.equal([e.corr, e.cause, e.seq, e.body], ["c1", "c0", 3, null]);
});

test.run();
