/**
 * The file journal: every stream's records in one append-only log of segment files on local disk,
 * so that an actor host's inputs survive a restart. Because all streams share one log, appends are
 * ordered globally and what survives a crash is a prefix of the append order: a torn tail (a
 * partial record, a bad CRC) is detected on open, truncated and reported, and every complete
 * record before it is kept. The record layout is documented in `_journal_format.ts`.
 *
 * Appends are synchronous: they encode into an in-memory buffer that is written out in batches
 * (when it fills, on `sync()`, and every `fsyncIntervalMs`); the fsync policy says when writes are
 * forced to disk: `always` (on every `sync()` and every batch), `interval` (every
 * `fsyncIntervalMs` and on `sync()`), or `never` (the operating system decides). Segments roll at
 * `segmentBytesMax`; a sealed segment gets a small index, so open reads the indexes and scans only
 * the active segment.
 *
 * A full buffer is written by the runtime's I/O threads (`fs.write`), one batch at a time in
 * append order, while appends go on into another buffer: copying a batch into the page cache
 * costs ~1 ms per MiB here, which on the appending thread was a sixth of a host's time per input
 * frame. At most `writeBuffersMax` buffers wait for the disk; past that, the waiting batches are
 * written on the appending thread, so a slow disk slows appends instead of growing memory.
 * Everything that promises bytes are on disk waits for their writes: `sync()` and `close()`
 * resolve after them, reads start after them, and a segment is sealed (fsynced, indexed, closed)
 * in the background once its last batch is written. A `LOCK` file keeps a second process from opening the same directory while
 * the first lives (`_dir_lock.ts`).
 */
