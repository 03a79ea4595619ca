/**
 * The packed store's hint file (`snapshots.hints`): where each stream's newest snapshot lies and
 * what its head says, written when the store closes, so that the next open places every stream
 * from one small file rather than reading and checking every segment's records whole: Bitcask's
 * hint files (Sheehy and Smith, 2010). A snapshot is kilobytes and its hint tens of bytes, so at
 * fleet size the segments are gigabytes where the hint file is tens of megabytes.
 *
 * It holds the segments as they were when it was written (number and size) and, for each stream,
 * the record's segment, offset, lengths, the snapshot's CRC and its head's fields (machine
 * version, journal position, meta). An open trusts it only when its own CRC holds and the
 * directory's segments are those it names, each of the size it says; the store removes it before
 * it writes anything, so a hint file is never older than the segments it describes. A snapshot's
 * body is checked against its CRC when it is read (as every body is), not at the open.
 *
 * Layout, little-endian: `TRPH`, the CRC-32 of what follows (u32), the format (u32, 2), the
 * segments' count (u32) and each one's number (u32) and size (f64), then each stream's name's
 * length (u16), name (UTF-8), segment number (u32), snapshot offset (u32), snapshot length (u32),
 * bytes before the snapshot (u16), the snapshot's CRC (u32), machine version (f64), position
 * (f64), meta's length (u32) and meta (msgpack; absent when 0), and last the streams' count (u32).
 * Format 1, which a host of the version before wrote, has the count before the streams; it is
 * read as well. Private to the snapshots folder.
 */
import { fstatSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "../journal/mod.ts";
import { decodeValue, encodeValueView } from "../../../protocol/mod.ts";
import {
  closeQuietly,
  type Entry,
  type HintHead,
  type Packed,
  type Segment,
  segmentOf,
  segmentPath,
} from "./_packed_segment.ts";

/** The hint file's name in a store's directory. */
export const HINT_FILE = "snapshots.hints";

const MAGIC = 0x48505254; // "TRPH", little-endian
const FORMAT = 2;
/** The format whose streams' count comes before them. */
const FORMAT_COUNT_FIRST = 1;
/** An entry's bytes after its name, besides its meta. */
const ENTRY_AFTER_NAME = 4 + 4 + 4 + 2 + 4 + 8 + 8 + 4;

/** A stream's newest snapshot as a hint gives it: its head's fields and where it lies. */
export interface Hint extends HintHead {
  /** The segment's number. */
  seg: number;
  /** The snapshot's offset in the segment, its length, and its record's bytes before it. */
  at: number;
  len: number;
  head: number;
}

/**
 * Opens the store's segments `numbers` (of directory `dir`) as its hint file says and gives
 * `place` each stream's newest record, when the file is whole and names those segments at their
 * sizes; otherwise why not (its segments closed again; what `place` was given is to be let go
 * of). The file is removed either way, before the store writes anything: a hint file is never
 * older than the segments it describes.
 */
export function openHinted(
  dir: string,
  numbers: readonly number[],
  place: (stream: string, entry: Packed) => void,
): Segment[] | string {
  const path = join(dir, HINT_FILE);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return "no hint file";
  }
  unlinkSync(path);
  const byNumber = new Map<number, Segment>();
  let refused = "the hint file is damaged";
  const ok = readHints(bytes, (named) => {
    refused = `the hint file names ${named.length} segments, the directory holds ` +
      `${numbers.length}`;
    if (named.length !== numbers.length) return false;
    for (const [n, size] of named) {
      refused = `segment ${n} is not the hint file's`;
      if (!numbers.includes(n) || byNumber.has(n)) return false;
      const file = segmentPath(dir, n), fd = openSync(file, "r+");
      const seg = segmentOf(n, file, fd, fstatSync(fd).size);
      byNumber.set(n, seg);
      refused = `segment ${n} is of ${seg.size} bytes, the hint file says ${size}`;
      if (seg.size !== size) return false;
    }
    refused = "the hint file is damaged";
    return true;
  }, (stream, hint) => {
    const seg = byNumber.get(hint.seg);
    if (seg === undefined || hint.at + hint.len > seg.size || hint.head > hint.at) {
      throw new RangeError(`a hint of ${stream} out of its segment`);
    }
    place(stream, { seg, at: hint.at, len: hint.len, head: hint.head, hint });
  });
  if (ok) return [...byNumber.values()].sort((a, b) => a.n - b.n);
  for (const seg of byNumber.values()) closeQuietly(seg.fd);
  return refused;
}

