/**
 * The file journal's segment files on disk: opening a directory's segments (trusting a sealed
 * segment's index where it matches its file, scanning the rest, cutting off a torn tail), checking
 * a segment's header, the `positions` file, and the small file operations they need (create,
 * write whole, read whole, write atomically, sync a directory). Private to the file journal.
 */
import {
  closeSync,
  constants,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { open as openFile } from "node:fs/promises";
import { join } from "node:path";
import {
  decodeIndex,
  decodePositions,
  encodeIndex,
  getU32,
  indexName,
  NameTable,
  parseSegmentName,
  probeRecord,
  RECORD_OVERHEAD_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_VERSION,
  segmentHeader,
  type SegmentIndex,
  segmentName,
} from "./_journal_format.ts";
import { writeAll } from "./_write_queue.ts";
import { JournalCorruptError, type JournalRecord } from "./journal.ts";

/** A torn tail the journal cut off when it opened. */
export interface TruncateInfo {
  /** The segment file's path. */
  segment: string;
  /** Where the cut was made: the first byte that was not a complete, intact record. */
  offset: number;
  /** How many bytes were dropped (a whole later segment counts in full). */
  bytes: number;
  /** Why the bytes there were not a record. */
  reason: string;
}

/** A segment of the journal: its index, file and whether it is sealed. */
export interface Segment extends SegmentIndex {
  id: number;
  path: string;
  sealed: boolean;
}

/** A journal directory as opened: its segments (the last one active, open as `fd`). */
export interface OpenedSegments {
  segments: Segment[];
  /** The last positions of streams whose records compaction deleted. */
  positions: Map<string, number>;
  /** The active segment's file, open for reading and writing. */
  fd: number;
  /** The torn tails cut off. */
  reports: TruncateInfo[];
}

/**
 * Opens the segments of the journal in `dir`: reads the sealed segments' indexes, scans the
 * active segment (and any whose index is missing or stale) and cuts off a torn tail, with every
 * later segment. Creates the first segment of an empty directory (fsynced when `durable`).
 */
export function openSegments(dir: string, durable: boolean): OpenedSegments {
  const reports: TruncateInfo[] = [];
  const ids = readdirSync(dir).map(parseSegmentName).filter((id): id is number => id !== undefined)
    .sort((a, b) => a - b);
  const positions = readPositions(dir);
  const segments: Segment[] = [];
  // Every segment but the last was sealed: trust its index when it matches the file.
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const path = join(dir, segmentName(id));
    const last = i === ids.length - 1;
    if (!last) {
      const index = readIndex(dir, id);
      if (index && index.bytes === statSync(path).size) {
        segments.push({ id, path, sealed: true, ...index });
        continue;
      }
    }
    const scanned = scanSegment(path);
    if (scanned.torn) {
      reports.push(scanned.torn);
      // Later segments follow the damage, so they are not part of the surviving prefix.
      for (const laterId of ids.slice(i + 1)) {
        const laterPath = join(dir, segmentName(laterId));
        reports.push({
          segment: laterPath,
          offset: 0,
          bytes: statSync(laterPath).size,
          reason: `follows a torn segment ${path}`,
        });
        unlinkSync(laterPath);
        removeQuietly(join(dir, indexName(laterId)));
      }
      removeQuietly(join(dir, indexName(id)));
      segments.push({ id, path, sealed: false, ...scanned.index });
      break;
    }
    if (last) {
      // An index of the last segment is stale: a crash came between sealing it and the next.
      removeQuietly(join(dir, indexName(id)));
      segments.push({ id, path, sealed: false, ...scanned.index });
    } else {
      writeAtomically(join(dir, indexName(id)), encodeIndex(scanned.index));
      segments.push({ id, path, sealed: true, ...scanned.index });
    }
  }
  let fd: number;
  if (segments.length === 0) {
    const first = createSegment(dir, 1, durable);
    fd = first.fd;
    segments.push(first.segment);
  } else {
    const active = segments[segments.length - 1]!;
    fd = openSync(active.path, constants.O_RDWR);
    const size = statSync(active.path).size;
    if (size !== active.bytes || active.bytes < SEGMENT_HEADER_BYTES) {
      ftruncateSync(fd, active.bytes);
      if (active.bytes < SEGMENT_HEADER_BYTES) {
        writeAll(fd, segmentHeader(), 0);
        active.bytes = SEGMENT_HEADER_BYTES;
      }
      fsyncSync(fd);
    }
  }
  return { segments, positions, fd, reports };
}