import {
  closeSync,
  constants,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  write as fsWrite,
  writeSync,
} from "node:fs";
import { type DirLock, lockDir } from "./_dir_lock.ts";
import { open as openFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { setInterval } from "node:timers";
import {
  decodeIndex,
  decodePositions,
  encodeIndex,
  encodePositions,
  encodeRecord,
  getU32,
  indexName,
  NameTable,
  parseSegmentName,
  probeRecord,
  RECORD_BYTES_MAX,
  RECORD_OVERHEAD_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_VERSION,
  segmentHeader,
  type SegmentIndex,
  segmentName,
  STREAM_NAME_BYTES_MAX,
} from "./_journal_format.ts";
import {
  type FsyncPolicy,
  type Journal,
  JournalCorruptError,
  type JournalData,
  journalDataLength,
  type JournalRecord,
  type JournalStats,
} from "./journal.ts";

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

/** Options of `FileJournal.open`. */
export interface FileJournalOptions {
  /** When writes are forced to disk. */
  fsync: FsyncPolicy;
  /** Milliseconds between background writes (and fsyncs under `interval` and `always`): 100. */
  fsyncIntervalMs?: number;
  /** A segment is sealed and a new one started past this many bytes: 64 MiB. */
  segmentBytesMax?: number;
  /** Appends are buffered up to this many bytes before they are written out: 1 MiB. */
  writeBufferBytes?: number;
  /** Full buffers that may wait for the disk before appends write them themselves: 4. */
  writeBuffersMax?: number;
  /** Reads go to the file in chunks of this many bytes: 4 MiB. */
  readChunkBytes?: number;
  /** Called for each torn tail cut off on open (also counted in `stats().truncatedBytes`). */
  onTruncate?(info: TruncateInfo): void;
  /** Called when a background write or fsync fails; the journal then refuses further appends. */
  onError?(error: Error): void;
}

interface StreamState {
  last: number;
  name: Uint8Array;
}

interface Segment extends SegmentIndex {
  id: number;
  path: string;
  sealed: boolean;
}

/** A batch handed to the disk: `n` bytes of `buf` at offset `at` of file `fd`. */
interface Batch {
  fd: number;
  buf: Uint8Array;
  n: number;
  at: number;
  /** The journal's byte count (`#submitted`) once this batch is written. */
  end: number;
  /** A pool buffer (returned to the pool when written), not a one-off for an oversize record. */
  pooled: boolean;
  done: boolean;
}

const encoder = new TextEncoder();

/** An append-only journal of segment files in one directory. */
export class FileJournal implements Journal {
  readonly dir: string;
  readonly policy: FsyncPolicy;
  #segmentBytesMax: number;
  #readChunkBytes: number;
  #onError: ((error: Error) => void) | undefined;
  #streams = new Map<string, StreamState>();
  #segments: Segment[] = [];
  #active: Segment;
  #fd: number;
  /** Bytes of the active segment that are in the file. */
  #fileBytes: number;
  #buffer: Uint8Array;
  #buffered = 0;
  /** Free write buffers, and how many more may be allocated. */
  #pool: Uint8Array[] = [];
  #poolLeft: number;
  #poolMax: number;
  /**
   * Bytes handed to the disk since open, over all segments; how many of them are written (a
   * prefix: batches complete in order), and how many are known durable.
   */
  #submitted = 0;
  #written = 0;
  #durable = 0;
  /** Batches handed to the disk and not yet written, oldest first; the first may be in flight. */
  #batches: Batch[] = [];
  /** The batch an I/O thread is writing. */
  #inflight: Batch | undefined;
  #writeWaiters: { upTo: number; resolve: () => void }[] = [];
  #idleWaiters: (() => void)[] = [];
  #fsyncing: Promise<void> | undefined;
  /** Segments rolled over and not yet sealed (their last batches or fsync pending). */
  #sealing: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #truncatedBytes = 0;
  #names = new NameTable();
  #failed: Error | undefined;
  #closed = false;
  #lock: DirLock;

  private constructor(
    dir: string,
    options: FileJournalOptions,
    segments: Segment[],
    positions: Map<string, number>,
    fd: number,
    truncatedBytes: number,
    lock: DirLock,
  ) {
    this.dir = dir;
    this.#lock = lock;
    this.policy = options.fsync;
    this.#segmentBytesMax = options.segmentBytesMax ?? 64 << 20;
    this.#readChunkBytes = options.readChunkBytes ?? 4 << 20;
    this.#onError = options.onError;
    this.#buffer = new Uint8Array(options.writeBufferBytes ?? 1 << 20);
    this.#poolMax = options.writeBuffersMax ?? 4;
    this.#poolLeft = this.#poolMax;
    this.#segments = segments;
    this.#active = segments[segments.length - 1]!;
    this.#fd = fd;
    this.#fileBytes = this.#active.bytes;
    this.#truncatedBytes = truncatedBytes;
    for (const [stream, last] of positions) {
      this.#streams.set(stream, { last, name: encoder.encode(stream) });
    }
    for (const seg of segments) {
      for (const [stream, e] of seg.streams) {
        const s = this.#streams.get(stream);
        if (!s) this.#streams.set(stream, { last: e.last, name: encoder.encode(stream) });
        else if (e.last > s.last) s.last = e.last;
      }
    }
    const interval = options.fsyncIntervalMs ?? 100;
    this.#timer = setInterval(() => this.#tick(), interval);
    this.#timer.unref();
  }

  /**
   * Opens (creating it when needed) the journal in `dir`: reads the sealed segments' indexes,
   * scans the active segment and cuts off a torn tail.
   */
  static open(dir: string, options: FileJournalOptions): Promise<FileJournal> {
    checkOptions(options);
    mkdirSync(dir, { recursive: true });
    const lock = lockDir(dir);
    try {
      return Promise.resolve(FileJournal.#openLocked(dir, options, lock));
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  static #openLocked(dir: string, options: FileJournalOptions, lock: DirLock): FileJournal {
    const reports: TruncateInfo[] = [];
    const ids = readdirSync(dir).map(parseSegmentName).filter((id): id is number =>
      id !== undefined
    ).sort((a, b) => a - b);
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
      const id = 1;
      const path = join(dir, segmentName(id));
      fd = createSegmentFile(path, dir, options.fsync !== "never");
      segments.push({
        id,
        path,
        sealed: false,
        bytes: SEGMENT_HEADER_BYTES,
        records: 0,
        streams: new Map(),
      });
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
    const truncatedBytes = reports.reduce((sum, r) => sum + r.bytes, 0);
    const journal = new FileJournal(dir, options, segments, positions, fd, truncatedBytes, lock);
    for (const r of reports) options.onTruncate?.(r);
    return journal;
  }

  /** Appends `data` to `stream` (into the write buffer) and returns its position. */
  append(stream: string, data: JournalData): number {
    this.#check();
    const state = this.#streams.get(stream) ?? newStream(stream);
    const total = RECORD_OVERHEAD_BYTES + state.name.length + journalDataLength(data);
    if (total - 8 > RECORD_BYTES_MAX) {
      throw new RangeError(
        `Cannot append to journal stream "${stream}": record of ${total} bytes is over the limit of ${RECORD_BYTES_MAX} bytes`,
      );
    }
    const active = this.#active;
    if (active.records > 0 && this.#fileBytes + this.#buffered + total > this.#segmentBytesMax) {
      this.#roll();
    }
    if (this.#buffered + total > this.#buffer.length) this.#write();
    const pos = state.last + 1;
    if (total > this.#buffer.length) {
      const out = new Uint8Array(total);
      encodeRecord(out, 0, state.name, pos, data);
      this.#submit(out, total, false);
    } else {
      this.#buffered += encodeRecord(this.#buffer, this.#buffered, state.name, pos, data);
    }
    if (state.last === 0 && !this.#streams.has(stream)) this.#streams.set(stream, state);
    state.last = pos;
    const current = this.#active;
    current.records++;
    const extent = current.streams.get(stream);
    if (extent) {
      extent.last = pos;
      extent.count++;
    } else current.streams.set(stream, { first: pos, last: pos, count: 1 });
    if (this.#buffered >= this.#buffer.length) {
      this.#write();
      if (this.policy === "always") this.#fsyncInBackground();
    }
    return pos;
  }

  /** The last position appended to `stream`, 0 when it has none. */
  lastPosition(stream: string): number {
    return this.#streams.get(stream)?.last ?? 0;
  }

  /** The streams with a position, including those whose records compaction deleted. */
  streams(): string[] {
    return [...this.#streams.keys()];
  }

  /** The records of `stream` with pos > `after`, in order, as of the call. */
  async *read(stream: string, after = 0): AsyncIterable<JournalRecord> {
    for (const [seg, end] of await this.#readPlan()) {
      const extent = seg.streams.get(stream);
      if (!extent || extent.last <= after) continue;
      for await (const batch of this.#scan(seg, end)) {
        for (const r of batch) {
          if (r.pos > after && r.stream === stream) yield r;
        }
      }
    }
  }

  /** Every record with pos > after[stream], in append order, as of the call. */
  readAll(after: ReadonlyMap<string, number> = new Map()): AsyncIterable<JournalRecord> {
    return flatten(this.readAllBatches(after));
  }

  /**
   * `readAll` in batches (one per read chunk): the same records in the same order, with one
   * await per batch instead of one per record, for recovery over millions of small records.
   * Each record's `data` is a view into a chunk shared by its batch; copy it to keep it long.
   */
  async *readAllBatches(
    after: ReadonlyMap<string, number> = new Map(),
  ): AsyncIterable<JournalRecord[]> {
    for (const [seg, end] of await this.#readPlan()) {
      let needed = false;
      for (const [stream, e] of seg.streams) {
        if (e.last > (after.get(stream) ?? 0)) {
          needed = true;
          break;
        }
      }
      if (!needed) continue;
      for await (const batch of this.#scan(seg, end)) {
        const kept: JournalRecord[] = [];
        for (const r of batch) if (r.pos > (after.get(r.stream) ?? 0)) kept.push(r);
        if (kept.length) yield kept;
      }
    }
  }

  /** Writes out the buffer and, unless the policy is `never`, fsyncs before resolving. */
  async sync(): Promise<void> {
    this.#check();
    this.#write();
    const target = this.#submitted;
    if (this.policy !== "never") await this.#fsyncUpTo(target);
    else await this.#writtenUpTo(target);
  }

  /** Deletes sealed segments all of whose records have pos <= upTo[stream]. */
  async compact(upTo: ReadonlyMap<string, number>): Promise<void> {
    this.#check();
    // A segment is deleted only once it is indexed and closed.
    while (this.#sealing) await this.#sealing;
    const doomed = this.#segments.filter((seg) => {
      if (!seg.sealed) return false;
      for (const [stream, e] of seg.streams) if (e.last > (upTo.get(stream) ?? 0)) return false;
      return true;
    });
    if (doomed.length === 0) return;
    // Keep the last position of streams that may lose all their records, so positions continue.
    const positions = readPositions(this.dir);
    for (const seg of doomed) {
      for (const [stream, e] of seg.streams) {
        if (e.last > (positions.get(stream) ?? 0)) positions.set(stream, e.last);
      }
    }
    writeAtomically(join(this.dir, "positions"), encodePositions(positions));
    syncDir(this.dir);
    const gone = new Set(doomed);
    this.#segments = this.#segments.filter((s) => !gone.has(s));
    // Freeing a sealed segment's blocks takes milliseconds: off the appending thread.
    await Promise.all(doomed.map(async (seg) => {
      await unlink(seg.path);
      await unlink(join(this.dir, indexName(seg.id))).catch(() => {});
    }));
    syncDir(this.dir);
  }

  /** Bytes and records held (on disk and buffered), and bytes cut off as torn tails on open. */
  stats(): JournalStats {
    let bytes = this.#fileBytes + this.#buffered;
    let records = 0;
    for (const seg of this.#segments) {
      if (seg !== this.#active) bytes += seg.bytes;
      records += seg.records;
    }
    return { bytes, records, truncatedBytes: this.#truncatedBytes };
  }

  /** The segments (path, sealed, bytes, records), oldest first: for metrics and tests. */
  segments(): { path: string; sealed: boolean; bytes: number; records: number }[] {
    return this.#segments.map((s) => ({
      path: s.path,
      sealed: s.sealed,
      bytes: s !== this.#active ? s.bytes : this.#fileBytes + this.#buffered,
      records: s.records,
    }));
  }

  /** Writes out and (unless `never`) fsyncs what is buffered, then closes the files. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      if (!this.#failed) {
        this.#write();
        const target = this.#submitted;
        if (this.policy !== "never") await this.#fsyncUpTo(target);
        else await this.#writtenUpTo(target);
        await this.#sealing;
      }
    } finally {
      this.#stop();
    }
    if (this.#failed) throw this.#failed;
  }

  /**
   * Stops the journal as a crash would: appends still in the buffer are lost, nothing more is
   * written or fsynced. For tests and the simulator ("tails lost since the last fsync").
   */
  simulateCrash(): void {
    this.#buffered = 0;
    // Batches still waiting for the disk die with the process; the one in flight was the
    // operating system's already.
    this.#batches = this.#inflight ? [this.#inflight] : [];
    this.#lock.abandon();
    this.#stop();
  }

  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lock.release();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const fd = this.#fd;
    // The file is closed once nothing in flight uses it (a sealing segment closes its own).
    this.#wakeWriters();
    Promise.allSettled([this.#fsyncing, this.#writeIdle()]).then(() => closeSync(fd))
      .catch(() => {});
  }

  #check(): void {
    if (this.#closed) throw new Error(`Cannot use the journal in ${this.dir}: it is closed`);
    if (this.#failed) {
      throw new Error(
        `Cannot use the journal in ${this.dir}: an earlier write failed: ${this.#failed.message}`,
        { cause: this.#failed },
      );
    }
  }

  /** Each segment to read and where its records end, with the buffer written out first. */
  async #readPlan(): Promise<[Segment, number][]> {
    this.#check();
    this.#write();
    const plan = this.#segments.map((s): [Segment, number] => [
      s,
      s !== this.#active ? s.bytes : this.#fileBytes,
    ]);
    await this.#writtenUpTo(this.#submitted);
    return plan;
  }

  /** The records of `seg` up to byte `end`, a batch per chunk read, each CRC-checked. */
  async *#scan(seg: Segment, end: number): AsyncIterable<JournalRecord[]> {
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
        const size = Math.min(end - filePos, Math.max(this.#readChunkBytes, need) - left);
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
          const stream = this.#names.get(buf, at + 10, probe.nameLength);
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

  /**
   * Starts the next segment, and seals the active one in the background: once its batches are
   * written, it is fsynced (unless `never`), indexed and closed.
   */
  #roll(): void {
    this.#write();
    const old = this.#active;
    old.bytes = this.#fileBytes;
    const oldFd = this.#fd;
    const end = this.#submitted;
    const previous = this.#sealing;
    old.sealed = true;
    const sealing = (async () => {
      await previous;
      await this.#writtenUpTo(end);
      if (this.#failed || this.#closed) return; // a crash: the segment stays as it is
      if (this.policy !== "never") {
        await new Promise<void>((resolve, reject) => {
          fsync(oldFd, (err) => err ? reject(err) : resolve());
        });
        if (end > this.#durable) this.#durable = end;
      }
      writeAtomically(join(this.dir, indexName(old.id)), encodeIndex(old));
    })().catch((err: Error) => {
      this.#fail(err, "seal", old.path);
    }).finally(() => {
      // A write or fsync still in flight (after a crash) may use the file.
      Promise.allSettled([this.#fsyncing, this.#writeIdle()]).then(() => closeSync(oldFd))
        .catch(() => {});
      if (this.#sealing === sealing) this.#sealing = undefined;
    });
    this.#sealing = sealing;
    const id = old.id + 1;
    const path = join(this.dir, segmentName(id));
    this.#fd = createSegmentFile(path, this.dir, this.policy !== "never");
    this.#fileBytes = SEGMENT_HEADER_BYTES;
    this.#active = {
      id,
      path,
      sealed: false,
      bytes: SEGMENT_HEADER_BYTES,
      records: 0,
      streams: new Map(),
    };
    this.#segments.push(this.#active);
  }

  /** Hands the buffer to the disk and goes on in a free one. */
  #write(): void {
    if (this.#buffered === 0) return;
    const n = this.#buffered;
    this.#buffered = 0;
    const full = this.#buffer;
    this.#buffer = this.#pool.pop() ?? this.#newBuffer(full.length);
    this.#submit(full, n, true);
  }

  /** A fresh write buffer while the pool may grow; else the waiting batches are written here. */
  #newBuffer(size: number): Uint8Array {
    if (this.#poolLeft > 0) {
      this.#poolLeft--;
      return new Uint8Array(size);
    }
    // The disk is behind: write what waits (all but the batch in flight) on this thread.
    const waiting = this.#batches.filter((b) => !b.done && b !== this.#inflight);
    for (const batch of waiting) {
      try {
        writeAll(batch.fd, batch.buf.subarray(0, batch.n), batch.at);
      } catch (err) {
        this.#fail(err as Error, "write");
        throw this.#failed;
      }
      this.#markWritten(batch);
    }
    return this.#pool.pop() ?? new Uint8Array(size);
  }

  /** Queues `n` bytes of `buf` at the end of the active segment. */
  #submit(buf: Uint8Array, n: number, pooled: boolean): void {
    this.#submitted += n;
    this.#batches.push({
      fd: this.#fd,
      buf,
      n,
      at: this.#fileBytes,
      end: this.#submitted,
      pooled,
      done: false,
    });
    this.#fileBytes += n;
    if (!this.#inflight) this.#startWrite();
  }

  /** Starts writing the oldest waiting batch on an I/O thread. */
  #startWrite(): void {
    const batch = this.#batches.find((b) => !b.done);
    if (!batch || this.#failed) return;
    this.#inflight = batch;
    const onWritten = (err: Error | null, bytes: number) => {
      this.#inflight = undefined;
      if (err) {
        this.#fail(err, "write");
        this.#wakeWriters();
        this.#wakeIdle();
        return;
      }
      if (bytes < batch.n - done) {
        // A short write: the rest goes on from where it stopped.
        done += bytes;
        this.#inflight = batch;
        fsWrite(batch.fd, batch.buf, done, batch.n - done, batch.at + done, onWritten);
        return;
      }
      if (!batch.done) this.#markWritten(batch);
      this.#startWrite();
      if (!this.#inflight) this.#wakeIdle();
    };
    let done = 0;
    fsWrite(batch.fd, batch.buf, 0, batch.n, batch.at, onWritten);
  }

  /** Marks a batch written, advances the written prefix and wakes who waits for it. */
  #markWritten(batch: Batch): void {
    batch.done = true;
    // Its bytes are in the file: the buffer may take appends again.
    if (batch.pooled && this.#pool.length < this.#poolMax) this.#pool.push(batch.buf);
    while (this.#batches.length > 0 && this.#batches[0]!.done) {
      this.#written = this.#batches.shift()!.end;
    }
    this.#wakeWriters();
  }

  #wakeWriters(): void {
    if (this.#writeWaiters.length === 0) return;
    const waiting = this.#writeWaiters;
    this.#writeWaiters = [];
    for (const w of waiting) {
      if (this.#written >= w.upTo || this.#failed || this.#closed) w.resolve();
      else this.#writeWaiters.push(w);
    }
  }

  /**
   * Resolves once the first `upTo` bytes handed to the disk are written, or when they never will
   * be: a write failed, or the journal stopped (a crash drops the batches still waiting).
   */
  #writtenUpTo(upTo: number): Promise<void> {
    if (this.#written >= upTo || this.#failed || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#writeWaiters.push({ upTo, resolve }));
  }

  /** Resolves once no write is in flight: before a file is closed. */
  #writeIdle(): Promise<void> {
    if (!this.#inflight) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdle(): void {
    const waiting = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves once everything handed to the disk before the call is fsynced; fsyncs are coalesced. */
  async #fsyncUpTo(target: number): Promise<void> {
    while (this.#durable < target) {
      if (this.#failed) throw this.#failed;
      if (this.#closed) {
        throw new Error(
          `Cannot fsync the journal in ${this.dir}: it stopped before the bytes were written`,
        );
      }
      if (this.#written < target) {
        await this.#writtenUpTo(target);
        continue;
      }
      if (this.#fsyncing) {
        await this.#fsyncing;
        continue;
      }
      // A segment still sealing holds bytes an fsync of the active file does not cover.
      if (this.#sealing) {
        await this.#sealing;
        continue;
      }
      const upTo = this.#written;
      const fd = this.#fd;
      this.#fsyncing = new Promise<void>((resolve, reject) => {
        fsync(fd, (err) => err ? reject(err) : resolve());
      }).then(
        () => {
          if (upTo > this.#durable) this.#durable = upTo;
        },
        (err: Error) => {
          this.#fail(err, "fsync");
          throw this.#failed;
        },
      ).finally(() => {
        this.#fsyncing = undefined;
      });
      await this.#fsyncing;
    }
  }

  #fsyncInBackground(): void {
    this.#fsyncUpTo(this.#submitted).catch(() => {});
  }

  #tick(): void {
    if (this.#closed || this.#failed) return;
    try {
      this.#write();
    } catch {
      return;
    }
    if (this.policy !== "never") this.#fsyncInBackground();
  }

  #fail(err: Error, what: string, path = this.#active.path): void {
    if (this.#failed) return;
    this.#failed = new Error(
      `Cannot ${what} journal segment ${path}: ${err.message}`,
      { cause: err },
    );
    this.#onError?.(this.#failed);
  }
}

/**
 * The records of batches one by one. A hand-written iterator: an async generator's `yield*` costs
 * several promises per record, which is most of the time of a recovery over small records.
 */
function flatten(batches: AsyncIterable<JournalRecord[]>): AsyncIterable<JournalRecord> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<JournalRecord> {
      const source = batches[Symbol.asyncIterator]();
      let batch: JournalRecord[] = [];
      let i = 0;
      const pull = async (): Promise<IteratorResult<JournalRecord>> => {
        while (i >= batch.length) {
          const next = await source.next();
          if (next.done) return { done: true, value: undefined };
          batch = next.value;
          i = 0;
        }
        return { done: false, value: batch[i++]! };
      };
      return {
        next: () =>
          i < batch.length ? Promise.resolve({ done: false, value: batch[i++]! }) : pull(),
        return: async () => {
          batch = [];
          await source.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

function checkOptions(options: FileJournalOptions): void {
  if (!["always", "interval", "never"].includes(options.fsync)) {
    throw new RangeError(
      `FileJournal option "fsync" must be "always", "interval" or "never", got ${
        JSON.stringify(options.fsync)
      }`,
    );
  }
  const positive: [string, number | undefined][] = [
    ["fsyncIntervalMs", options.fsyncIntervalMs],
    ["segmentBytesMax", options.segmentBytesMax],
    ["writeBufferBytes", options.writeBufferBytes],
    ["writeBuffersMax", options.writeBuffersMax],
    ["readChunkBytes", options.readChunkBytes],
  ];
  for (const [field, value] of positive) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
      throw new RangeError(
        `FileJournal option "${field}" must be a positive integer, got ${value}`,
      );
    }
  }
}

function newStream(stream: string): StreamState {
  const name = encoder.encode(stream);
  if (name.length === 0 || name.length > STREAM_NAME_BYTES_MAX) {
    throw new RangeError(
      `Cannot append to journal stream ${
        JSON.stringify(stream)
      }: a stream name must be 1 to ${STREAM_NAME_BYTES_MAX} bytes, got ${name.length}`,
    );
  }
  return { last: 0, name };
}

function checkHeader(header: Uint8Array, path: string): void {
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

function readPositions(dir: string): Map<string, number> {
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

function createSegmentFile(path: string, dir: string, durable: boolean): number {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL);
  writeAll(fd, segmentHeader(), 0);
  if (durable) {
    fsyncSync(fd);
    syncDir(dir);
  }
  return fd;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

async function readFully(
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
function writeAtomically(path: string, bytes: Uint8Array): void {
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

function syncDir(dir: string): void {
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

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // absent already
  }
}