/**
 * Writes the hint file of a store in `dir` with `segments` and `index` as they are, written and
 * closing: none when a stream's newest record has no hint (its head did not read), nor when it
 * cannot be written (the next open reads the segments then). Not fsynced: a file a crash cut short
 * fails its CRC (its CRC is written last, over bytes that were zeros until then).
 */
export function writeHints(
  dir: string,
  segments: readonly Segment[],
  index: ReadonlyMap<string, Entry>,
): void {
  const path = join(dir, HINT_FILE);
  let fd = -1, whole = false;
  try {
    fd = openSync(path, "w");
    whole = writeHintsTo(new HintSink(fd), segments, index);
  } catch {
    // No hint file: the next open reads the segments.
  } finally {
    if (fd >= 0) closeQuietly(fd);
    if (!whole) removeQuietly(path);
  }
}

/**
 * The hint file's bytes for `segments` and the store's `index`, its records' only (a file
 * store's snapshots are found by their names), written through `sink`; false when a record has no
 * hint, or no record is the store's.
 */
function writeHintsTo(
  sink: HintSink,
  segments: readonly Segment[],
  index: ReadonlyMap<string, Entry>,
): boolean {
  sink.room(16 + segments.length * 12);
  const view = sink.view;
  let at = 8; // the magic and the CRC: written last, over these zeros
  view.setUint32(at, FORMAT, true);
  view.setUint32(at + 4, segments.length, true);
  at += 8;
  for (const seg of segments) {
    view.setUint32(at, seg.n, true);
    view.setFloat64(at + 4, seg.size, true);
    at += 12;
  }
  sink.at = at;
  let count = 0;
  for (const [stream, e] of index) {
    if (!("seg" in e)) continue;
    if (e.hint === undefined) return false;
    putEntry(sink, stream, e, e.hint);
    count++;
  }
  if (count === 0) return false;
  sink.room(4);
  sink.view.setUint32(sink.at, count, true);
  sink.at += 4;
  sink.end(MAGIC);
  return true;
}

/** Bytes the hint file is written through at a time: some 8,000 entries of a fleet host. */
const WRITE_BYTES = 1 << 20;

/**
 * The hint file's bytes as they are made, written to its file a buffer at a time with their
 * CRC-32 running: a fleet host's 400,000 entries are some 60 MB, which in one buffer of their
 * own were as many fresh pages for the stop to fault in at its end, and array-buffer memory past
 * what starts V8's marking of the whole heap (docs/stop_and_start_disk.md).
 */
class HintSink {
  out = new Uint8Array(WRITE_BYTES);
  view = new DataView(this.out.buffer);
  /** Where the next byte goes in `out`. */
  at = 0;
  readonly #fd: number;
  /** The CRC-32 of the bytes written so far from the file's 8th on. */
  #crc = 0;
  /** Where the CRC starts in `out`: past the magic and the CRC in the first buffer. */
  #from = 8;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Room for `n` bytes more in `out`: what it holds written first, when it has not. */
  room(n: number): void {
    if (this.at + n <= this.out.length) return;
    if (this.at > 0) this.#flush();
    if (n > this.out.length) {
      this.out = new Uint8Array(n);
      this.view = new DataView(this.out.buffer);
    }
  }

