/**
 * The file journal's segment files on disk: opening a directory's segments (trusting a sealed
 * segment's index where it matches its file, scanning the rest, cutting off a torn tail), checking
 * a segment's header, the `positions` file, and the small file operations they need (create,
 * write whole, read whole, write atomically, sync a directory). Private to the file journal.
 */
import {
  constants,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { open as openFile } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate } from "node:timers";
import {
  decodePositions,
  encodeIndex,
  encodeIndexInSlices,
  findRecord,
  getU32,
  indexName,
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
import { type IndexRead, readIndexFile } from "./_index_reader.ts";
import type { JournalStreams, StreamState } from "./_journal_streams.ts";
import { SegmentStreams } from "./_segment_streams.ts";
import { writeAll } from "./_write_queue.ts";
import { JournalCorruptError, type JournalDamage, type JournalRecord } from "./journal.ts";
import { syncDir, writeAtomically, writeAtomicallyAsync } from "../../files/mod.ts";

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

/** Where segments are opened or made: whether durably, and the journal's numbering of streams. */
export interface SegmentFileOptions {
  /** fsync what is made (the file, its directory entry). */
  durable: boolean;
  streams: JournalStreams;
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
  /** The damaged ranges found between intact records (kept on disk, skipped by reads). */
  damaged: JournalDamage[];
}

/**
 * Opens the segments of the journal in `dir`: reads the sealed segments' indexes, scans the
 * active segment (and any whose index is missing or stale). Only the end of the last segment can
 * be a torn tail, and only that is cut off; damage followed by intact records (in the same segment
 * or a later one) is reported and skipped, never cut, so no intact record is deleted. Creates the
 * first segment of an empty directory (fsynced when `durable`). The streams met are numbered in
 * `streams`.
 */
export function openSegments(dir: string, options: SegmentFileOptions): OpenedSegments {
  const { streams } = options;
  const reports: TruncateInfo[] = [];
  const damaged: JournalDamage[] = [];
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
      const index = readIndex(dir, id, streams, statSync(path).size);
      if (index) {
        segments.push({ id, path, sealed: true, ...index });
        continue;
      }
    }
    const scanned = scanSegment(path, streams);
    damaged.push(...scanned.damaged);
    if (scanned.torn && last) {
      reports.push(scanned.torn);
      removeQuietly(join(dir, indexName(id)));
      segments.push({ id, path, sealed: false, ...scanned.index });
      break;
    }
    if (scanned.torn) {
      // Intact records follow in later segments: the bad end of this one is damage, not a torn
      // tail. It stays on disk (its index, which would not match the file, is not written).
      damaged.push(scanned.torn);
      if (scanned.index.bytes >= SEGMENT_HEADER_BYTES) {
        removeQuietly(join(dir, indexName(id)));
        segments.push({ id, path, sealed: true, ...scanned.index });
      }
      continue;
    }
    if (last) {
      // An index of the last segment is stale: a crash came between sealing it and the next.
      removeQuietly(join(dir, indexName(id)));
      segments.push({ id, path, sealed: false, ...scanned.index });
    } else {
      if (scanned.damaged.length === 0) {
        writeAtomically(join(dir, indexName(id)), encodeIndex(scanned.index));
      }
      segments.push({ id, path, sealed: true, ...scanned.index });
    }
  }
  const fd = openActive(dir, segments, options);
  return { segments, positions, fd, reports, damaged };
}

/**
 * Opens the last segment for appending, cut back to its last intact record (a new first segment
 * for an empty directory); returns its file descriptor.
 */
function openActive(dir: string, segments: Segment[], options: SegmentFileOptions): number {
  if (segments.length === 0) {
    const first = createSegment(dir, { id: 1, ...options });
    segments.push(first.segment);
    return first.fd;
  }
  const active = segments[segments.length - 1]!;
  const fd = openSync(active.path, constants.O_RDWR);
  const size = statSync(active.path).size;
  if (size !== active.bytes || active.bytes < SEGMENT_HEADER_BYTES) {
    ftruncateSync(fd, active.bytes);
    if (active.bytes < SEGMENT_HEADER_BYTES) {
      writeAll(fd, segmentHeader(), 0);
      active.bytes = SEGMENT_HEADER_BYTES;
    }
    fsyncSync(fd);
  }
  return fd;
}

