/**
 * The packed store's segments and the records its index points at (packed_snapshot_store.ts):
 * a segment file open while the store is, the bytes of it that are streams' newest, and where a
 * stream's newest snapshot lies in one, with what its head says where that is known. Private to
 * the snapshots folder.
 */
import { closeSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { readAt } from "../../files/mod.ts";
import { type SnapshotHead, unescapeStreamName } from "./snapshot_store.ts";
import { SNAP_FILE_SUFFIX } from "./file_snapshot_store.ts";

/** A segment file's name: `snapshots-<n>.pack`. */
export const PREFIX = "snapshots-";
export const SUFFIX = ".pack";

/**
 * A segment's bytes past which saves go to a new one: 64 MiB, what opening checks whole (every
 * record of the newest segment has its CRC computed) and what a compaction reads at once: large
 * enough that a stop of 100,000 snapshots is a dozen files, small enough that neither is long.
 */
export const SEGMENT_BYTES_MAX = 64 << 20;

/** Segment `n`'s path in the store's directory `dir`. */
export function segmentPath(dir: string, n: number): string {
  return join(dir, `${PREFIX}${n}${SUFFIX}`);
}

/** A segment file, open while the store is. */
export interface Segment {
  n: number;
  path: string;
  fd: number;
  size: number;
  /**
   * The bytes of its records that are streams' newest. Which streams those are is not kept: a
   * compaction finds them in one pass over the store's index, where a set a segment would cost
   * every save an insertion and a deletion in sets of up to a host's instances.
   */
  live: number;
  /** Reads in flight (a compacted segment is closed after them). */
  reads: number;
  dropped: boolean;
}

/** A record of a segment: its snapshot's offset and length, and the bytes before it. */
export interface Packed {
  seg: Segment;
  at: number;
  len: number;
  head: number;
  /**
   * Its snapshot's head as the opening read it from the record in passing, until the start's
   * `loadHead` takes it (undefined once taken, or where the record did not read: `loadHead`
   * reads it then, and says what is wrong with it).
   */
  scanned?: SnapshotHead | undefined;
  /**
   * What its snapshot's head says, and its CRC, where the store knows it (saved here, or read
   * whole at the open): what the hint file written at the store's close is made of. A record
   * without one (its head did not read) leaves no hint file.
   */
  hint: HintHead | undefined;
}

/** What a record's snapshot's head says (its machine version, position, meta), and its CRC. */
export interface HintHead {
  crc: number;
  version: number;
  pos: number;
  meta: Record<string, number | string> | undefined;
}

/** Where a stream's newest snapshot is: a record of a segment, or a file of the file store. */
export type Entry = Packed | { file: string };

/** Closes `fd`, whatever comes of it (a store that failed to open lets go of its files). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed already, or the closing failed: nothing more to do with it.
  }
}

/** Segment file `n` at `path`, open as `fd`, of `size` bytes. */
export function segmentOf(n: number, path: string, fd: number, size: number): Segment {
  return { n, path, fd, size, live: 0, reads: 0, dropped: false };
}

/** `record`'s snapshot bytes of `seg`, read at once into memory of their own. */
export function readRecord(seg: Segment, record: Packed): Uint8Array {
  const bytes = new Uint8Array(record.len);
  const got = readAt(seg.fd, bytes, bytes.length, record.at);
  if (got < bytes.length) throw new Error(`${got} of its ${bytes.length} bytes read`);
  return bytes;
}

/** A record's bytes in all. */
export function recordBytes(e: Packed): number {
  return e.head + e.len;
}

/** What a hint keeps of `head` (a snapshot or its head) whose snapshot's CRC is `crc`. */
export function hintOf(head: Omit<SnapshotHead, "body">, crc: number): HintHead {
  return { crc, version: head.version, pos: head.pos, meta: head.meta };
}

/**
 * The file store's snapshots (`<stream>.snap`) of the streams `groups` save, which `index` still
 * places: superseded once the groups are written.
 */
export function supersededFiles(
  groups: ReadonlyArray<{ entries: ReadonlyArray<{ stream: string }> }>,
  index: ReadonlyMap<string, Entry>,
): string[] {
  const files: string[] = [];
  for (const group of groups) {
    for (const { stream } of group.entries) {
      const old = index.get(stream);
      if (old !== undefined && "file" in old) files.push(old.file);
    }
  }
  return files;
}

/**
 * What a store's directory `dir` holds: its segments' numbers, and the file store's snapshots
 * (stream and path), which a packed store opened on its directory reads as well.
 */
export function storeFiles(dir: string): { numbers: number[]; files: Array<[string, string]> } {
  const numbers: number[] = [];
  const files: Array<[string, string]> = [];
  for (const name of readdirSync(dir)) {
    if (name.endsWith(SNAP_FILE_SUFFIX)) {
      const stream = unescapeStreamName(name.slice(0, -SNAP_FILE_SUFFIX.length));
      if (stream !== undefined) files.push([stream, join(dir, name)]);
    } else if (name.startsWith(PREFIX) && name.endsWith(SUFFIX)) {
      const n = Number(name.slice(PREFIX.length, -SUFFIX.length));
      if (Number.isSafeInteger(n) && n >= 0) numbers.push(n);
    }
  }
  return { numbers, files };
}
