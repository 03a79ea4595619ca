import { suite } from "uvu";
import * as assert from "uvu/assert";
import { crc32c } from "../../../actors/runtime/crc32c.ts";
import { Prng } from "../../../sim/prng.ts";

const test = suite("crc32c");

/** Bit-at-a-time CRC-32C: slow and obviously right, the reference for the sliced version. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test("crc32c() gives the published check values", () => {
  assert.is(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.is(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.is(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // RFC 3720 B.4: 32 bytes of ones
  assert.is(crc32c(new Uint8Array(0)), 0);
});

test("crc32c() equals the bit-at-a-time reference at every length and offset", () => {
  const prng = new Prng(7);
  const bytes = new Uint8Array(300);
  for (let i = 0; i < bytes.length; i++) bytes[i] = prng.int(256);
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= bytes.length; end += 7) {
      assert.is(
        crc32c(bytes, start, end),
        reference(bytes.subarray(start, end)),
        `${start}..${end}`,
      );
    }
  }
});

test("crc32c() continues a checksum across pieces", () => {
  const prng = new Prng(11);
  const bytes = new Uint8Array(1000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = prng.int(256);
  const whole = crc32c(bytes);
  for (const cut of [0, 1, 7, 8, 333, 999, 1000]) {
    assert.is(crc32c(bytes, cut, bytes.length, crc32c(bytes, 0, cut)), whole, `cut at ${cut}`);
  }
});

test("crc32c() detects every single-bit flip of a record", () => {
  const bytes = new TextEncoder().encode("stats/BTC-USD: a journal record");
  const good = crc32c(bytes);
  for (let i = 0; i < bytes.length * 8; i++) {
    bytes[i >> 3]! ^= 1 << (i & 7);
    assert.is.not(crc32c(bytes), good);
    bytes[i >> 3]! ^= 1 << (i & 7);
  }
});

test.run();