/** Options of `readSegment`. */
export interface ReadSegmentOptions {
  chunkBytes: number;
  /** The journal's streams, which each record's is found among by its name's bytes. */
  streams: JournalStreams;
  /** Told of each damaged range met (the same range again on each read of it). */
  onDamage?(damage: JournalDamage): void;
  /**
   * Which records are handed out (all when not given); the others are checked as every record
   * is, and passed over without being made.
   */
  keep?: ((stream: StreamState, pos: number) => boolean) | undefined;
}

/**
 * The records of `seg` up to byte `end`, a batch per chunk read, each CRC-checked. The segment's
 * known holes are passed over; bytes that are not an intact record are reported to `onDamage` and
 * reading goes on at the next intact record (none: the segment's records end there).
 *
 * It is the loop every recovery and read runs over every byte of the journal: a `SegmentCursor`
 * holds its state, `fill` brings in the next chunk and `parse` takes the records buffered.
 */
export async function* readSegment(
  seg: Segment,
  end: number,
  options: ReadSegmentOptions,
): AsyncIterable<JournalRecord[]> {
  const file = await openFile(seg.path, "r");
  try {
    if (end > SEGMENT_HEADER_BYTES) {
      const header = new Uint8Array(SEGMENT_HEADER_BYTES);
      await readFully(file, header, 0, SEGMENT_HEADER_BYTES, 0, seg.path);
      checkHeader(header, seg.path);
    }
    const cursor = new SegmentCursor(file, seg, end, options);
    while (await cursor.fill()) {
      const { batch, done } = await cursor.parse();
      if (batch.length) yield batch;
      if (done) return;
    }
  } finally {
    await file.close();
  }
}

/**
 * Where a read of one segment is: the buffer, the parse offset in it, the buffer's file offset,
 * the bytes the next record needs and the next known hole, shared by every step of the read.
 */
class SegmentCursor {
  #file: Awaited<ReturnType<typeof openFile>>;
  #path: string;
  #holes: ReadonlyArray<readonly [number, number]>;
  #end: number;
  #options: ReadSegmentOptions;
  #buf: Uint8Array = new Uint8Array(0);
  /** The parse offset in `#buf`. */
  #at = 0;
  /** The file offset of `#buf[0]`. */
  #base = SEGMENT_HEADER_BYTES;
  /** The bytes the record at `#at` needs, as far as is known. */
  #need = RECORD_OVERHEAD_BYTES;
  /** The index of the next known hole in `#holes`. */
  #hole = 0;

  constructor(
    file: Awaited<ReturnType<typeof openFile>>,
    seg: Segment,
    end: number,
    options: ReadSegmentOptions,
  ) {
    this.#file = file;
    this.#path = seg.path;
    this.#holes = seg.holes ?? [];
    this.#end = end;
    this.#options = options;
  }

