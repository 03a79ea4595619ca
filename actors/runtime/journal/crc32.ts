/**
 * CRC-32 (the zlib/IEEE 802.3 polynomial), the checksum of journal records, journal indexes,
 * snapshots and recordings. Computed by the runtime's zlib (`node:zlib` `crc32`, on Node 20.15+
 * and on Deno), which uses the CPU's carry-less multiply: about 4 GB/s on Node here and several
 * times that on Deno, where troupe's own table-driven CRC-32C managed 1.3-1.9 GB/s and cost a
 * host running `stats` an eighth of its time per input frame. A CRC-32 detects every burst of
 * up to 32 flipped bits and every odd number of flips, which is what a torn or damaged record
 * looks like.
 */
import zlib from "node:zlib";

const zlibCrc32: ((data: Uint8Array, value?: number) => number) | undefined =
  (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

if (typeof zlibCrc32 !== "function") {
  throw new Error(
    `troupe needs Node.js 20.15 or later (for zlib.crc32); this is Node.js ${
      (globalThis as { process?: { version?: string } }).process?.version ?? "unknown"
    }`,
  );
}
const crc = zlibCrc32;

/**
 * The CRC-32 of `bytes[start, end)`. Pass the previous result as `previous` to continue a
 * checksum over several pieces: `crc32(b, 0, n, crc32(a))` equals the checksum of `a` then `b`.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return crc(view, previous) >>> 0;
}

/** The table of the byte-at-a-time CRC-32 (reflected polynomial 0xedb88320). */
const TABLE = /* @__PURE__ */ (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * The CRC-32 of the four bytes of `word` written little-endian, continuing `previous` as
 * `crc32` does. A journal record's checksum starts with its length field: computed here it
 * costs four table steps, where a call into zlib costs a view of the four bytes and a binding
 * call for each record.
 */
export function crc32Word(word: number, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < 4; i++) c = TABLE[(c ^ (word >>> (8 * i))) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
