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
 * in the background once its last batch is written (the queue of writes is `_write_queue.ts`).
 * Opening a directory's segments and reading one are `_segment_files.ts`. A `LOCK` file keeps a
 * second process from opening the same directory while the first lives (`_dir_lock.ts`).
 */
import { closeSync, fsync, mkdirSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { setInterval } from "node:timers";
import { type DirLock, lockDir } from "./dir_lock.ts";
import {
  encodeRecord,
  indexName,
  RECORD_BYTES_MAX,
  RECORD_OVERHEAD_BYTES,
  SEGMENT_HEADER_BYTES,
} from "./_journal_format.ts";
import { JournalStreams, newStream, type StreamState } from "./_journal_streams.ts";
import {
  createSegment,
  type OpenedSegments,
  openSegments,
  readSegment,
  type Segment,
  writeIndexAsync,
} from "./_segment_files.ts";
import { WriteQueue } from "./_write_queue.ts";
import { keepLastPositions } from "./_kept_positions.ts";
import { writeOutAtExit } from "./_exit_write_out.ts";
import { flattenBatches } from "./_flatten_batches.ts";
import { checkFileJournalOptions, type FileJournalOptions } from "./file_journal_options.ts";
import {
  type FsyncPolicy,
  type Journal,
  type JournalDamage,
  type JournalData,
  journalDataLength,
  type JournalRecord,
  type JournalStats,
  type StreamLasts,
  type StreamMemo,
} from "./journal.ts";
import { syncDir } from "../../files/mod.ts";
import { keptUtf8 } from "../../../protocol/mod.ts";

export type { TruncateInfo } from "./_segment_files.ts";
export type { FileJournalOptions } from "./file_journal_options.ts";

/** An append-only journal of segment files in one directory. */
export class FileJournal implements Journal {
  readonly dir: string;
  readonly policy: FsyncPolicy;
  #segmentBytesMax: number;
  #readChunkBytes: number;
  #onError: ((error: Error) => void) | undefined;
  #streams: JournalStreams;
  #segments: Segment[] = [];
  #active: Segment;
  #fd: number;
  /** Bytes of the active segment that are in the file. */
  #fileBytes: number;
  #buffer: Uint8Array;
  #buffered = 0;
  /** Batches on their way to the disk, and the prefix of them written. */
  #queue: WriteQueue;
  /** Bytes handed to the disk since open (as the queue counts them) known to be durable. */
  #durable = 0;
  #fsyncing: Promise<void> | undefined;
  /** Takes the journal off the list written out at exit (_exit_write_out.ts). */
  #unhookExit: () => void = () => {};
  /** Segments rolled over and not yet sealed (their last batches or fsync pending). */
  #sealing: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #truncatedBytes = 0;
  /** Damaged ranges met, by "path:offset". */
  #damage = new Map<string, JournalDamage>();
  #onDamage: ((damage: JournalDamage) => void) | undefined;
  #failed: Error | undefined;
  #closed = false;
  #lock: DirLock;

  private constructor(
    dir: string,
    options: FileJournalOptions,
    opened: OpenedSegments & { streams: JournalStreams },
    truncatedBytes: number,
    lock: DirLock,
  ) {
    this.dir = dir;
    this.#streams = opened.streams;
    this.#lock = lock;
    this.policy = options.fsync;
    this.#segmentBytesMax = options.segmentBytesMax ?? 64 << 20;
    this.#readChunkBytes = options.readChunkBytes ?? 4 << 20;
    this.#onError = options.onError;
    this.#onDamage = options.onDamage;
    this.#buffer = new Uint8Array(options.writeBufferBytes ?? 1 << 20);
    this.#queue = new WriteQueue(
      {
        failed: () => this.#failed,
        closed: () => this.#closed,
        fail: (err, what) => this.#fail(err, what),
      },
      options.writeBuffersMax ?? 4,
      options.inlineWriteBytesMax ?? 0,
    );
    const { segments, positions } = opened;
    this.#segments = segments;
    this.#active = segments[segments.length - 1]!;
    this.#fd = opened.fd;
    this.#fileBytes = this.#active.bytes;
    this.#truncatedBytes = truncatedBytes;
    for (const [stream, last] of positions) {
      const s = this.#streams.intern(stream);
      if (last > s.last) s.last = last;
    }
    for (const seg of segments) {
      const t = seg.streams;
      for (let row = 0; row < t.size; row++) {
        const s = t.stream(row);
        if (t.last(row) > s.last) s.last = t.last(row);
        // The active segment's rows are found through their streams (see `#rowIn`).
        if (seg === this.#active) {
          s.rows = t;
          s.row = row;
        }
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
    checkFileJournalOptions(options);
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
    const streams = new JournalStreams();
    const opened = openSegments(dir, { durable: options.fsync !== "never", streams });
    const truncatedBytes = opened.reports.reduce((sum, r) => sum + r.bytes, 0);
    const journal = new FileJournal(dir, options, { ...opened, streams }, truncatedBytes, lock);
    journal.#unhookExit = writeOutAtExit(journal);
    for (const r of opened.reports) options.onTruncate?.(r);
    for (const d of opened.damaged) journal.#damaged(d);
    return journal;
  }

  /** Appends `data` to `stream` (into the write buffer) and returns its position. */
  append(stream: string, data: JournalData, memo?: StreamMemo): number {
    this.#check();
    const state = this.#streams.remembered(stream, memo) ?? newStream(stream);
    const name = state.utf8 ??= keptUtf8(stream);
    const total = RECORD_OVERHEAD_BYTES + name.length + journalDataLength(data);
    if (total - 8 > RECORD_BYTES_MAX) {
      throw new RangeError(
        `Cannot append to journal stream "${stream}": record of ${total} bytes is over the ` +
          `limit of ${RECORD_BYTES_MAX} bytes`,
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
      encodeRecord(out, 0, name, pos, data);
      this.#submit(out, total, false);
    } else {
      this.#buffered += encodeRecord(this.#buffer, this.#buffered, name, pos, data);
    }
    if (state.id < 0) this.#streams.add(state);
    if (memo !== undefined) this.#streams.remember(memo, state);
    state.last = pos;
    const current = this.#active;
    current.records++;
    const table = current.streams;
    if (state.rows === table) table.extend(state.row, pos);
    else {
      state.row = table.add(state.id, pos);
      state.rows = table;
    }
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
    return this.#streams.names();
  }

  /** `streams()` and their last positions, in the same order. */
  streamLasts(): StreamLasts {
    return this.#streams.lasts();
  }

  /** The records of `stream` with pos > `after`, in order, as of the call. */
  async *read(stream: string, after = 0): AsyncIterable<JournalRecord> {
    const plan = await this.#readPlan();
    const state = this.#streams.get(stream);
    if (!state) return;
    for (const [seg, end] of plan) {
      const row = this.#rowIn(seg, state);
      if (row < 0 || seg.streams.last(row) <= after) continue;
      // The segment's other streams' records are passed over as they are parsed, not made.
      const keep = (s: StreamState, pos: number) => pos > after && s === state;
      for await (const batch of readSegment(seg, end, { ...this.#readOptions, keep })) {
        yield* batch;
      }
    }
  }

  /** Every record with pos > after[stream] (`unlisted` if none), in append order, as of now. */
  readAll(
    after: ReadonlyMap<string, number> = new Map(),
    unlisted = 0,
  ): AsyncIterable<JournalRecord> {
    return flattenBatches(this.readAllBatches(after, unlisted));
  }

  /**
   * `readAll` in batches (one per read chunk): the same records in the same order, with one
   * await per batch instead of one per record, for recovery over millions of small records.
   * Each record's `data` is a view into a chunk shared by its batch; copy it to keep it long.
   */
  async *readAllBatches(
    after: ReadonlyMap<string, number> = new Map(),
    unlisted = 0,
  ): AsyncIterable<JournalRecord[]> {
    const plan = await this.#readPlan();
    const past = this.#streams.byNumber(after, unlisted);
    for (const [seg, end] of plan) {
      if (!seg.streams.anyPast(past, unlisted)) continue;
      // The records at or before `after` are passed over as they are parsed, not made.
      const keep = (s: StreamState, pos: number) =>
        pos > (s.id < past.length ? past[s.id]! : unlisted);
      yield* readSegment(seg, end, { ...this.#readOptions, keep });
    }
  }

  /** The damaged ranges met so far, on open and while reading, in the order found. */
  damage(): readonly JournalDamage[] {
    return [...this.#damage.values()];
  }

  /** Continues `stream`'s positions after `pos` (see `Journal.advance`); never moves them back. */
  advance(stream: string, pos: number): void {
    this.#check();
    if (!Number.isSafeInteger(pos) || pos < 0) {
      throw new RangeError(`Cannot advance journal stream "${stream}" to position ${pos}`);
    }
    const state = this.#streams.get(stream);
    if (state) {
      if (pos > state.last) state.last = pos;
    } else if (pos > 0) {
      const added = newStream(stream);
      added.last = pos;
      this.#streams.add(added);
    }
  }

  get #readOptions() {
    return {
      chunkBytes: this.#readChunkBytes,
      streams: this.#streams,
      onDamage: (d: JournalDamage) => this.#damaged(d),
    };
  }

  #damaged(d: JournalDamage): void {
    const key = `${d.segment}:${d.offset}`;
    if (this.#damage.has(key)) return;
    this.#damage.set(key, d);
    this.#onDamage?.(d);
  }

  /** Starts writing the buffered records now (a write, not an fsync; see Journal.flush). */
  flush(): void {
    this.#check();
    this.#write();
  }

  /** Writes the buffer and every batch waiting for the disk now, on this thread (no fsync). */
  writeOut(): void {
    if (this.#closed || this.#failed) return;
    this.#write();
    this.#queue.writeWaitingNow();
  }

  /** Writes out the buffer and, unless the policy is `never`, fsyncs before resolving. */
  async sync(): Promise<void> {
    this.#check();
    this.#write();
    const target = this.#queue.submitted;
    if (this.policy !== "never") await this.#fsyncUpTo(target);
    else await this.#queue.writtenUpTo(target);
  }

  /** Deletes sealed segments all of whose records have pos <= upTo[stream]. */
  async compact(upTo: ReadonlyMap<string, number>): Promise<void> {
    this.#check();
    // A segment is deleted only once it is indexed and closed.
    while (this.#sealing) await this.#sealing;
    const past = this.#streams.byNumber(upTo);
    const doomed = this.#segments.filter((seg) => seg.sealed && !seg.streams.anyPast(past));
    if (doomed.length === 0) return;
    const gone = new Set(doomed);
    keepLastPositions(
      this.dir,
      this.#streams,
      doomed,
      this.#segments.filter((s) => !gone.has(s)),
    );
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
    let damagedBytes = 0;
    for (const d of this.#damage.values()) damagedBytes += d.bytes;
    return { bytes, records, truncatedBytes: this.#truncatedBytes, damagedBytes };
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
        const target = this.#queue.submitted;
        if (this.policy !== "never") await this.#fsyncUpTo(target);
        else await this.#queue.writtenUpTo(target);
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
    this.#queue.crash();
    this.#lock.abandon();
    this.#stop();
  }

  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unhookExit();
    this.#lock.release();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const fd = this.#fd;
    // The file is closed once nothing in flight uses it (a sealing segment closes its own).
    this.#queue.wakeWriters();
    Promise.allSettled([this.#fsyncing, this.#queue.idle()]).then(() => closeSync(fd))
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
    await this.#queue.writtenUpTo(this.#queue.submitted);
    return plan;
  }

  /** The row of `state`'s stream in `seg`'s table, or -1 when the segment holds none of it. */
  #rowIn(seg: Segment, state: StreamState): number {
    if (state.rows === seg.streams) return state.row;
    // Every stream in the active segment has its row there noted on it.
    return seg.sealed ? seg.streams.rowOf(state.id) : -1;
  }

  /**
   * Starts the next segment, and seals the active one in the background: once its batches are
   * written, it is fsynced (unless `never`), indexed and closed.
   */
  #roll(): void {
    this.#write();
    const old = this.#active;
    old.bytes = this.#fileBytes;
    old.streams.trim();
    const oldFd = this.#fd;
    const end = this.#queue.submitted;
    const previous = this.#sealing;
    old.sealed = true;
    const sealing = (async () => {
      await previous;
      await this.#queue.writtenUpTo(end);
      if (this.#failed || this.#closed) return; // a crash: the segment stays as it is
      if (this.policy !== "never") {
        await new Promise<void>((resolve, reject) => {
          fsync(oldFd, (err) => err ? reject(err) : resolve());
        });
        if (end > this.#durable) this.#durable = end;
      }
      // A segment with damage keeps no index: each open scans it and reports the damage again.
      if (!old.holes) await writeIndexAsync(this.dir, old, () => !this.#closed && !this.#failed);
    })().catch((err: Error) => {
      // After a crash (simulateCrash) nothing is the journal's to report.
      if (!this.#closed) this.#fail(err, "seal", old.path);
    }).finally(() => {
      // A write or fsync still in flight (after a crash) may use the file.
      Promise.allSettled([this.#fsyncing, this.#queue.idle()]).then(() => closeSync(oldFd))
        .catch(() => {});
      if (this.#sealing === sealing) this.#sealing = undefined;
    });
    this.#sealing = sealing;
    const next = createSegment(this.dir, {
      id: old.id + 1,
      durable: this.policy !== "never",
      streams: this.#streams,
    });
    this.#fd = next.fd;
    this.#fileBytes = SEGMENT_HEADER_BYTES;
    this.#active = next.segment;
    this.#segments.push(this.#active);
  }

  /** Hands the buffer to the disk and goes on in a free one. */
  #write(): void {
    if (this.#buffered === 0) return;
    const n = this.#buffered;
    this.#buffered = 0;
    const full = this.#buffer;
    this.#buffer = this.#queue.takeBuffer(full.length);
    this.#submit(full, n, true);
  }

  /** Queues `n` bytes of `buf` at the end of the active segment. */
  #submit(buf: Uint8Array, n: number, pooled: boolean): void {
    this.#queue.submit(this.#fd, buf, n, this.#fileBytes, pooled);
    this.#fileBytes += n;
  }

  /**
   * Resolves once everything handed to the disk before the call is fsynced; fsyncs are coalesced.
   */
  async #fsyncUpTo(target: number): Promise<void> {
    while (this.#durable < target) {
      if (this.#failed) throw this.#failed;
      if (this.#closed) {
        throw new Error(
          `Cannot fsync the journal in ${this.dir}: it stopped before the bytes were written`,
        );
      }
      if (this.#queue.written < target) {
        await this.#queue.writtenUpTo(target);
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
      const upTo = this.#queue.written;
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
    this.#fsyncUpTo(this.#queue.submitted).catch(() => {});
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

  #fail(err: Error, what: string, path = this.#active.path): Error {
    if (!this.#failed) {
      this.#failed = new Error(`Cannot ${what} journal segment ${path}: ${err.message}`, {
        cause: err,
      });
      this.#onError?.(this.#failed);
    }
    return this.#failed;
  }
}
