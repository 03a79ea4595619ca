/**
 * A recording's records as bytes: the writer's layout of a record body (a msgpack array
 * [subject, t_us, data, headers?] behind a length and a CRC, see `recording.ts`) and the reader's
 * parsing of a chunk of them, with a fast path for the writer's own layout.
 */
import { crc32 } from "../../actors/runtime/mod.ts";
import { decodeValue, encodeValue } from "../../protocol/mod.ts";
import {
  isTrailerBody,
  parseRecordingTrailer,
  RECORD_BYTES_MAX,
  type RecordedMessage,
  type RecordingTrailer,
} from "./recording.ts";

const utf8 = new TextEncoder();

/** A record's parts ready to write, and its body's length. */
export interface RecordLayout {
  subj: Uint8Array;
  head: Uint8Array | undefined;
  /** Bytes of the msgpack string head of the subject: 1, 2, 3 or 5. */
  strHead: number;
  /** Bytes of the msgpack bin head of the data: 2, 3 or 5. */
  binHead: number;
  body: number;
}

/** How a message's record is laid out, and how long its body is. */
export function recordLayout(
  subject: string,
  data: Uint8Array,
  headers: Record<string, string> | undefined,
): RecordLayout {
  const subj = utf8.encode(subject);
  const head = headers && Object.keys(headers).length ? encodeValue(headers) : undefined;
  const sl = subj.byteLength;
  const strHead = sl < 32 ? 1 : sl < 256 ? 2 : sl < 65536 ? 3 : 5;
  const n = data.byteLength;
  const binHead = n < 256 ? 2 : n < 65536 ? 3 : 5;
  const body = 1 + strHead + sl + 9 + binHead + n + (head?.byteLength ?? 0);
  return { subj, head, strHead, binHead, body };
}

/**
 * Writes a record (length, CRC, body) at `start` of `b` (which has room for it); returns where
 * it ends.
 */
export function writeRecord(
  b: Uint8Array,
  v: DataView,
  start: number,
  layout: RecordLayout,
  tUs: number,
  data: Uint8Array,
): number {
  const { subj, head, strHead, binHead } = layout;
  let p = start + 8;
  b[p++] = head ? 0x94 : 0x93;
  const sl = subj.byteLength;
  if (strHead === 1) b[p++] = 0xa0 | sl;
  else if (strHead === 2) (b[p++] = 0xd9, b[p++] = sl);
  else if (strHead === 3) (b[p++] = 0xda, v.setUint16(p, sl), p += 2);
  else (b[p++] = 0xdb, v.setUint32(p, sl), p += 4);
  b.set(subj, p);
  p += sl;
  b[p++] = 0xcf; // uint 64, big-endian as msgpack has it
  v.setUint32(p, Math.floor(tUs / 0x1_0000_0000));
  v.setUint32(p + 4, tUs >>> 0);
  p += 8;
  const n = data.byteLength;
  if (binHead === 2) (b[p++] = 0xc4, b[p++] = n);
  else if (binHead === 3) (b[p++] = 0xc5, v.setUint16(p, n), p += 2);
  else (b[p++] = 0xc6, v.setUint32(p, n), p += 4);
  b.set(data, p);
  p += n;
  if (head) {
    b.set(head, p);
    p += head.byteLength;
  }
  v.setUint32(start, layout.body, true);
  v.setUint32(start + 4, crc32(b, start + 8, p), true);
  return p;
}

const utf8d = new TextDecoder();

export function le32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function be16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function be32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/**
 * Decodes a record body as the writer lays it out (fixarray, str, uint 64, bin, then a headers
 * map), without the generic decoder's allocations; undefined for any other msgpack encoding of
 * the same values, which `parseRecord` then decodes the generic way.
 */
