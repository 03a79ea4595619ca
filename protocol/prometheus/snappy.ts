/**
 * The snappy block format (no framing), which Prometheus remote write and OTLP's snappy option
 * compress their bodies with. The decoder refuses a body whose claimed length is over the
 * caller's limit before it allocates anything, so a small body claiming gigabytes (a snappy bomb)
 * costs nothing; and it checks every copy against what is written so far, so a malformed body is
 * an error naming the offset, never a read out of bounds. The encoder is a small greedy one (a
 * 4-byte hash table, as the reference's fast path), enough for tests and benchmarks to send what
 * Prometheus sends.
 */
import { ProtocolError } from "../protocol_error.ts";

/** The largest decompressed length accepted when the caller gives none: 32 MiB. */
export const SNAPPY_BYTES_MAX_DEFAULT = 32 << 20;

/** Options of snappyDecompress. */
export interface SnappyDecompressOptions {
  /** The largest decompressed length accepted, in bytes. */
  bytesMax?: number;
  /** What the bytes are, for errors ("body"). */
  what?: string;
  /**
   * Where to decompress when it is long enough (the result is then a view of it, good until it
   * is written again): a receiver reuses one buffer rather than have a fresh one zeroed and
   * mapped for every request.
   */
  into?: Uint8Array;
}

function bad(what: string, message: string, value: unknown): ProtocolError {
  return new ProtocolError("decode", `Cannot decompress the ${what} as snappy: ${message}`, {
    field: what,
    value,
  });
}

/** The decompressed length a snappy block claims, read from its varint preamble. */
export function snappyClaimedLength(src: Uint8Array, what = "body"): number {
  let len = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= src.length) throw bad(what, "the length preamble is cut short", src.length);
    const b = src[i]!;
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return len;
    shift += 7;
  }
  throw bad(what, "the length preamble is longer than 5 bytes", src.length);
}

function preambleBytes(src: Uint8Array): number {
  let i = 0;
  while (i < 5 && src[i]! >= 0x80) i++;
  return i + 1;
}

/** Decompresses a snappy block, refusing a claimed length over `bytesMax` before allocating. */
export function snappyDecompress(
  src: Uint8Array,
  options: SnappyDecompressOptions = {},
): Uint8Array {
  const what = options.what ?? "body";
  const max = options.bytesMax ?? SNAPPY_BYTES_MAX_DEFAULT;
  const n = snappyClaimedLength(src, what);
  if (n > max) {
    throw new ProtocolError(
      "oversize",
      `Cannot decompress the ${what}: it claims ${n} bytes, over the limit of ${max}`,
      { field: what, value: n },
    );
  }
  const into = options.into;
  const out = into !== undefined && into.length >= n ? into.subarray(0, n) : new Uint8Array(n);
  const d = decodeBlock(src, preambleBytes(src), out, what);
  if (d !== n) throw bad(what, `it holds ${d} bytes but claims ${n}`, d);
  return out;
}

/** What is wrong with an element of a block (malformed's `kind`). */
type Malformed =
  | "literal-length"
  | "literal-end"
  | "literal-past"
  | "copy-short"
  | "copy-back"
  | "copy-past";

/**
 * The error of a malformed element at offset `at` of a block, `value` the number it names. Its
 * message is made here, not where decodeBlock finds the fault: a message of numbers made anywhere
 * in that loop has V8 keep the loop's numbers boxed, a heap number made on every element.
 */
function malformed(what: string, kind: Malformed, at: number, value: number): ProtocolError {
  switch (kind) {
    case "literal-length":
      return bad(what, `a literal's length is cut short at offset ${at}`, value);
    case "literal-end":
      return bad(what, `a literal of ${value} bytes at offset ${at} runs past the end`, value);
    case "literal-past":
      return bad(what, `a literal at offset ${at} writes past the claimed ${value} bytes`, value);
    case "copy-short":
      return bad(what, `a copy at offset ${at} is cut short`, value);
    case "copy-back":
      return bad(
        what,
        `a copy at offset ${at} reaches back ${value} bytes, before the start`,
        value,
      );
    case "copy-past":
      return bad(what, `a copy at offset ${at} writes past the claimed ${value} bytes`, value);
  }
}

