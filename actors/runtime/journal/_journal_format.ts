/**
 * The on-disk format of the file journal, kept apart from the I/O so that it can be read and
 * tested on its own. All integers are little-endian.
 *
 * A segment file `NNNNNNNN.seg` starts with an 8-byte header, the magic `TRPJ` and the format
 * version (u32), followed by records:
 *
 * ```
 * offset   size  field
 * 0        4     length L of everything after the CRC field: 10 + S + D
 * 4        4     CRC-32 of the length field (bytes 0..3) and of the L bytes that follow the CRC
 * 8        2     S, the byte length of the stream name (UTF-8)
 * 10       S     the stream name
 * 10+S     8     pos, a safe integer as u32 low then u32 high
 * 18+S     D     data
 * ```
 *
 * A sealed segment has an index `NNNNNNNN.idx`: the magic `TRPI`, the CRC-32 of the body (u32),
 * and a msgpack body `{ v, bytes, records, streams: [[name, first, last, count], ...] }` where
 * `bytes` is the segment's size, so that open reads a small index instead of the whole segment.
 * The file `positions` (magic `TRPP`, CRC, msgpack `{ v, streams: [[name, last], ...] }`) keeps
 * the last position of streams whose records compaction deleted, so positions never restart.
 */
import { decodeValue, valuePieces } from "../../../protocol/mod.ts";
import { crc32, crc32Word } from "./crc32.ts";
import { type JournalStreams, STREAM_NAME_BYTES_MAX } from "./_journal_streams.ts";
import { SegmentStreams } from "./_segment_streams.ts";

/** The segment header: magic `TRPJ` and the format version. */
export const SEGMENT_MAGIC = 0x4a505254; // "TRPJ" read as a little-endian u32
/** The segment format version this code reads and writes (version 1 checksummed with CRC-32C). */
export const SEGMENT_VERSION = 2;
/** Bytes of the segment header. */
export const SEGMENT_HEADER_BYTES = 8;
/** Bytes of a record before its stream name: length, CRC, name length. */
export const RECORD_PREFIX_BYTES = 10;
/** Bytes of a record besides its stream name and data. */
export const RECORD_OVERHEAD_BYTES = 18;
/** The largest record a journal writes or accepts when reading (length field value). */
export const RECORD_BYTES_MAX = 256 << 20;

const INDEX_MAGIC = 0x49505254; // "TRPI"
const POSITIONS_MAGIC = 0x50505254; // "TRPP"

/** The segment header bytes. */
export function segmentHeader(): Uint8Array {
  const b = new Uint8Array(SEGMENT_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, SEGMENT_MAGIC, true);
  v.setUint32(4, SEGMENT_VERSION, true);
  return b;
}

/** The file name of segment `id`. */
export function segmentName(id: number): string {
  return `${String(id).padStart(8, "0")}.seg`;
}

/** The file name of the index of segment `id`. */
export function indexName(id: number): string {
  return `${String(id).padStart(8, "0")}.idx`;
}