  /** Writes what `out` holds, and then the file's magic and CRC at its start. */
  end(magic: number): void {
    this.#flush();
    const head = new DataView(new ArrayBuffer(8));
    head.setUint32(0, magic, true);
    head.setUint32(4, this.#crc, true);
    writeAll(this.#fd, new Uint8Array(head.buffer), 8, 0);
  }

  #flush(): void {
    this.#crc = crc32(this.out, this.#from, this.at, this.#crc);
    writeAll(this.#fd, this.out, this.at, null);
    this.#from = 0;
    this.at = 0;
  }
}

/** Writes `bytes[0, n)` to `fd` at `position` (null: where the file is), all of them. */
function writeAll(fd: number, bytes: Uint8Array, n: number, position: number | null): void {
  let done = 0;
  while (done < n) {
    done += writeSync(fd, bytes, done, n - done, position === null ? null : position + done);
  }
}

/** Removes `path`, whatever comes of it. */
function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there, or not ours to remove: an open refuses what it cannot trust.
  }
}

/** Writes `stream`'s entry, its record `e` with hint `h`, into `sink`. */
function putEntry(sink: HintSink, stream: string, e: Packed, h: HintHead): void {
  const meta = h.meta;
  const srcPos = meta === undefined ? -1 : srcPosAlone(meta);
  const slow = meta === undefined || srcPos >= 0 ? EMPTY : encodeValueView(meta);
  sink.room(2 + 3 * stream.length + ENTRY_AFTER_NAME + SRC_POS_META_MAX + slow.length);
  const out = sink.out, view = sink.view;
  let at = putName(out, sink.at + 2, stream);
  view.setUint16(at - 2 - nameBytes, nameBytes, true);
  view.setUint32(at, e.seg.n, true);
  view.setUint32(at + 4, e.at, true);
  view.setUint32(at + 8, e.len, true);
  view.setUint16(at + 12, e.head, true);
  view.setUint32(at + 14, h.crc, true);
  view.setFloat64(at + 18, h.version, true);
  view.setFloat64(at + 26, h.pos, true);
  at += 38;
  let metaLen = slow.length;
  if (srcPos >= 0) metaLen = putSrcPosMeta(out, at, srcPos);
  else out.set(slow, at);
  view.setUint32(at - 4, metaLen, true);
  sink.at = at + metaLen;
}

const EMPTY = new Uint8Array(0);
const UTF8 = new TextEncoder();
/** The bytes `putName` wrote last. */
let nameBytes = 0;

/**
 * Writes `name`'s UTF-8 bytes at `at` of `out` (a character at a time while they are ASCII, as
 * streams' names are, rather than an `encodeInto` each); returns where they end.
 */
function putName(out: Uint8Array, at: number, name: string): number {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) {
      nameBytes = UTF8.encodeInto(name, out.subarray(at)).written;
      return at + nameBytes;
    }
    out[at + i] = c;
  }
  nameBytes = name.length;
  return at + nameBytes;
}

/**
 * A host's snapshots' meta, `{ srcPos }`, in msgpack: a map of one (0x81), the key as a string of
 * six (0xa6), then the number as msgpack's shortest unsigned integer (big-endian). Written and
 * read here, not by the general codec, which would walk an object and make a view for each of a
 * fleet host's hundreds of thousands of entries; any other meta goes through the codec.
 */
const SRC_POS_KEY = [0x81, 0xa6, 0x73, 0x72, 0x63, 0x50, 0x6f, 0x73]; // "srcPos"
/** Its bytes at most. */
const SRC_POS_META_MAX = SRC_POS_KEY.length + 5;

/** `meta`'s `srcPos` when it is its only field and a whole number below 2^32, else -1. */
function srcPosAlone(meta: Record<string, number | string>): number {
  let fields = 0;
  for (const k in meta) if (k !== "srcPos" || ++fields > 1) return -1;
  const v = meta.srcPos;
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : -1;
}

/** Writes `{ srcPos }` at `at` of `out` (SRC_POS_META_MAX bytes of room); returns its length. */
function putSrcPosMeta(out: Uint8Array, at: number, srcPos: number): number {
  for (let i = 0; i < SRC_POS_KEY.length; i++) out[at + i] = SRC_POS_KEY[i]!;
  let n = SRC_POS_KEY.length;
  if (srcPos < 0x80) {
    out[at + n++] = srcPos;
  } else if (srcPos < 0x100) {
    out[at + n++] = 0xcc;
    out[at + n++] = srcPos;
  } else if (srcPos < 0x10000) {
    out[at + n++] = 0xcd;
    out[at + n++] = srcPos >>> 8;
    out[at + n++] = srcPos & 0xff;
  } else {
    out[at + n++] = 0xce;
    for (let shift = 24; shift >= 0; shift -= 8) out[at + n++] = (srcPos >>> shift) & 0xff;
  }
  return n;
}