/** Decodes the elements of `src` from `s` into `out`; the bytes written. */
function decodeBlock(src: Uint8Array, s: number, out: Uint8Array, what: string): number {
  const n = out.length;
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const ov = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let d = 0;
  const end = src.length;
  while (s < end) {
    const tag = src[s]!;
    const type = tag & 3;
    if (type === 0) {
      let len = tag >>> 2;
      s++;
      if (len >= 60) {
        const extra = len - 59;
        if (s + extra > end) throw malformed(what, "literal-length", s, s);
        len = 0;
        for (let k = 0; k < extra; k++) len += src[s + k]! * 2 ** (8 * k);
        s += extra;
      }
      len += 1;
      if (s + len > end) {
        throw malformed(what, "literal-end", s, len);
      }
      if (d + len > n) {
        throw malformed(what, "literal-past", s, n);
      }
      if (len < 32) {
        // Short runs four bytes at a time: a subarray to set from costs more than the copy.
        let k = 0;
        for (; k + 4 <= len; k += 4) ov.setInt32(d + k, sv.getInt32(s + k));
        for (; k < len; k++) out[d + k] = src[s + k]!;
      } else out.set(src.subarray(s, s + len), d);
      s += len;
      d += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (type === 1) {
      if (s + 2 > end) throw malformed(what, "copy-short", s, s);
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[s + 1]!;
      s += 2;
    } else if (type === 2) {
      if (s + 3 > end) throw malformed(what, "copy-short", s, s);
      len = (tag >>> 2) + 1;
      offset = src[s + 1]! | (src[s + 2]! << 8);
      s += 3;
    } else {
      if (s + 5 > end) throw malformed(what, "copy-short", s, s);
      len = (tag >>> 2) + 1;
      offset = (src[s + 1]! | (src[s + 2]! << 8) | (src[s + 3]! << 16)) + src[s + 4]! * 2 ** 24;
      s += 5;
    }
    if (offset === 0 || offset > d) {
      throw malformed(what, "copy-back", s, offset);
    }
    if (d + len > n) throw malformed(what, "copy-past", s, n);
    if (offset >= len && len >= 32) {
      out.copyWithin(d, d - offset, d - offset + len);
      d += len;
    } else {
      // Short copies, and overlapping ones (which repeat the last `offset` bytes, as the format
      // means), forward: four bytes at a time when each four are all written before they are
      // read (`offset` of at least 4), then byte by byte.
      let k = 0;
      if (offset >= 4) {
        for (; k + 4 <= len; k += 4) ov.setInt32(d + k, ov.getInt32(d + k - offset));
      }
      for (; k < len; k++) out[d + k] = out[d + k - offset]!;
      d += len;
    }
  }
  return d;
}

const HASH_BITS = 14;

/** Compresses `src` as one snappy block. */
export function snappyCompress(src: Uint8Array): Uint8Array {
  const n = src.length;
  // The worst case: every byte a literal, plus tags and the preamble.
  const out = new Uint8Array(32 + n + Math.ceil(n / 6));
  let o = 0;
  let len = n;
  while (len >= 0x80) {
    out[o++] = (len & 0x7f) | 0x80;
    len = Math.floor(len / 128);
  }
  out[o++] = len;
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  const load = (i: number) =>
    (src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24)) >>> 0;
  const hash = (x: number) => Math.imul(x, 0x1e35a7bd) >>> (32 - HASH_BITS);
  let lit = 0;
  let i = 0;
  const emitLiteral = (from: number, to: number) => {
    let l = to - from;
    if (l === 0) return;
    const m = l - 1;
    if (m < 60) out[o++] = m << 2;
    else if (m < 0x100) (out[o++] = 60 << 2), (out[o++] = m);
    else if (m < 0x10000) (out[o++] = 61 << 2), (out[o++] = m & 0xff), (out[o++] = m >>> 8);
    else {
      out[o++] = 63 << 2;
      for (let k = 0; k < 4; k++) out[o++] = (m >>> (8 * k)) & 0xff;
    }
    out.set(src.subarray(from, to), o);
    o += l;
    l = 0;
  };
  while (i + 4 <= n) {
    const x = load(i);
    const h = hash(x);
    const cand = table[h]!;
    table[h] = i;
    if (cand >= 0 && i - cand <= 0xffff && load(cand) === x) {
      emitLiteral(lit, i);
      let m = 4;
      while (i + m < n && src[cand + m] === src[i + m]) m++;
      const offset = i - cand;
      let left = m;
      while (left > 0) {
        const l = Math.min(left, 64);
        if (l >= 4 && l <= 11 && offset < 2048) {
          out[o++] = 1 | ((l - 4) << 2) | ((offset >>> 8) << 5);
          out[o++] = offset & 0xff;
        } else if (l >= 4 || left === l) {
          // A tail shorter than 4 after a split is still a valid 2-byte-offset copy.
          out[o++] = 2 | ((l - 1) << 2);
          out[o++] = offset & 0xff;
          out[o++] = offset >>> 8;
        }
        left -= l;
      }
      i += m;
      lit = i;
    } else {
      i++;
    }
  }
  emitLiteral(lit, n);
  return out.slice(0, o);
}
