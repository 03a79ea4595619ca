import { suite } from "uvu";
import * as assert from "uvu/assert";
import { crc32, crc32Word } from "../../../../actors/runtime/journal/crc32.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("crc32");

/** Bit-at-a-time CRC-32: slow and obviously right, the reference for the runtime's zlib. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

test("crc32() gives the published check values", () => {
  assert.is(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.is(
    crc32(new TextEncoder().encode("The quick brown fox jumps over the lazy dog")),
    0x414fa339,
  );
  assert.is(crc32(new Uint8Array(32)), 0x190a55ad);
  assert.is(crc32(new Uint8Array(0)), 0);
});

test("crc32() equals the bit-at-a-time reference at every length and offset, also on views into a larger buffer", () => {
  const prng = new Prng(7);
  const backing = new Uint8Array(311);
  for (let i = 0; i < backing.length; i++) backing[i] = prng.int(256);
  const bytes = backing.subarray(5, 305); // a view: byteOffset 5
  assert.is(crc32(bytes), reference(bytes));
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= bytes.length; end += 7) {
      assert.is(
        crc32(bytes, start, end),
        reference(bytes.subarray(start, end)),
        `${start}..${end}`,
      );
    }
  }
});

test("crc32() continues a checksum across pieces, short ones and long ones", () => {
  const prng = new Prng(11);
  for (const length of [100, 1000]) {
    const bytes = new Uint8Array(length);
    for (let i = 0; i < bytes.length; i++) bytes[i] = prng.int(256);
    const whole = crc32(bytes);
    assert.is(whole, reference(bytes));
    for (const cut of [0, 1, 7, 8, 33, 99, 100, 333, 999, 1000].filter((c) => c <= length)) {
      assert.is(crc32(bytes, cut, length, crc32(bytes, 0, cut)), whole, `${length} cut at ${cut}`);
    }
  }
});

test("crc32() detects every single-bit flip of a record", () => {
  const bytes = new TextEncoder().encode("stats/BTC-USD: a journal record");
  const good = crc32(bytes);
  for (let i = 0; i < bytes.length * 8; i++) {
    bytes[i >> 3]! ^= 1 << (i & 7);
    assert.is.not(crc32(bytes), good);
    bytes[i >> 3]! ^= 1 << (i & 7);
  }
});

test("crc32Word() is the CRC-32 of a u32's four little-endian bytes, continuing a checksum", () => {
  const prng = new Prng(13);
  const bytes = new Uint8Array(4);
  const view = new DataView(bytes.buffer);
  for (
    const word of [
      0,
      1,
      0xff,
      0x100,
      0xdeadbeef,
      0xffffffff,
      ...Array.from({ length: 200 }, () => prng.int(2 ** 32)),
    ]
  ) {
    view.setUint32(0, word, true);
    assert.is(crc32Word(word), reference(bytes), `word ${word}`);
    const previous = prng.int(2 ** 32);
    assert.is(
      crc32Word(word, previous),
      crc32(bytes, 0, 4, previous),
      `word ${word} after ${previous}`,
    );
  }
});

test.run();
