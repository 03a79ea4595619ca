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
 * Layout, little-endian: `TRPH`, the CRC-32 of what follows (u32), the format (u32, 1), the
 * segments' count (u32) and each one's number (u32) and size (f64), the streams' count (u32) and
 * each one's name's length (u16), name (UTF-8), segment number (u32), snapshot offset (u32),
 * snapshot length (u32), bytes before the snapshot (u16), the snapshot's CRC (u32), machine
 * version (f64), position (f64), meta's length (u32) and meta (msgpack; absent when 0). Private
 * to the snapshots folder.
 */
import { fstatSync, openSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
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
const FORMAT = 1;
/** An entry's bytes besides its name and meta. */
const ENTRY_FIXED = 2 + 4 + 4 + 4 + 2 + 4 + 8 + 8 + 4;
/** An entry's bytes the hint file's buffer is first made with: a remote-write stream's name is
 *  some 100 bytes, its meta some 10. */
const ENTRY_ROOM = 192;

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
 * fails its CRC.
 */
export function writeHints(
  dir: string,
  segments: readonly Segment[],
  index: ReadonlyMap<string, Entry>,
): void {
  try {
    const named = segments.map((seg) => [seg.n, seg.size] as const);
    const bytes = encodeHints(named, index);
    if (bytes !== undefined) writeFileSync(join(dir, HINT_FILE), bytes);
  } catch {
    // No hint file: the next open reads the segments.
  }
}

/**
 * The hint file's bytes for `segments` (number, size) and the store's `index`, its records' only
 * (a file store's snapshots are found by their names); undefined when a record has no hint. One
 * pass, into a buffer that doubles when full: a fleet host's index holds its every instance.
 */
export function encodeHints(
  segments: ReadonlyArray<readonly [number, number]>,
  index: ReadonlyMap<string, Entry>,
): Uint8Array | undefined {
  // Room for names of some 150 bytes: one buffer at fleet size, not one grown and copied.
  let out = new Uint8Array(Math.max(1024, 16 + segments.length * 12 + index.size * ENTRY_ROOM));
  let view = new DataView(out.buffer);
  let at = 8;
  view.setUint32(at, FORMAT, true);
  view.setUint32(at + 4, segments.length, true);
  at += 8;
  for (const [n, size] of segments) {
    view.setUint32(at, n, true);
    view.setFloat64(at + 4, size, true);
    at += 12;
  }
  const countAt = at;
  at += 4;
  let count = 0;
  for (const [stream, e] of index) {
    if (!("seg" in e)) continue;
    const h = e.hint;
    if (h === undefined) return undefined;
    const meta = h.meta === undefined ? EMPTY : encodeValueView(h.meta);
    // Locals, not a closure's (which would keep `at` and `out` in its context, not registers).
    if (at + ENTRY_FIXED + 3 * stream.length + meta.length > out.length) {
      out = grown(out, at, ENTRY_FIXED + 3 * stream.length + meta.length);
      view = new DataView(out.buffer);
    }
    at = putName(out, at + 2, stream);
    view.setUint16(at - 2 - nameBytes, nameBytes, true);
    view.setUint32(at, e.seg.n, true);
    view.setUint32(at + 4, e.at, true);
    view.setUint32(at + 8, e.len, true);
    view.setUint16(at + 12, e.head, true);
    view.setUint32(at + 14, h.crc, true);
    view.setFloat64(at + 18, h.version, true);
    view.setFloat64(at + 26, h.pos, true);
    view.setUint32(at + 34, meta.length, true);
    out.set(meta, at + 38);
    at += 38 + meta.length;
    count++;
  }
  if (count === 0) return undefined;
  view.setUint32(countAt, count, true);
  out = out.subarray(0, at);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, crc32(out, 8), true);
  return out;
}

/** `out`, its first `at` bytes, in a buffer with room for `bytes` more (at least twice as long). */
function grown(out: Uint8Array, at: number, bytes: number): Uint8Array<ArrayBuffer> {
  const next = new Uint8Array(Math.max(2 * out.length, at + bytes));
  next.set(out.subarray(0, at));
  return next;
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
 * Reads hint file bytes: `segments` is given the segments it names (number, size) and says
 * whether they are the directory's; then `entry` is called for each stream. False when the bytes
 * are not a whole hint file of this format or `segments` refuses them: entries may have been
 * given then (only a file whose CRC holds is read past its segments, so only one this code did
 * not write), which the caller lets go of.
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
  let at = 8;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new RangeError("cut short");
  };
  const u32 = () => {
    need(4);
    at += 4;
    return view.getUint32(at - 4, true);
  };
  const f64 = () => {
    need(8);
    at += 8;
    return view.getFloat64(at - 8, true);
  };
  const u16 = () => {
    need(2);
    at += 2;
    return view.getUint16(at - 2, true);
  };
  try {
    if (u32() !== FORMAT) return false;
    const named: Array<[number, number]> = [];
    for (let k = u32(); k > 0; k--) named.push([u32(), f64()]);
    if (!segments(named)) return false;
    const names = new TextDecoder();
    for (let k = u32(); k > 0; k--) {
      const nameLen = u16();
      need(nameLen);
      const stream = names.decode(bytes.subarray(at, at += nameLen));
      const seg = u32(), off = u32(), len = u32(), head = u16(), crc = u32();
      const version = f64(), pos = f64(), metaLen = u32();
      need(metaLen);
      const meta = metaLen === 0 ? undefined : decodeValue(bytes.subarray(at, at += metaLen));
      entry(stream, { seg, at: off, len, head, crc, version, pos, meta: meta as Hint["meta"] });
    }
    if (at !== bytes.length) return false;
    return true;
  } catch {
    return false;
  }
}
