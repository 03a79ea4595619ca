import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decode, encode } from "@msgpack/msgpack";
import { MsgpackWriter, readMsgpack, UnsupportedMsgpack } from "../../protocol/_frame_codec.ts";
import { decodeValue, encodeColumns, encodeFrame, ProtocolError } from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("frame_codec");

function randomValue(rng: Prng, depth: number): unknown {
  const pick = rng.int(depth > 3 ? 8 : 10);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2: {
      const widths = [100, 1e3, 1e5, 1e9, 2 ** 40, 2 ** 52];
      const x = rng.int(widths[rng.int(widths.length)]!);
      return rng.chance(0.3) ? -x : x;
    }
    case 3:
      return rng.normal() * 1e6;
    case 4:
      return "x".repeat(rng.int(300));
    case 5:
      return "é€😀".repeat(rng.int(10));
    case 6: {
      const b = new Uint8Array(rng.int(rng.chance(0.1) ? 70_000 : 300));
      for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
      return b;
    }
    case 7:
      return `k${rng.int(1000)}`;
    case 8:
      return Array.from({ length: rng.int(20) }, () => randomValue(rng, depth + 1));
    default: {
      const m: Record<string, unknown> = {};
      const n = rng.int(20);
      for (let i = 0; i < n; i++) m[`f${rng.int(50)}`] = randomValue(rng, depth + 1);
      return m;
    }
  }
}

test("readMsgpack() reads what @msgpack/msgpack writes, value for value (seeded)", () => {
  const seed = 20261120;
  const rng = new Prng(seed);
  for (let i = 0; i < 400; i++) {
    const value = randomValue(rng, 0);
    const bytes = encode(value);
    assert.equal(readMsgpack(bytes), decode(bytes), `seed ${seed}, value ${i}`);
  }
});

test("@msgpack/msgpack reads every frame the frame writer produces, aligned layouts included", () => {
  const rng = new Prng(5);
  for (let i = 0; i < 200; i++) {
    const n = 1 + rng.int(600);
    const t = new Float64Array(n).map((_, j) => 1.7e15 + j * 1000);
    const v = new Float64Array(n).map(() => rng.normal());
    const channel = "c".repeat(1 + rng.int(64));
    const seq0 = [0, 5, 300, 70_000, 2 ** 35][rng.int(5)]!;
    const bytes = encodeFrame({ channel, seq0, t, v }, { id: `id-${i}`, src: "s", seq: i });
    const lib = decode(bytes) as { body: { channel: string; seq0: number; v: Uint8Array } };
    assert.is(lib.body.channel, channel);
    assert.is(lib.body.seq0, seq0);
    assert.is(lib.body.v.byteLength, n * 8);
  }
});

test("a frame's envelope strings are written as @msgpack/msgpack writes them, any length or text", () => {
  // Around the header widths (str8 from 32 bytes, str16 from 256, str32 from 65,536), in ASCII and
  // in characters of 2, 3 and 4 bytes: a string measured and written natively moves to a wider
  // header when its bytes outnumber its characters.
  const texts = [1, 31, 32, 100, 255, 256, 70_000].map((n) => "i".repeat(n));
  for (const n of [10, 31, 32, 60, 85, 86, 128, 21_845, 21_846]) texts.push("€".repeat(n));
  texts.push("é€😀".repeat(30), `${"a".repeat(250)}é`, `${"a".repeat(65_534)}é`);
  const t = Float64Array.of(1.7e15), v = Float64Array.of(0.5);
  for (const text of texts) {
    const meta = { id: text, src: `s-${text}`, cause: text.slice(0, 40), corr: text };
    const what = `a string of ${text.length} characters`;
    // A sample frame (its columns aligned, so its headers may be wider than the smallest).
    const frame = decode(encodeFrame({ channel: "c", seq0: 0, t, v }, meta)) as Record<
      string,
      unknown
    >;
    for (const k of ["id", "src", "cause", "corr"] as const) assert.is(frame[k], meta[k], what);
    // A columns frame (smallest headers): byte for byte what the general encoder writes.
    const bytes = encodeColumns({ channel: text, seq0: 0, t, columns: { v } }, meta);
    const lib = decode(bytes) as Record<string, unknown>;
    for (const k of ["id", "src", "cause", "corr"] as const) assert.is(lib[k], meta[k], what);
    assert.is((lib.body as { channel: string }).channel, text, what);
    const again = encode(lib);
    let same = again.length === bytes.length;
    for (let i = 0; same && i < bytes.length; i++) same = again[i] === bytes[i];
    assert.ok(same, `${what}: not the general encoder's bytes`);
  }
});

test("a long string with a lone surrogate is written as TextEncoder writes it (U+FFFD), measured alike", () => {
  // The runtime's UTF-8 calls measure and write a long string; an unpaired surrogate is three
  // bytes either way, so the writer's size holds.
  const t = Float64Array.of(1.7e15), v = Float64Array.of(0.5);
  for (
    const text of [`${"a".repeat(40)}\ud800b`, `\udc00${"é".repeat(40)}`, "x\ud83d".repeat(20)]
  ) {
    const bytes = encodeColumns({ channel: "c", seq0: 0, t, columns: { v } }, {
      id: text,
      src: "s",
    });
    const lib = decode(bytes) as Record<string, unknown>;
    assert.is(lib.id, new TextDecoder().decode(new TextEncoder().encode(text)));
  }
});