/** The segment id of a file name, or undefined when it is not a segment. */
export function parseSegmentName(name: string): number | undefined {
  const m = /^(\d{8,})\.seg$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Writes one record at `out[at]` and returns its size. `out` must have room for
 * RECORD_OVERHEAD_BYTES + name.length + data.length bytes.
 */
export function encodeRecord(
  out: Uint8Array,
  at: number,
  name: Uint8Array,
  pos: number,
  data: Uint8Array | readonly Uint8Array[],
): number {
  let dataLength = 0;
  if (data instanceof Uint8Array) dataLength = data.length;
  else for (const part of data) dataLength += part.length;
  const length = RECORD_PREFIX_BYTES - 8 + name.length + 8 + dataLength;
  const total = 8 + length;
  putU32(out, at, length);
  out[at + 8] = name.length & 0xff;
  out[at + 9] = name.length >>> 8;
  out.set(name, at + 10);
  const p = at + 10 + name.length;
  putU32(out, p, pos >>> 0);
  putU32(out, p + 4, Math.floor(pos / 0x1_0000_0000));
  if (data instanceof Uint8Array) out.set(data, p + 8);
  else {
    let q = p + 8;
    for (const part of data) {
      out.set(part, q);
      q += part.length;
    }
  }
  putU32(out, at + 4, recordCrc(out, at, total));
  return total;
}

/** The CRC of the record at `at` of `total` bytes: the length field, then what follows the CRC. */
export function recordCrc(buf: Uint8Array, at: number, total: number): number {
  return crc32(buf, at + 8, at + total, crc32Word(getU32(buf, at)));
}

/** Reads a u32 (little-endian). */
export function getU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Writes a u32 (little-endian). */
export function putU32(b: Uint8Array, at: number, value: number): void {
  b[at] = value & 0xff;
  b[at + 1] = (value >>> 8) & 0xff;
  b[at + 2] = (value >>> 16) & 0xff;
  b[at + 3] = (value >>> 24) & 0xff;
}

/** What is at an offset of a segment buffer. */
export type RecordProbe =
  | { kind: "record"; total: number; nameLength: number; pos: number }
  | { kind: "partial"; need: number }
  | { kind: "bad"; reason: string };

/**
 * Checks the record at `at` of `buf` (which ends at `end`): a complete record with a good CRC,
 * a record that continues past `end` (`need` is its full size), or damage.
 */
export function probeRecord(buf: Uint8Array, at: number, end: number): RecordProbe {
  if (end - at < 8) return { kind: "partial", need: 8 };
  const length = getU32(buf, at);
  if (length < RECORD_OVERHEAD_BYTES - 8 || length > RECORD_BYTES_MAX) {
    return { kind: "bad", reason: `record length ${length} is out of range` };
  }
  const total = 8 + length;
  if (end - at < total) return { kind: "partial", need: total };
  const nameLength = buf[at + 8]! | (buf[at + 9]! << 8);
  if (nameLength === 0 || nameLength > STREAM_NAME_BYTES_MAX || 18 + nameLength > total) {
    return { kind: "bad", reason: `stream name length ${nameLength} is out of range` };
  }
  if (recordCrc(buf, at, total) !== getU32(buf, at + 4)) {
    return { kind: "bad", reason: "CRC mismatch" };
  }
  const p = at + 10 + nameLength;
  const pos = getU32(buf, p) + getU32(buf, p + 4) * 0x1_0000_0000;
  if (pos < 1 || !Number.isSafeInteger(pos)) {
    return { kind: "bad", reason: `position ${pos} is out of range` };
  }
  return { kind: "record", total, nameLength, pos };
}

/**
 * The offset of the first intact record in `buf[from, end)`, or -1 when there is none: where
 * reading resynchronises after damage. Every offset is tried; a cheap look at the length, the name
 * length and the position's high word rules out most before a CRC is computed, and a CRC-32 match
 * on damaged bytes is a 1 in 2^32 chance.
 */
export function findRecord(buf: Uint8Array, from: number, end: number): number {
  for (let at = from; at + RECORD_OVERHEAD_BYTES <= end; at++) {
    const length = getU32(buf, at);
    if (length < RECORD_OVERHEAD_BYTES - 8 || length > end - at - 8) continue;
    const nameLength = buf[at + 8]! | (buf[at + 9]! << 8);
    if (nameLength === 0 || nameLength > STREAM_NAME_BYTES_MAX || 10 + nameLength > length) {
      continue;
    }
    if (getU32(buf, at + 14 + nameLength) >= 0x200000) continue; // positions are safe integers
    if (probeRecord(buf, at, end).kind === "record") return at;
  }
  return -1;
}

/** What a segment holds: its size, its record count and each stream's extent. */
export interface SegmentIndex {
  bytes: number;
  records: number;
  streams: SegmentStreams;
  /** Damaged byte ranges [start, end) found by a scan, which reads pass over (not in the file). */
  holes?: Array<[number, number]>;
}

/** A row of an index file: a stream's name, and its first and last position and record count. */
export type IndexRow = [name: string, first: number, last: number, count: number];

/** An index file as read: the segment's size and record count, and its rows. */
export interface IndexFile {
  bytes: number;
  records: number;
  rows: IndexRow[];
}

/**
 * Encodes a segment index file. Written piece by piece, not built as rows first: a segment of a
 * host of 100,000 channels holds 400,000 streams, whose rows, made at once, outlived the young
 * generation's collections and died in the old one, every segment.
 */
export function encodeIndex(index: SegmentIndex): Uint8Array {
  valuePieces.begin();
  writeIndexHead(index);
  writeIndexRows(index.streams, 0, index.streams.size);
  return sealBody(INDEX_MAGIC, valuePieces.end());
}

/** Rows of an index `encodeIndexInSlices` encodes between two of its waits. */
export const INDEX_ROWS_A_SLICE = 16_384;

/**
 * `encodeIndex`'s bytes, its rows encoded `INDEX_ROWS_A_SLICE` at a time with `between()` awaited
 * after each slice, for a sealed segment whose table no longer changes: a fleet host's index (a
 * row a stream, hundreds of thousands) encoded in one go would hold the thread that applies the
 * host's inputs. The writer's buffer is shared with every other encoding on the thread, so each
 * slice is copied out before the wait.
 */
export async function encodeIndexInSlices(
  index: SegmentIndex,
  between: () => Promise<void>,
): Promise<Uint8Array> {
  const t = index.streams, size = t.size;
  valuePieces.begin();
  writeIndexHead(index);
  const pieces = [valuePieces.end().slice()];
  let bodyBytes = pieces[0]!.length;
  for (let from = 0; from < size; from += INDEX_ROWS_A_SLICE) {
    await between();
    valuePieces.begin();
    writeIndexRows(t, from, Math.min(size, from + INDEX_ROWS_A_SLICE));
    const piece = valuePieces.end().slice();
    pieces.push(piece);
    bodyBytes += piece.length;
  }
  const out = new Uint8Array(8 + bodyBytes);
  let at = 8;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  putU32(out, 0, INDEX_MAGIC);
  putU32(out, 4, crc32(out, 8));
  return out;
}

/** An index's fields before its rows, up to the rows' array header. */
function writeIndexHead(index: SegmentIndex): void {
  const w = valuePieces;
  w.map(4);
  w.string("v");
  w.number(1);
  w.string("bytes");
  w.number(index.bytes);
  w.string("records");
  w.number(index.records);
  w.string("streams");
  w.array(index.streams.size);
}

/** Rows `from` to `to` (exclusive) of an index: each stream's name, first, last and count. */
function writeIndexRows(t: SegmentStreams, from: number, to: number): void {
  const w = valuePieces;
  for (let row = from; row < to; row++) {
    w.array(4);
    w.string(t.name(row));
    w.number(t.first(row));
    w.number(t.last(row));
    w.number(t.count(row));
  }
}

/** Decodes a segment index file, or returns undefined when it is damaged or not an index. */
export function decodeIndex(bytes: Uint8Array): IndexFile | undefined {
  const body = openBody(INDEX_MAGIC, bytes);
  if (!body || body.v !== 1) return undefined;
  const { bytes: size, records, streams } = body;
  if (!isCount(size) || !isCount(records) || !Array.isArray(streams)) return undefined;
  for (const s of streams) {
    if (!Array.isArray(s) || typeof s[0] !== "string") return undefined;
    if (!isCount(s[1]) || !isCount(s[2]) || !isCount(s[3])) return undefined;
  }
  return { bytes: size, records, rows: streams as IndexRow[] };
}

/** A segment's table of streams from its index file's rows, numbering streams new to `streams`. */
export function indexStreams(rows: readonly IndexRow[], streams: JournalStreams): SegmentStreams {
  const table = new SegmentStreams(streams, rows.length);
  for (const [name, first, last, count] of rows) {
    table.put(streams.intern(name).id, first, last, count);
  }
  return table;
}

/** Encodes the positions file: the last position of each stream. */
export function encodePositions(positions: ReadonlyMap<string, number>): Uint8Array {
  const w = valuePieces;
  w.begin();
  w.map(2);
  w.string("v");
  w.number(1);
  w.string("streams");
  w.array(positions.size);
  for (const [name, last] of positions) {
    w.array(2);
    w.string(name);
    w.number(last);
  }
  return sealBody(POSITIONS_MAGIC, w.end());
}

/** Decodes the positions file, or returns undefined when it is damaged. */
export function decodePositions(bytes: Uint8Array): Map<string, number> | undefined {
  const body = openBody(POSITIONS_MAGIC, bytes);
  if (!body || body.v !== 1 || !Array.isArray(body.streams)) return undefined;
  const map = new Map<string, number>();
  for (const s of body.streams) {
    if (!Array.isArray(s) || typeof s[0] !== "string" || !isCount(s[1])) return undefined;
    map.set(s[0], s[1]);
  }
  return map;
}

function sealBody(magic: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  putU32(out, 0, magic);
  putU32(out, 4, crc32(body));
  out.set(body, 8);
  return out;
}

/**
 * The msgpack body of an index (`"index"`) or positions file `bytes`, when its magic is that
 * file's and its CRC matches; else undefined.
 */
export function openSealed(bytes: Uint8Array, file: "index" | "positions"): Uint8Array | undefined {
  const magic = file === "index" ? INDEX_MAGIC : POSITIONS_MAGIC;
  if (bytes.length < 8 || getU32(bytes, 0) !== magic) return undefined;
  if (crc32(bytes, 8) !== getU32(bytes, 4)) return undefined;
  return bytes.subarray(8);
}

function openBody(magic: number, bytes: Uint8Array): Record<string, unknown> | undefined {
  const sealed = openSealed(bytes, magic === INDEX_MAGIC ? "index" : "positions");
  if (sealed === undefined) return undefined;
  try {
    const body = decodeValue(sealed);
    return body !== null && typeof body === "object" && !Array.isArray(body)
      ? body as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
