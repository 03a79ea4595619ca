/**
 * A sealed segment's index file read straight into its table of streams: the msgpack the index
 * writer makes (`encodeIndex`: `{ v, bytes, records, streams: [[name, first, last, count], ...] }`)
 * walked byte by byte, each stream found by its name's bytes (`JournalStreams.named`, a hash and a
 * compare) rather than decoded to objects, a string made of each name and then looked up. A
 * journal of a fleet's host opens tens of segments of 400,000 streams each, where decoding would
 * make and throw away a row, an array and a string per stream per segment before the host starts.
 * A body in another shape (the same value written by another encoder, or one this reader does not
 * know) is read by the general decoder: what the file says is read the same either way. Private
 * to the file journal.
 */
import { decodeIndex, indexStreams, openSealed } from "./_journal_format.ts";
import type { JournalStreams } from "./_journal_streams.ts";
import { SegmentStreams } from "./_segment_streams.ts";

/** A segment's index as read: its size, its record count and each stream's extent. */
export interface IndexRead {
  bytes: number;
  records: number;
  streams: SegmentStreams;
}

/**
 * The index file `file`'s segment, or undefined when the file is damaged, not an index, or of a
 * segment of other than `segmentBytes` (when given): such an index registers no stream, since the
 * segment is then read whole instead.
 */
export function readIndexFile(
  file: Uint8Array,
  streams: JournalStreams,
  segmentBytes?: number,
): IndexRead | undefined {
  const body = openSealed(file, "index");
  if (body === undefined) return undefined;
  const walked = walk(body);
  if (walked !== undefined) {
    if (segmentBytes !== undefined && walked.bytes !== segmentBytes) return undefined;
    const { rows, n } = walked;
    const table = new SegmentStreams(streams, n);
    for (let r = 0; r < n * 5; r += 5) {
      table.put(
        streams.named(body, rows[r]!, rows[r + 1]!).id,
        rows[r + 2]!,
        rows[r + 3]!,
        rows[r + 4]!,
      );
    }
    return { bytes: walked.bytes, records: walked.records, streams: table };
  }
  const index = decodeIndex(file);
  if (index === undefined) return undefined;
  if (segmentBytes !== undefined && index.bytes !== segmentBytes) return undefined;
  return { bytes: index.bytes, records: index.records, streams: indexStreams(index.rows, streams) };
}

/** Where the walk is in the body, and the body. */
let at = 0;
const EMPTY: Uint8Array = new Uint8Array(0);
let b = EMPTY;

/** A walk that meets what the writer does not write: the general decoder reads the body. */
const OTHER = -1;

/**
 * The body's fields, and its rows as five numbers each (the name's offset and length in the body,
 * first, last, count), when it is in the writer's shape and holds version 1 with every field;
 * else undefined. Nothing is registered yet: a body that turns out otherwise leaves no stream.
 */
function walk(body: Uint8Array): Walked | undefined {
  b = body;
  at = 0;
  try {
    return walkBody();
  } finally {
    b = EMPTY;
  }
}

interface Walked {
  bytes: number;
  records: number;
  rows: Float64Array;
  n: number;
}

function walkBody(): Walked | undefined {
  const body = b;
  let v = OTHER, bytes = OTHER, records = OTHER, n = OTHER;
  let rows: Float64Array | undefined;
  if (b[at++] !== 0x84) return undefined;
  for (let k = 0; k < 4; k++) {
    const key = keyOf();
    if (key === "v") v = uint();
    else if (key === "bytes") bytes = uint();
    else if (key === "records") records = uint();
    else if (key === "streams" && rows === undefined) {
      n = arrayHeader();
      if (n === OTHER || n * 5 > body.length) return undefined;
      rows = new Float64Array(n * 5);
      for (let r = 0; r < n * 5; r += 5) {
        if (b[at++] !== 0x94) return undefined;
        const len = strHeader();
        if (len === OTHER || at + len > b.length) return undefined;
        rows[r] = at;
        rows[r + 1] = len;
        at += len;
        const first = uint(), last = uint(), count = uint();
        if (first === OTHER || last === OTHER || count === OTHER) return undefined;
        rows[r + 2] = first;
        rows[r + 3] = last;
        rows[r + 4] = count;
      }
    } else return undefined;
  }
  if (at !== b.length || v !== 1 || bytes === OTHER || records === OTHER || rows === undefined) {
    return undefined;
  }
  return { bytes, records, rows, n };
}

/** One of the body's four keys, as a fixstr; "" for anything else. */
function keyOf(): string {
  const h = b[at]!;
  if ((h & 0xe0) !== 0xa0) return "";
  const len = h & 0x1f;
  at++;
  if (at + len > b.length) return "";
  let key = "";
  for (let i = 0; i < len; i++) key += String.fromCharCode(b[at + i]!);
  at += len;
  return key;
}

/** A msgpack unsigned integer within the safe range, or OTHER. */
function uint(): number {
  if (at >= b.length) return OTHER;
  const h = b[at++]!;
  if (h < 0x80) return h;
  if (h === 0xcc && at + 1 <= b.length) return b[at++]!;
  if (h === 0xcd && at + 2 <= b.length) {
    const x = (b[at]! << 8) | b[at + 1]!;
    at += 2;
    return x;
  }
  if (h === 0xce && at + 4 <= b.length) {
    const x = u32(at);
    at += 4;
    return x;
  }
  if (h === 0xcf && at + 8 <= b.length) {
    const x = u32(at) * 4294967296 + u32(at + 4);
    at += 8;
    return Number.isSafeInteger(x) ? x : OTHER;
  }
  return OTHER;
}

function u32(i: number): number {
  return ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
}

/** An array's length (fixarray, array 16, array 32), or OTHER. */
function arrayHeader(): number {
  if (at >= b.length) return OTHER;
  const h = b[at++]!;
  if ((h & 0xf0) === 0x90) return h & 0x0f;
  if (h === 0xdc && at + 2 <= b.length) {
    const n = (b[at]! << 8) | b[at + 1]!;
    at += 2;
    return n;
  }
  if (h === 0xdd && at + 4 <= b.length) {
    const n = u32(at);
    at += 4;
    return n;
  }
  return OTHER;
}

/** A string's byte length (fixstr, str 8, 16, 32), or OTHER. */
function strHeader(): number {
  if (at >= b.length) return OTHER;
  const h = b[at++]!;
  if ((h & 0xe0) === 0xa0) return h & 0x1f;
  if (h === 0xd9 && at + 1 <= b.length) return b[at++]!;
  if (h === 0xda && at + 2 <= b.length) {
    const n = (b[at]! << 8) | b[at + 1]!;
    at += 2;
    return n;
  }
  if (h === 0xdb && at + 4 <= b.length) {
    const n = u32(at);
    at += 4;
    return n;
  }
  return OTHER;
}