test("MsgpackWriter.float64() writes a column's little-endian bytes as a bin, short or long", () => {
  for (const n of [0, 1, 2, 7, 8, 9, 40, 300]) {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = i % 3 === 0 ? -i * 1.5 : i === 5 ? NaN : 1 / (i + 1);
    const bytes = new Uint8Array(n * 8);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) view.setFloat64(i * 8, a[i]!, true);
    const size = MsgpackWriter.binSize(bytes.length);
    const w = new MsgpackWriter(size);
    w.float64(a);
    assert.is(w.pos, size, `${n} values: the bin's size`);
    assert.equal([...w.bytes], [...encode(bytes)], `${n} values: the bytes of bin`);
    const wide = new MsgpackWriter(5 + bytes.length);
    wide.float64Width(a, 5);
    assert.equal([...wide.bytes.subarray(5)], [...bytes], `${n} values after a bin32 header`);
    assert.equal([...wide.bytes.subarray(0, 5)], [0xc6, 0, 0, (n * 8) >> 8, (n * 8) & 255]);
  }
});

test("MsgpackWriter.int() writes every integer width at its bounds as @msgpack/msgpack does", () => {
  const bounds = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3];
  const xs = [...bounds, Number.MAX_SAFE_INTEGER];
  for (const x of [-1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1]) {
    xs.push(x);
  }
  xs.push(-(2 ** 40) - 3, Number.MIN_SAFE_INTEGER);
  for (const x of xs) {
    const w = new MsgpackWriter(MsgpackWriter.intSize(x));
    w.int(x);
    assert.equal([...w.bytes], [...encode(x)], `${x}`);
    assert.is(decode(w.bytes), x, `${x} read back`);
  }
});

test("readMsgpack() rejects truncated input, the unused byte 0xc1 and trailing bytes", () => {
  const bytes = encode({ a: [1, 2, "three"], b: new Uint8Array(10) });
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(
      () => readMsgpack(bytes.subarray(0, cut)),
      (e: unknown) => e instanceof ProtocolError,
    );
  }
  assert.throws(() => readMsgpack(new Uint8Array([0xc1])), /0xc1/);
  assert.throws(() => readMsgpack(new Uint8Array([0x01, 0x02])), /left over/);
});

test("readMsgpack() never sets an object's prototype from a __proto__ key", () => {
  const bytes = encode({ ["__proto__"]: { polluted: true }, ok: 1 } as Record<string, unknown>);
  const value = readMsgpack(bytes) as Record<string, unknown>;
  assert.is(value.ok, 1);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.is(Object.getPrototypeOf(value), Object.prototype);
});

test("decodeValue() hands extension types to @msgpack/msgpack", () => {
  const bytes = encode(new Date(1_700_000_000_000));
  assert.throws(() => readMsgpack(bytes), (e: unknown) => e instanceof UnsupportedMsgpack);
  assert.instance(decodeValue(bytes), Date);
});

test("readMsgpack() reads every integer width at its bounds, as bytes written by hand", () => {
  // Each msgpack integer type at the ends of its range, big-endian, with the value it holds.
  const cases: Array<[number[], number]> = [
    [[0xcc, 0xff], 255],
    [[0xcd, 0xff, 0xff], 65535],
    [[0xce, 0xff, 0xff, 0xff, 0xff], 4294967295],
    [[0xce, 0x80, 0x00, 0x00, 0x00], 2147483648],
    [[0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Number.MAX_SAFE_INTEGER],
    [[0xcf, 0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00], 6442450944],
    [[0xd0, 0x80], -128],
    [[0xd0, 0x7f], 127],
    [[0xd1, 0x80, 0x00], -32768],
    [[0xd1, 0xff, 0xff], -1],
    [[0xd2, 0x80, 0x00, 0x00, 0x00], -2147483648],
    [[0xd2, 0x7f, 0xff, 0xff, 0xff], 2147483647],
    [[0xd3, 0xff, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01], -Number.MAX_SAFE_INTEGER],
    [[0xd3, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00], -2147483648],
    [[0xd3, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff], 8589934591],
    [[0xca, 0x3f, 0xc0, 0x00, 0x00], 1.5],
    [[0xcb, 0xc0, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], -Math.PI],
  ];
  for (const [bytes, value] of cases) {
    const b = new Uint8Array(bytes);
    assert.is(readMsgpack(b), value, `bytes ${bytes.map((x) => x.toString(16)).join(" ")}`);
    assert.is(readMsgpack(b), decode(b), `@msgpack/msgpack on ${bytes[0]!.toString(16)}`);
  }
  // Inside a map, after other values, from a view that does not start its buffer.
  const whole = new Uint8Array(3 + 9);
  whole.set([0x81, 0xa1, 0x78, 0xd3, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x00], 0);
  const padded = new Uint8Array(whole.length + 5);
  padded.set(whole, 5);
  assert.equal(readMsgpack(padded.subarray(5)), { x: -8589934592 });
});

test("readMsgpack() reads strings of every short length in turn, ASCII and not", () => {
  // Short strings are made from scratch char codes kept per length: lengths up and down, so that
  // each length's scratch is reused after others.
  const rng = new Prng(33);
  const values: string[] = [];
  for (let i = 0; i < 300; i++) {
    const n = rng.int(70);
    let s = "";
    for (let j = 0; j < n; j++) s += String.fromCharCode(0x21 + rng.int(90));
    values.push(rng.chance(0.1) ? `${s}é` : s);
  }
  for (const s of values) assert.is(readMsgpack(encode(s)), s);
  assert.equal(readMsgpack(encode(values)), values);
});

test.run();