/** The records of `seg` up to byte `end`, a batch per chunk read, each CRC-checked. */
export async function* readSegment(
  seg: Segment,
  end: number,
  options: { chunkBytes: number; names: NameTable },
): AsyncIterable<JournalRecord[]> {
  const file = await openFile(seg.path, "r");
  try {
    let buf = new Uint8Array(0);
    let at = 0; // parse offset in buf
    let filePos = SEGMENT_HEADER_BYTES; // file offset of buf[buf.length]
    if (end > SEGMENT_HEADER_BYTES) {
      const header = new Uint8Array(SEGMENT_HEADER_BYTES);
      await readFully(file, header, 0, SEGMENT_HEADER_BYTES, 0, seg.path);
      checkHeader(header, seg.path);
    }
    let need = RECORD_OVERHEAD_BYTES;
    while (true) {
      const left = buf.length - at;
      if (filePos >= end) {
        if (left === 0) return;
        throw new JournalCorruptError(
          `Cannot read journal segment ${seg.path}: a record at offset ${
            filePos - left
          } runs past the end of the written data (${end} bytes)`,
          { where: seg.path, offset: filePos - left },
        );
      }
      const size = Math.min(end - filePos, Math.max(options.chunkBytes, need) - left);
      const next = new Uint8Array(left + size);
      next.set(buf.subarray(at), 0);
      await readFully(file, next, left, size, filePos, seg.path);
      const base = filePos - left; // file offset of next[0]
      filePos += size;
      buf = next;
      at = 0;
      const batch: JournalRecord[] = [];
      while (true) {
        const probe = probeRecord(buf, at, buf.length);
        if (probe.kind === "partial") {
          need = probe.need;
          break;
        }
        if (probe.kind === "bad") {
          throw new JournalCorruptError(
            `Cannot read journal segment ${seg.path}: record at offset ${
              base + at
            } is damaged: ${probe.reason}`,
            { where: seg.path, offset: base + at },
          );
        }
        const stream = options.names.get(buf, at + 10, probe.nameLength);
        const dataAt = at + RECORD_OVERHEAD_BYTES + probe.nameLength;
        batch.push({ stream, pos: probe.pos, data: buf.subarray(dataAt, at + probe.total) });
        at += probe.total;
      }
      if (batch.length) yield batch;
    }
  } finally {
    await file.close();
  }
}

/** Checks a segment file's magic and format version. */
export function checkHeader(header: Uint8Array, path: string): void {
  if (getU32(header, 0) !== SEGMENT_MAGIC) {
    throw new JournalCorruptError(
      `Cannot open journal segment ${path}: it does not start with the segment magic TRPJ`,
      { where: path, offset: 0 },
    );
  }
  const version = getU32(header, 4);
  if (version !== SEGMENT_VERSION) {
    throw new JournalCorruptError(
      `Cannot open journal segment ${path}: format version ${version}, this code reads ${SEGMENT_VERSION}`,
      { where: path, offset: 4 },
    );
  }
}

/**
 * Reads a whole segment and finds where its intact records end. Positions must rise by one per
 * stream within the segment; an intact record that breaks this is not a torn write but damage.
 */