  /**
   * Reads the next chunk after what is buffered, keeping the unparsed rest; at the end of the
   * written data, reports a record left unfinished as damage and goes on at the next intact one.
   * False when the segment's records end.
   */
  async fill(): Promise<boolean> {
    const left = this.#buf.length - this.#at;
    const filePos = this.#base + this.#buf.length;
    if (filePos >= this.#end) {
      if (left === 0) return false;
      // A record runs past the written data: damage, unless an intact record follows.
      const next = findRecord(this.#buf, this.#at + 1, this.#buf.length);
      this.#options.onDamage?.({
        segment: this.#path,
        offset: this.#base + this.#at,
        bytes: (next < 0 ? this.#buf.length : next) - this.#at,
        reason:
          `a record of ${this.#need} bytes runs past the end of the written data (${this.#end} ` +
          `bytes)`,
      });
      if (next < 0) return false;
      this.#at = next;
      this.#need = RECORD_OVERHEAD_BYTES;
      return true;
    }
    const size = Math.min(
      this.#end - filePos,
      Math.max(this.#options.chunkBytes, this.#need) - left,
    );
    const next = new Uint8Array(left + size);
    next.set(this.#buf.subarray(this.#at), 0);
    await readFully(this.#file, next, left, size, filePos, this.#path);
    this.#base = filePos - left;
    this.#buf = next;
    this.#at = 0;
    return true;
  }

  /**
   * The intact records buffered from the parse offset on, up to a partial record, a known hole
   * whose end is not buffered, or damage with no intact record after it (`done`: the segment's
   * records end there).
   */
  async parse(): Promise<{ batch: JournalRecord[]; done: boolean }> {
    const batch: JournalRecord[] = [];
    const { streams, keep } = this.#options;
    while (true) {
      if (this.#hole < this.#holes.length) {
        const hole = this.#passHole();
        if (hole === "refill") break;
        if (hole === "passed") continue;
      }
      const buf = this.#buf;
      const at = this.#at;
      const probe = probeRecord(buf, at, buf.length);
      if (probe.kind === "partial") {
        this.#need = probe.need;
        break;
      }
      if (probe.kind === "bad") {
        if (!(await this.#resync(probe.reason))) return { batch, done: true };
        continue;
      }
      const stream = streams.named(buf, at + 10, probe.nameLength);
      this.#at = at + probe.total;
      if (keep !== undefined && !keep(stream, probe.pos)) continue;
      const dataAt = at + RECORD_OVERHEAD_BYTES + probe.nameLength;
      batch.push({
        stream: stream.name,
        pos: probe.pos,
        data: buf.subarray(dataAt, at + probe.total),
      });
    }
    return { batch, done: false };
  }

  /**
   * Passes a known hole at the parse offset: `passed` when its end is buffered, `refill` when it
   * is not (what is buffered is dropped and reading goes on from the hole's end), `none` when the
   * parse offset is not in a hole.
   */
  #passHole(): "none" | "passed" | "refill" {
    const holes = this.#holes;
    const pos = this.#base + this.#at;
    while (this.#hole < holes.length && holes[this.#hole]![1] <= pos) this.#hole++;
    if (this.#hole >= holes.length || holes[this.#hole]![0] > pos) return "none";
    const holeEnd = holes[this.#hole]![1];
    const skipTo = holeEnd - this.#base;
    if (skipTo > this.#buf.length) {
      this.#base = holeEnd;
      this.#buf = new Uint8Array(0);
      this.#at = 0;
      this.#need = RECORD_OVERHEAD_BYTES;
      return "refill";
    }
    this.#at = skipTo;
    return "passed";
  }

  /**
   * Reports the bad bytes at the parse offset as damage and goes on at the next intact record in
   * the rest of the written data; false when there is none.
   */
  async #resync(reason: string): Promise<boolean> {
    const from = this.#base + this.#at;
    const rest = await readRest(this.#file, from, this.#end, this.#path);
    const next = findRecord(rest, 1, rest.length);
    this.#options.onDamage?.({
      segment: this.#path,
      offset: from,
      bytes: next < 0 ? rest.length : next,
      reason,
    });
    if (next < 0) return false;
    this.#base = from;
    this.#buf = rest;
    this.#at = next;
    this.#need = RECORD_OVERHEAD_BYTES;
    return true;
  }
}

/** The bytes of a file from `from` to `end`: a damaged segment's rest, to resynchronise in. */
async function readRest(
  file: Awaited<ReturnType<typeof openFile>>,
  from: number,
  end: number,
  path: string,
): Promise<Uint8Array> {
  const rest = new Uint8Array(end - from);
  await readFully(file, rest, 0, rest.length, from, path);
  return rest;
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
      `Cannot open journal segment ${path}: format version ${version}, this code reads ` +
        `${SEGMENT_VERSION}`,
      { where: path, offset: 4 },
    );
  }
}

/**
 * Reads a whole segment and finds its intact records. Bad bytes followed by an intact record are
 * damage: reported and skipped to that record. Bad bytes with no intact record after them end the
 * segment (`torn`; a torn tail when the segment is the last). An intact record whose position does
 * not rise on its stream's last is damage too, reported and skipped (its bytes become a hole that
 * reads pass over); a position that jumps ahead is a gap, lost records, for recovery to judge.
 */
function scanSegment(
  path: string,
  numbers: JournalStreams,
): { index: SegmentIndex; torn: TruncateInfo | undefined; damaged: JournalDamage[] } {
  const buf = readFileSync(path);
  const streams = new SegmentStreams(numbers);
  const index: SegmentIndex = { bytes: SEGMENT_HEADER_BYTES, records: 0, streams };
  const damaged: JournalDamage[] = [];
  if (buf.length < SEGMENT_HEADER_BYTES) {
    // A segment whose header was never fully written (a crash as it was created).
    index.bytes = 0;
    const torn = buf.length > 0
      ? { segment: path, offset: 0, bytes: buf.length, reason: "incomplete segment header" }
      : undefined;
    return { index, torn, damaged };
  }
  checkHeader(buf, path);
  let at = SEGMENT_HEADER_BYTES;
  let torn: TruncateInfo | undefined;
  while (at < buf.length) {
    const probe = probeRecord(buf, at, buf.length);
    if (probe.kind !== "record") {
      const reason = probe.kind === "bad"
        ? probe.reason
        : `partial record: ${buf.length - at} of ${probe.need} bytes`;
      const next = findRecord(buf, at + 1, buf.length);
      if (next < 0) {
        torn = { segment: path, offset: at, bytes: buf.length - at, reason };
        break;
      }
      damaged.push({ segment: path, offset: at, bytes: next - at, reason });
      (index.holes ??= []).push([at, next]);
      at = next;
      continue;
    }
    const stream = numbers.named(buf, at + 10, probe.nameLength);
    const row = stream.rows === streams ? stream.row : -1;
    if (row >= 0 && probe.pos <= streams.last(row)) {
      damaged.push({
        segment: path,
        offset: at,
        bytes: probe.total,
        reason: `record of stream "${stream.name}" has position ${probe.pos} after ${
          streams.last(row)
        }`,
      });
      (index.holes ??= []).push([at, at + probe.total]);
      at += probe.total;
      continue;
    }
    if (row >= 0) streams.extend(row, probe.pos);
    else {
      stream.rows = streams;
      stream.row = streams.add(stream.id, probe.pos);
    }
    index.records++;
    at += probe.total;
  }
  index.bytes = at;
  streams.trim();
  return { index, torn, damaged };
}

function readIndex(
  dir: string,
  id: number,
  streams: JournalStreams,
  segmentBytes: number,
): IndexRead | undefined {
  try {
    return readIndexFile(readFileSync(join(dir, indexName(id))), streams, segmentBytes);
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

/**
 * Creates the empty segment `id` of `dir` (fsynced, and its name, when `durable`), open as `fd`,
 * its streams numbered in `streams`.
 */
export function createSegment(
  dir: string,
  options: SegmentFileOptions & { id: number },
): { segment: Segment; fd: number } {
  const { id, durable } = options;
  const path = join(dir, segmentName(id));
  const fd = createSegmentFile(path, dir, durable);
  const segment = {
    id,
    path,
    sealed: false,
    bytes: SEGMENT_HEADER_BYTES,
    records: 0,
    streams: new SegmentStreams(options.streams),
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

/**
 * Writes sealed segment `seg`'s index without holding the appending thread for long: encoded in
 * slices between turns of the event loop (`encodeIndexInSlices`), then written and flushed on the
 * runtime's I/O threads (19 MB at 400,000 streams), unless `wanted()` says otherwise by then (the
 * journal stopped as by a crash meanwhile); aside under a name of its own, which a journal opened
 * on the folder after a crash does not use when it writes the same index (`openSegments`).
 */
export async function writeIndexAsync(
  dir: string,
  seg: Segment,
  wanted: () => boolean,
): Promise<void> {
  const bytes = await encodeIndexInSlices(seg, nextTurn);
  if (!wanted()) return;
  const path = join(dir, indexName(seg.id));
  await writeAtomicallyAsync(path, bytes, { tmp: `${path}.sealing` });
}

/** Resolves after the event loop's next turn, once what waits on I/O has had its own. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Removes a file that may be absent. */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // absent already
  }
}
