/**
 * CRC-32 (the zlib/IEEE 802.3 polynomial), the checksum of journal records, journal indexes,
 * snapshots and recordings. Long inputs go to the runtime's zlib (`node:zlib` `crc32`, on Node
 * 20.15+ and on Deno), which uses the CPU's carry-less multiply. A call into it costs a view of
 * the bytes and a binding call whatever their length, though, more than the bytes of most journal
 * records (60-200 bytes) take: inputs up to `SHORT_BYTES` are computed here, eight bytes a step
 * (Sarwate's table method widened to "slicing-by-8", Kounavis and Berry, 2008). `troupe bench
 * crc32` measures both at record and snapshot sizes. A CRC-32 detects every burst of up to 32
 * flipped bits and every odd number of flips, which is what a torn or damaged record looks like.
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
 * The longest input computed here rather than by zlib: where the two costs cross on each runtime
 * in `troupe bench crc32` (Node's binding call is the dearer).
 */
const SHORT_BYTES = "Deno" in globalThis ? 96 : 256;

/**
 * The CRC-32 of `bytes[start, end)`. Pass the previous result as `previous` to continue a
 * checksum over several pieces: `crc32(b, 0, n, crc32(a))` equals the checksum of `a` then `b`.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  if (end - start <= SHORT_BYTES) return crc32Short(bytes, start, end, previous);
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return crc(view, previous) >>> 0;
}

/**
 * The tables of slicing-by-8 for the reflected polynomial 0xedb88320: `TABLE[k * 256 + b]` is the
 * CRC of byte `b` followed by `k` zero bytes; `TABLE[0, 256)` is the byte-at-a-time table.
 */
const TABLE = /* @__PURE__ */ (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** `crc32` computed here: eight bytes a step through `TABLE`, then the rest a byte at a time. */
function crc32Short(b: Uint8Array, start: number, end: number, previous: number): number {
  const t = TABLE;
  let c = ~previous;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
    c = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^ t[768 + b[i + 4]!]! ^ t[512 + b[i + 5]!]! ^ t[256 + b[i + 6]!]! ^
      t[b[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The CRC-32 of the four bytes of `word` written little-endian, continuing `previous` as
 * `crc32` does: a journal record's checksum covers its length field, then the bytes after its
 * CRC field, so the length's four bytes are checksummed apart, in four table steps.
 */
export function crc32Word(word: number, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < 4; i++) c = TABLE[(c ^ (word >>> (8 * i))) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
