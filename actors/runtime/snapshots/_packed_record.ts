/**
 * The packed store's record (packed_snapshot_store.ts): `TRPK`, the stream's name length (u16),
 * the snapshot's length (u32), the CRC-32 of those and the name (u32), the name (UTF-8), then the
 * snapshot as `encodeSnapshot` makes it (with its own CRC). What a segment is made of, and what
 * its writer queues: records in parts to be written side by side.
 */
import { crc32 } from "../journal/mod.ts";
import { allocBytes, utf8Length, writeUtf8 } from "../../../protocol/mod.ts";
import { snapshotIntact } from "./snapshot_store.ts";
import type { HintHead } from "./_packed_segment.ts";

/** A record's bytes before its stream's name. */
export const RECORD_HEAD = 14;

const MAGIC = 0x4b505254; // "TRPK", little-endian

/**
 * A record in a group written together: its stream, its bytes in all, its name's bytes, and what
 * its snapshot's head says (where known: a store's hint file is made of them).
 */
export interface RecordEntry {
  stream: string;
  bytes: number;
  nameLen: number;
  hint: HintHead | undefined;
}

/**
 * Records written side by side: their entries in order, and their bytes in parts (any split:
 * the parts laid end to end are the records laid end to end).
 */
export interface RecordGroup {
  entries: RecordEntry[];
  parts: Uint8Array[];
  /** The parts' bytes in all. */
  bytes: number;
  /** Called once the group is written or has failed: its parts may be written over then. */
  release?: () => void;
}

/**
 * The UTF-8 length of `stream`'s name, which a record holds in 1 to 65,535 bytes; a RangeError
 * naming the stream otherwise.
 */
export function recordNameLength(stream: string): number {
  const nameLen = utf8Length(stream);
  if (nameLen === 0 || nameLen > 0xffff) {
    throw new RangeError(
      `Cannot store a snapshot of stream ${JSON.stringify(stream)}: its name must be ` +
        `1 to 65,535 bytes, got ${nameLen}`,
    );
  }
  return nameLen;
}

/**
 * Writes the start of a record at `at` of `out`, up to its snapshot: the record's header and the
 * stream's name (`nameLen` bytes, `recordNameLength`), for a snapshot of `len` bytes.
 */
export function putRecordHead(
  out: Uint8Array,
  at: number,
  stream: string,
  nameLen: number,
  len: number,
): void {
  putU32(out, at, MAGIC);
  out[at + 4] = nameLen & 0xff;
  out[at + 5] = nameLen >>> 8;
  putU32(out, at + 6, len);
  writeUtf8(stream, out, at + RECORD_HEAD);
  putU32(out, at + 10, headCrc(out, at, nameLen));
}

/**
 * The start of a record, up to its snapshot's body: the record's head and the snapshot's header
 * (`header`, before a body of `bodyLen` bytes). Carved from a shared slab: a save makes one a
 * snapshot, and an array buffer each cost more than its bytes (see protocol's `allocBytes`).
 */
export function recordHead(
  stream: string,
  nameLen: number,
  header: Uint8Array,
  bodyLen: number,
): Uint8Array {
  const out = allocBytes(RECORD_HEAD + nameLen + header.length);
  putRecordHead(out, 0, stream, nameLen, header.length + bodyLen);
  out.set(header, RECORD_HEAD + nameLen);
  return out;
}

/** The bytes in all of the record whose header is at `at` of `view`, as the header says. */
export function recordSize(view: DataView, at: number): number {
  return RECORD_HEAD + view.getUint16(at + 4, true) + view.getUint32(at + 6, true);
}

/**
 * What is wrong with the record at `at` of `bytes`, or undefined when it is whole (its snapshot
 * checked too when `whole`). `bytes` hold the segment's bytes from somewhere before `at` to the
 * record's end, or to the segment's end when that is sooner (the record is then cut short).
 */
export function recordFault(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  whole: boolean,
): string | undefined {
  if (bytes.length - at < RECORD_HEAD) {
    return `a record's header cut short (${bytes.length - at} bytes)`;
  }
  if (view.getUint32(at, true) !== MAGIC) return "not a record (no TRPK)";
  const nameLen = view.getUint16(at + 4, true), len = view.getUint32(at + 6, true);
  if (bytes.length - at < RECORD_HEAD + nameLen + len) {
    return `a record of ${RECORD_HEAD + nameLen + len} bytes cut short at ${bytes.length - at}`;
  }
  if (view.getUint32(at + 10, true) !== headCrc(bytes, at, nameLen)) {
    return "a record's header fails its CRC";
  }
  const body = at + RECORD_HEAD + nameLen;
  if (whole && !snapshotIntact(bytes.subarray(body, body + len))) {
    return "a record's snapshot fails its CRC";
  }
  return undefined;
}

/** Writes `v` at `at` as a little-endian u32. */
function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

/** The CRC-32 of a record's lengths and name. */
function headCrc(bytes: Uint8Array, at: number, nameLen: number): number {
  return crc32(bytes, at + RECORD_HEAD, at + RECORD_HEAD + nameLen, crc32(bytes, at + 4, at + 10));
}