function scanSegment(path: string): { index: SegmentIndex; torn: TruncateInfo | undefined } {
  const buf = readFileSync(path);
  const streams = new Map<string, { first: number; last: number; count: number }>();
  const index: SegmentIndex = { bytes: SEGMENT_HEADER_BYTES, records: 0, streams };
  if (buf.length < SEGMENT_HEADER_BYTES) {
    // A segment whose header was never fully written (a crash as it was created).
    index.bytes = 0;
    const torn = buf.length > 0
      ? { segment: path, offset: 0, bytes: buf.length, reason: "incomplete segment header" }
      : undefined;
    return { index, torn };
  }
  checkHeader(buf, path);
  const names = new NameTable();
  let at = SEGMENT_HEADER_BYTES;
  let torn: TruncateInfo | undefined;
  while (at < buf.length) {
    const probe = probeRecord(buf, at, buf.length);
    if (probe.kind !== "record") {
      const reason = probe.kind === "bad"
        ? probe.reason
        : `partial record: ${buf.length - at} of ${probe.need} bytes`;
      torn = { segment: path, offset: at, bytes: buf.length - at, reason };
      break;
    }
    const stream = names.get(buf, at + 10, probe.nameLength);
    const e = streams.get(stream);
    if (e) {
      if (probe.pos !== e.last + 1) {
        throw new JournalCorruptError(
          `Cannot open journal segment ${path}: record at offset ${at} of stream "${stream}" has position ${probe.pos} after ${e.last}`,
          { where: path, offset: at },
        );
      }
      e.last = probe.pos;
      e.count++;
    } else streams.set(stream, { first: probe.pos, last: probe.pos, count: 1 });
    index.records++;
    at += probe.total;
  }
  index.bytes = at;
  return { index, torn };
}

function readIndex(dir: string, id: number): SegmentIndex | undefined {
  try {
    return decodeIndex(readFileSync(join(dir, indexName(id))));
  } catch {
    return undefined;
  }
}

/** The `positions` file of `dir`: the last positions of streams compaction emptied. */
export function readPositions(dir: string): Map<string, number> {
  const path = join(dir, "positions");
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return new Map();
  }
  const positions = decodePositions(bytes);
  if (!positions) {
    throw new JournalCorruptError(
      `Cannot open the journal in ${dir}: the positions file ${path} is damaged`,
      { where: path },
    );
  }
  return positions;
}

/** Creates the empty segment `id` of `dir` (fsynced, and its name, when `durable`), open as `fd`. */
export function createSegment(
  dir: string,
  id: number,
  durable: boolean,
): { segment: Segment; fd: number } {
  const path = join(dir, segmentName(id));
  const fd = createSegmentFile(path, dir, durable);
  const segment = {
    id,
    path,
    sealed: false,
    bytes: SEGMENT_HEADER_BYTES,
    records: 0,
    streams: new Map(),
  };
  return { segment, fd };
}

function createSegmentFile(path: string, dir: string, durable: boolean): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL);
  writeAll(fd, segmentHeader(), 0);
  if (durable) {
    fsyncSync(fd);
    syncDir(dir);
  }
  return fd;
}

/** Reads exactly `length` bytes at `position`; a file that ends first is corrupt. */
export async function readFully(
  file: Awaited<ReturnType<typeof openFile>>,
  into: Uint8Array,
  offset: number,
  length: number,
  position: number,
  path: string,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(into, offset + done, length - done, position + done);
    if (bytesRead === 0) {
      throw new JournalCorruptError(
        `Cannot read journal segment ${path}: it ends at ${position + done} bytes, before the ${
          position + length
        } bytes the journal wrote`,
        { where: path, offset: position + done },
      );
    }
    done += bytesRead;
  }
}

/** Writes `bytes` to `path` through a temporary file, fsync and rename. */
export function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  try {
    writeAll(fd, bytes, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Makes a created, renamed or deleted name in `dir` durable. */
export function syncDir(dir: string): void {
  // Makes a created, renamed or deleted name durable; not every platform can open a directory.
  try {
    const fd = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

/** Removes a file that may be absent. */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // absent already
  }
}