function parseRecordFast(
  b: Uint8Array,
  index: number,
  offset: number,
): RecordedMessage | undefined {
  const n = b.byteLength;
  if (n < 12) return undefined;
  const arr = b[0]!;
  if (arr !== 0x93 && arr !== 0x94) return undefined;
  let p = 1;
  const h = b[p++]!;
  let sl: number;
  if ((h & 0xe0) === 0xa0) sl = h & 0x1f;
  else if (h === 0xd9) sl = b[p++]!;
  else if (h === 0xda) (sl = be16(b, p), p += 2);
  else return undefined;
  if (p + sl + 9 > n) return undefined;
  const subject = utf8d.decode(b.subarray(p, p + sl));
  p += sl;
  if (b[p++] !== 0xcf) return undefined;
  const tUs = be32(b, p) * 0x1_0000_0000 + be32(b, p + 4);
  p += 8;
  const bh = b[p++];
  let dl: number;
  if (bh === 0xc4) dl = b[p++]!;
  else if (bh === 0xc5) (dl = be16(b, p), p += 2);
  else if (bh === 0xc6) (dl = be32(b, p), p += 4);
  else return undefined;
  if (p + dl > n) return undefined;
  const data = b.subarray(p, p + dl);
  p += dl;
  let headers: Record<string, string> | undefined;
  if (arr === 0x94) {
    let raw: unknown;
    try {
      raw = decodeValue(b.subarray(p));
    } catch {
      return undefined;
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return undefined;
    headers = raw as Record<string, string>;
  } else if (p !== n) return undefined;
  return { subject, tUs, data, headers, index, offset };
}

/** Decodes a record body, or says why it is not one. */
function parseRecord(body: Uint8Array, index: number, offset: number): RecordedMessage | string {
  const fast = parseRecordFast(body, index, offset);
  if (fast) return fast;
  let raw: unknown;
  try {
    raw = decodeValue(body);
  } catch {
    return `record ${index} is not msgpack`;
  }
  if (!Array.isArray(raw) || raw.length < 3 || raw.length > 4) {
    return `record ${index} is not an array [subject, t_us, data, headers?]`;
  }
  const [subject, t, data, headers] = raw as [unknown, unknown, unknown, unknown];
  const tUs = typeof t === "bigint" ? Number(t) : t;
  if (typeof subject !== "string" || typeof tUs !== "number" || !(data instanceof Uint8Array)) {
    return `record ${index} is not an array [subject, t_us, data, headers?]`;
  }
  let h: Record<string, string> | undefined;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== "object" || Array.isArray(headers)) {
      return `record ${index}'s headers are not a map`;
    }
    h = headers as Record<string, string>;
  }
  return { subject, tUs, data, headers: h, index, offset };
}

export function describeBytes(b: Uint8Array): string {
  if (b.byteLength === 0) return "nothing (the file is empty)";
  const printable = [...b].every((c) => c >= 0x20 && c < 0x7f);
  return printable
    ? JSON.stringify(String.fromCharCode(...b))
    : [...b].map((c) => c.toString(16).padStart(2, "0")).join(" ");
}

/**
 * The complete records at the start of `buf` (at file offset `filePos`), numbered from `index`:
 * them, where they end in `buf`, and why parsing stopped short of its end at a bad record, if it
 * did (a partial record at its end is not one: the next chunk completes it). Parsing stops at a
 * trailer, which it returns, `p` at its start.
 */
export function parseRecords(
  buf: Uint8Array,
  filePos: number,
  index: number,
): {
  batch: RecordedMessage[];
  p: number;
  stop: string | undefined;
  /** The trailer, found at `p` and taking `trailerBytes`. */
  trailer?: RecordingTrailer;
  trailerBytes?: number;
} {
  const batch: RecordedMessage[] = [];
  let p = 0;
  while (buf.byteLength - p >= 8) {
    const i = index + batch.length;
    const length = le32(buf, p);
    if (length === 0 || length > RECORD_BYTES_MAX) {
      return { batch, p, stop: `record ${i} has a bad length of ${length} bytes` };
    }
    if (buf.byteLength - p - 8 < length) break;
    const body = buf.subarray(p + 8, p + 8 + length);
    if (crc32(body) !== le32(buf, p + 4)) {
      return { batch, p, stop: `record ${i}'s checksum does not match` };
    }
    if (isTrailerBody(body)) {
      const trailer = parseRecordingTrailer(body);
      if (typeof trailer === "string") return { batch, p, stop: trailer };
      return { batch, p, stop: undefined, trailer, trailerBytes: 8 + length };
    }
    const msg = parseRecord(body, i, filePos + p);
    if (typeof msg === "string") return { batch, p, stop: msg };
    batch.push(msg);
    p += 8 + length;
  }
  return { batch, p, stop: undefined };
}
