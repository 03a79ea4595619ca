import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encode } from "@msgpack/msgpack";
import { readMsgpack } from "../../protocol/_frame_codec.ts";
import { readFrameEnvelope } from "../../protocol/_read_frame_envelope.ts";
import { decodeEnvelope, encodeColumns, encodeFrame } from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("read_frame_envelope");

test("readFrameEnvelope() reads a frame's envelope as the general reader does (seeded)", () => {
  const seed = 33;
  const rng = new Prng(seed);
  for (let i = 0; i < 300; i++) {
    const n = 1 + rng.int(40);
    const t = new Float64Array(n).map((_, j) => 1.7e15 + j * 1000);
    const v = new Float64Array(n).map(() => rng.normal());
    const channel = "c".repeat(1 + rng.int(64));
    const seq0 = [0, 5, 300, 70_000, 2 ** 35][rng.int(5)]!;
    const meta = {
      id: `id-${rng.int(1e9)}`,
      src: "s".repeat(1 + rng.int(40)),
      ...(rng.chance(0.5) ? { seq: rng.int(2 ** 40) } : {}),
      ...(rng.chance(0.5) ? { corr: `corr-${i}` } : {}),
      ...(rng.chance(0.5) ? { cause: "é".repeat(rng.int(3)) } : {}),
    };
    const bytes = encodeFrame({ channel, seq0, t, v }, meta);
    const m = readMsgpack(bytes) as Record<string, unknown>;
    const expected: Record<string, unknown> = {
      v: 1,
      id: m.id,
      type: m.type,
      src: m.src,
      ts: m.ts,
      body: m.body,
    };
    for (const k of ["seq", "corr", "cause"]) if (k in m) expected[k] = m[k];
    assert.equal(readFrameEnvelope(bytes, 1), expected, `seed ${seed}, frame ${i}`);
  }
});

test("readFrameEnvelope() leaves any other layout, type or length to the general reader", () => {
  const col = new Uint8Array(new Float64Array([1.7e15, 1.7e15 + 1]).buffer);
  const body = { channel: "a", seq0: 0, t: col, v: col };
  const env = { v: 1, id: "i", type: "frame", src: "s", ts: 5, body };
  const others: Array<[string, unknown]> = [
    ["a body with another field", { ...env, body: { ...body, w: col } }],
    ["body fields reordered", { ...env, body: { seq0: 0, channel: "a", t: col, v: col } }],
    ["fields in another order", { id: "i", v: 1, type: "frame", src: "s", ts: 5, body }],
    ["an unknown field", { ...env, x: 1, body }],
    ["another version", { ...env, v: 2 }],
    ["an id that is a number", { ...env, id: 7 }],
    ["a time that is not whole", { ...env, ts: 1.5 }],
    ["a time past 2^53", { ...env, ts: 2 ** 60 }],
    ["a seq that is nil", { v: 1, id: "i", type: "frame", src: "s", ts: 5, seq: null, body }],
    ["a cause that is a number", { v: 1, id: "i", type: "frame", src: "s", ts: 5, cause: 3, body }],
  ];
  for (const [what, value] of others) {
    assert.is(readFrameEnvelope(encode(value), 1), undefined, what);
  }
  assert.ok(readFrameEnvelope(encode(env), 1), "the layout itself, written by @msgpack/msgpack");
  const columns = encodeColumns(
    { channel: "a", seq0: 0, t: new Float64Array(2), columns: { score: new Float64Array(2) } },
    { id: "i", src: "s" },
  );
  assert.is(readFrameEnvelope(columns, 1), undefined, "a columns message");
  const frame = encodeFrame({
    channel: "a",
    seq0: 0,
    t: new Float64Array(3),
    v: new Float64Array(3),
  }, {
    id: "i",
    src: "s",
  });
  for (let n = 0; n < frame.length; n++) {
    assert.is(readFrameEnvelope(frame.subarray(0, n), 1), undefined, `cut to ${n} bytes`);
  }
  const longer = new Uint8Array(frame.length + 1);
  longer.set(frame);
  assert.is(readFrameEnvelope(longer, 1), undefined, "a byte left over");
  assert.throws(() => decodeEnvelope(encode({ ...env, ts: 1.5 })), /field "ts" must be an integer/);
});

test.run();
