import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ProtocolError } from "../../../protocol/mod.ts";
import {
  snappyClaimedLength,
  snappyCompress,
  snappyDecompress,
} from "../../../protocol/prometheus/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("snappy");

function refusal(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error("expected a ProtocolError");
}

test("snappyCompress() and snappyDecompress() round-trip text, repeats and noise", () => {
  const seed = 56;
  const rng = new Prng(seed);
  const text = new TextEncoder().encode(
    'node_cpu_seconds_total{cpu="0",mode="idle"} '.repeat(300),
  );
  const noise = Uint8Array.from({ length: 5000 }, () => Math.floor(rng.next() * 256));
  const runs = new Uint8Array(70_000).fill(7);
  for (const src of [new Uint8Array(0), new Uint8Array([1]), text, noise, runs]) {
    const c = snappyCompress(src);
    assert.equal(snappyClaimedLength(c), src.length);
    assert.equal(snappyDecompress(c), src, `seed ${seed}, ${src.length} bytes`);
  }
  assert.ok(snappyCompress(text).length < text.length / 5, "repeated text compresses");
});

test("snappyDecompress() reads a block the reference encoder wrote, with an overlapping copy", () => {
  // "abcabcabcabc" as snappy writes it: preamble 12, literal "abc", copy offset 3 length 9.
  const block = new Uint8Array([12, 2 << 2, 97, 98, 99, 1 | ((9 - 4) << 2), 3]);
  assert.equal(new TextDecoder().decode(snappyDecompress(block)), "abcabcabcabc");
});

test("snappyDecompress() repeats the last bytes for copies of every short offset and length", () => {
  // Each block: a literal of 12 bytes, then one copy (2-byte offset) of `len` bytes reaching
  // back `offset`; what it must hold is written byte by byte, as the format defines a copy.
  const head = Uint8Array.from({ length: 12 }, (_, i) => 200 - 7 * i);
  for (let offset = 1; offset <= 12; offset++) {
    for (let len = 1; len <= 64; len++) {
      const want = new Uint8Array(12 + len);
      want.set(head);
      for (let k = 12; k < want.length; k++) want[k] = want[k - offset]!;
      const block = new Uint8Array([
        want.length,
        11 << 2,
        ...head,
        2 | ((len - 1) << 2),
        offset,
        0,
      ]);
      assert.equal(snappyDecompress(block), want, `offset ${offset}, length ${len}`);
    }
  }
  // Literals of every short length after a byte, so that they start at every alignment.
  for (let len = 1; len <= 40; len++) {
    const lit = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff);
    const block = new Uint8Array([1 + len, 0, 9, (len - 1) << 2, ...lit]);
    assert.equal(snappyDecompress(block), Uint8Array.from([9, ...lit]), `literal of ${len}`);
  }
});

test("snappyDecompress() writes into the buffer it is given when that is long enough", () => {
  const src = new TextEncoder().encode("remote write ".repeat(50));
  const into = new Uint8Array(1000).fill(1);
  const out = snappyDecompress(snappyCompress(src), { into });
  assert.is(out.buffer, into.buffer);
  assert.equal(out, src);
  const short = new Uint8Array(10);
  const fresh = snappyDecompress(snappyCompress(src), { into: short });
  assert.is.not(fresh.buffer, short.buffer);
  assert.equal(fresh, src);
});

test("snappyDecompress() refuses a bomb by its claimed length before allocating", () => {
  // Claims 2^32 - 1 bytes in 6 bytes of input.
  const bomb = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0]);
  const err = refusal(() => snappyDecompress(bomb, { bytesMax: 1 << 20 }));
  assert.is(err.reason, "oversize");
  assert.match(err.message, /claims 4294967295 bytes, over the limit of 1048576/);
});

test("snappyDecompress() names what is wrong with a malformed block", () => {
  assert.match(refusal(() => snappyDecompress(new Uint8Array([]))).message, /cut short/);
  // A copy before the start.
  assert.match(
    refusal(() => snappyDecompress(new Uint8Array([8, 1 | (4 << 2), 9]))).message,
    /reaches back 9 bytes/,
  );
  // A literal past the end of the input.
  assert.match(
    refusal(() => snappyDecompress(new Uint8Array([5, 4 << 2, 1, 2]))).message,
    /runs past the end/,
  );
  // Fewer bytes than claimed.
  assert.match(
    refusal(() => snappyDecompress(new Uint8Array([9, 0, 65]))).message,
    /holds 1 bytes but claims 9/,
  );
  // Text that is not snappy: its first bytes read as a length.
  const text = new TextEncoder().encode("hello, this is not snappy at all");
  assert.instance(refusal(() => snappyDecompress(text)), ProtocolError);
});

test.run();