/** The meta at `bytes[at, at + n)`: `{ srcPos }` read here when it is that, else decoded. */
function readMeta(bytes: Uint8Array, at: number, n: number): Hint["meta"] {
  const k = SRC_POS_KEY.length;
  let same = n > k;
  for (let i = 0; same && i < k; i++) same = bytes[at + i] === SRC_POS_KEY[i];
  if (same) {
    const tag = bytes[at + k]!, rest = n - k - 1;
    let v = -1;
    if (tag < 0x80 && rest === 0) v = tag;
    else if (tag === 0xcc && rest === 1) v = bytes[at + k + 1]!;
    else if (tag === 0xcd && rest === 2) v = (bytes[at + k + 1]! << 8) | bytes[at + k + 2]!;
    else if (tag === 0xce && rest === 4) {
      v = 0;
      for (let i = 1; i <= 4; i++) v = v * 256 + bytes[at + k + i]!;
    }
    if (v >= 0) return { srcPos: v };
  }
  return decodeValue(bytes.subarray(at, at + n)) as Hint["meta"];
}

/**
 * Reads hint file bytes: `segments` is given the segments it names (number, size) and says
 * whether they are the directory's; then `entry` is called for each stream. False when the bytes
 * are not a whole hint file of this format (or format 1) or `segments` refuses them: entries may
 * have been given then (only a file whose CRC holds is read past its segments, so only one this
 * code did not write), which the caller lets go of. Read without closures over the offset, which
 * would keep it in a context rather than a register for each of a fleet host's entries.
 */
export function readHints(
  bytes: Uint8Array,
  segments: (named: Array<[number, number]>) => boolean,
  entry: (stream: string, hint: Hint) => void,
): boolean {
  if (bytes.length < 16) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== crc32(bytes, 8)) {
    return false;
  }
  const format = view.getUint32(8, true), segmentCount = view.getUint32(12, true);
  if (format !== FORMAT && format !== FORMAT_COUNT_FIRST) return false;
  let at = 16, end = bytes.length;
  if (at + segmentCount * 12 + 4 > end) return false;
  const named: Array<[number, number]> = [];
  for (let k = 0; k < segmentCount; k++, at += 12) {
    named.push([view.getUint32(at, true), view.getFloat64(at + 4, true)]);
  }
  if (!segments(named)) return false;
  let count: number;
  if (format === FORMAT_COUNT_FIRST) {
    count = view.getUint32(at, true);
    at += 4;
  } else {
    end -= 4;
    count = view.getUint32(end, true);
  }
  const names = new TextDecoder();
  let read = 0;
  try {
    while (read < count && at < end) {
      if (at + 2 > end) return false;
      const nameLen = view.getUint16(at, true), from = at + 2;
      at = from + nameLen + ENTRY_AFTER_NAME;
      if (at > end) return false;
      const stream = names.decode(bytes.subarray(from, from + nameLen));
      const f = from + nameLen, metaLen = view.getUint32(at - 4, true);
      if (at + metaLen > end) return false;
      const meta = metaLen === 0 ? undefined : readMeta(bytes, at, metaLen);
      at += metaLen;
      entry(stream, {
        seg: view.getUint32(f, true),
        at: view.getUint32(f + 4, true),
        len: view.getUint32(f + 8, true),
        head: view.getUint16(f + 12, true),
        crc: view.getUint32(f + 14, true),
        version: view.getFloat64(f + 18, true),
        pos: view.getFloat64(f + 26, true),
        meta,
      });
      read++;
    }
    return read === count && at === end;
  } catch {
    return false;
  }
}
