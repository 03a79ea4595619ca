/**
 * Snapshots packed many to a file: each save is appended to the newest of a directory's segment
 * files (`snapshots-<n>.pack`), an index in memory says where each stream's newest one lies, and
 * a segment most of whose bytes have been superseded is compacted (its live snapshots appended
 * again, then the file removed): a log-structured store in the manner of Bitcask (Sheehy and
 * Smith, 2010). A host of tens of thousands of instances stops with a few large writes and one
 * fsync a batch, not a file, a write, an fsync and a rename each, and starts with a positioned
 * read a snapshot of files held open, not an open, a read and a close (docs/channel_cost.md
 * compares them). Opening reads each segment once, newest first, through a window it reuses
 * (_scan_window.ts), and keeps the index and each stream's newest snapshot head, read in passing:
 * a start takes every stream's head, and reads most bodies only later.
 *
 * A record (_packed_record.ts) is a short header with its own CRC, the stream's name, then the
 * snapshot as `encodeSnapshot` makes it (with its CRC, checked when it is loaded); a stop's saves
 * come in batches encoded into reused memory (_packed_batch.ts). A save resolves once its record
 * is written and the segment fsynced, so a crash can tear only records whose saves never resolved,
 * at the newest segment's end: opening checks every record of that segment whole and cuts it at
 * the first that is not, so the stream's snapshot before it is the one loaded. A damaged record in
 * an older segment (the disk's fault) is reported through `onCorrupt` and what follows it in that
 * segment is not read; its streams fall back to an earlier record of theirs where one is left,
 * else to the journal. The directory is locked (`LOCK`) while a store has it open.
 *
 * A store closed cleanly leaves a hint file (_hint_file.ts): where each stream's newest record lies
 * and what its head says. The next open places every stream from it, when it is whole and the
 * segments are as it says, rather than reading every record whole; a body is then checked when it
 * is read, and one damaged since the close is reported then and treated as absent (the journal
 * rebuilds its stream; a read of the segments could have fallen back to an older record of it).
 *
 * A directory of the file store's snapshots (`<stream>.snap`, file_snapshot_store.ts) is read as
 * well: a stream's packed snapshot is newer than its file, which is removed once superseded.
 */
import {
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  read,
  readFileSync,
  unlink,
  writev,
} from "node:fs";
import { type DirLock, lockDir } from "../journal/mod.ts";
import { syncDirAsync } from "../../files/mod.ts";
import {
  checkSnapshotBytes,
  type CorruptSnapshotInfo,
  decodeSnapshot,
  encodeSnapshotParts,
  HELD,
  HELD_NOW,
  type Snapshot,
  type SnapshotBatch,
  SnapshotCorruptError,
  type SnapshotHead,
  type SnapshotStore,
  storedCrc,
  storedSnapshot,
  StoreSaves,
} from "./snapshot_store.ts";
import {
  RECORD_HEAD,
  recordFault,
  type RecordGroup,
  recordHead,
  recordNameLength,
} from "./_packed_record.ts";
import {
  ChunkPool,
  PACKED_BATCHES_IN_FLIGHT,
  PACKED_SAVES_IN_FLIGHT,
  PackedBatch,
} from "./_packed_batch.ts";
import { ScanWindow } from "./_scan_window.ts";
import { liveRecordsIn, liveSpans, SPAN_BYTES, SpanReader } from "./_live_spans.ts";
import { BodyReader } from "./_body_reader.ts";
import { readSnapshotHead } from "./snapshot_head.ts";
import { openHinted, writeHints } from "./_hint_file.ts";
import { type HintedBodies, HintedHead } from "./_hinted_head.ts";
import {
  closeQuietly,
  type Entry,
  hintOf,
  type Packed,
  readRecord,
  recordBytes,
  type Segment,
  SEGMENT_BYTES_MAX,
  segmentOf,
  segmentPath,
  storeFiles,
  supersededFiles,
} from "./_packed_segment.ts";

export { PACKED_BATCHES_IN_FLIGHT, PACKED_SAVES_IN_FLIGHT } from "./_packed_batch.ts";
export { SEGMENT_BYTES_MAX } from "./_packed_segment.ts";

/** Options of `PackedSnapshotStore.open`. */
export interface PackedSnapshotStoreOptions {
  /** Called when a stored snapshot cannot be loaded; `load` then returns undefined. */
  onCorrupt?(info: CorruptSnapshotInfo): void;
  /** Whether saves fsync the segment (and the directory for a new one): true. */
  fsync?: boolean;
  /** A segment's bytes past which saves go to a new one: `SEGMENT_BYTES_MAX`. */
  segmentBytes?: number;
}

/** Records waiting for the writer. */
interface Queued extends RecordGroup {
  done: (err?: unknown) => void;
}

/** A SnapshotStore packing snapshots into segment files of one directory. */
export class PackedSnapshotStore implements SnapshotStore {
  readonly dir: string;
  /** How the open placed the streams' snapshots: from the hint file, or read from the segments. */
  opened = "";
  readonly savesInFlight = PACKED_SAVES_IN_FLIGHT;
  readonly batchesInFlight = PACKED_BATCHES_IN_FLIGHT;
  readonly #onCorrupt: ((info: CorruptSnapshotInfo) => void) | undefined;
  readonly #fsync: boolean;
  readonly #segmentBytes: number;
  readonly #saves: StoreSaves;
  readonly #index = new Map<string, Entry>();
  /** Whether the open found the file store's snapshots: only then a save looks for one. */
  #hasFiles = false;
  readonly #segments: Segment[] = [];
  #queue: Queued[] = [];
  /** The writer's run, and whether it runs (cleared as its last look finds the queue empty). */
  #writing: Promise<void> | undefined;
  #draining = false;
  /** Whether the start's loads go on: until the first save (`#load`). */
  #starting = true;
  /**
   * What reads a start's heads the opening did not, and their bodies when wanted, into memory it
   * reuses: a start restores tens of thousands of instances, each copying what it keeps of its
   * body, and a new buffer a body would be memory touched for the first time and let go at once.
   */
  readonly #bodies = new BodyReader();
  /** What the hinted heads read their bodies from (one for all of them). */
  readonly #hintedBodies: HintedBodies = {
    bodyOf: (stream, crc) => this.#bodyOf(stream, crc),
    reads: () => this.#bodies.reads,
  };
  /** The chunks batches lay their records in, reused once a batch is written. */
  readonly #chunks = new ChunkPool();
  /** What compactions read segments' live records through. */
  readonly #spans = new SpanReader();

  readonly #lock: DirLock;

  private constructor(dir: string, options: PackedSnapshotStoreOptions, lock: DirLock) {
    this.dir = dir;
    this.#lock = lock;
    this.#onCorrupt = options.onCorrupt;
    this.#fsync = options.fsync ?? true;
    this.#segmentBytes = options.segmentBytes ?? SEGMENT_BYTES_MAX;
    this.#saves = new StoreSaves(`in ${dir}`);
  }

  /**
   * Opens (creating it when needed) the store in `dir`, reading its segments' indexes. The
   * directory is locked while it is open (`LOCK`, as a journal's is): a second writer appending
   * to its segments, or cutting the newest at a record being written, would damage them.
   */
  static open(dir: string, options: PackedSnapshotStoreOptions = {}): Promise<PackedSnapshotStore> {
    mkdirSync(dir, { recursive: true });
    const lock = lockDir(dir, "snapshot directory");
    try {
      return Promise.resolve(PackedSnapshotStore.#opened(dir, options, lock));
    } catch (err) {
      lock.release();
      return Promise.reject(err);
    }
  }

  static #opened(dir: string, options: PackedSnapshotStoreOptions, lock: DirLock) {
    const store = new PackedSnapshotStore(dir, options, lock);
    const { numbers, files } = storeFiles(dir);
    store.#hasFiles = files.length > 0;
    for (const [stream, file] of files) store.#index.set(stream, { file });
    if (store.#fromHints(numbers)) return store;
    for (const [stream, file] of files) store.#index.set(stream, { file });
    // Newest first: a stream's newest record is then the first met, and the heads of those it
    // superseded in older segments are never read.
    numbers.sort((a, b) => b - a);
    const window = new ScanWindow();
    try {
      numbers.forEach((n, i) => store.#scan(n, i === 0, window));
      store.#segments.sort((a, b) => a.n - b.n);
    } catch (err) {
      // A segment that cannot be read: the store is not opened, and holds no file open.
      for (const seg of store.#segments) closeQuietly(seg.fd);
      throw err;
    }
    return store;
  }

  /**
   * Places every stream as the hint file says (`_hint_file.ts`), when it is whole and segments
   * `numbers` are those it names; false otherwise, the index then left empty.
   */
  #fromHints(numbers: readonly number[]): boolean {
    const segments = openHinted(this.dir, numbers, (stream, entry) => this.#place(stream, entry));
    if (typeof segments === "string") {
      this.#index.clear();
      if (numbers.length > 0) this.opened = `${numbers.length} segments read (${segments})`;
      return false;
    }
    this.#segments.push(...segments);
    this.opened = `${this.#index.size} snapshots placed from the hint file`;
    return true;
  }

  /** Appends the stream's snapshot; resolves once it is durable. Saves land in call order. */
  save(snapshot: Snapshot): Promise<void> {
    this.#saves.check();
    const stream = snapshot.stream, nameLen = recordNameLength(stream);
    const [header, body] = encodeSnapshotParts(snapshot);
    const head = recordHead(stream, nameLen, header, body.length);
    const bytes = head.length + body.length;
    const hint = hintOf(snapshot, storedCrc(header));
    const group = { entries: [{ stream, bytes, nameLen, hint }], parts: [head, body], bytes };
    this.#started();
    return this.#saves.run(stream, () => this.#enqueue(group));
  }

  /**
   * A batch of saves (`SnapshotBatch`), its records laid in chunks this store reuses: written
   * after every save begun before its `write`, with one write and one fsync (a segment's bytes
   * at most at once).
   */
  batch(): SnapshotBatch {
    this.#saves.check();
    return new PackedBatch(this.#chunks, async (group) => {
      try {
        await this.#saves.settled();
        this.#saves.check();
        this.#started();
      } catch (err) {
        group.release?.();
        throw err;
      }
      await this.#enqueue(group);
    });
  }

  /** Queues `group` for the writer; resolves once it is written and durable. */
  #enqueue(group: RecordGroup): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: unknown) => (err === undefined ? resolve() : reject(err));
      this.#queue.push({ ...group, done });
      if (!this.#draining) this.#writing = this.#drain();
    });
  }

  /** The stream's snapshot, or undefined when there is none or it is damaged (reported). */
  load(stream: string): Promise<Snapshot | undefined> {
    return this.#load(stream, decodeSnapshot);
  }

  /**
   * `load`, its body left undecoded. During the start it is the head the opening read, or its
   * record read into reused memory, and its body is read again when wanted (`#bodyOf`): a start
   * reads every snapshot's head but most bodies only later (Slot.dormant), and holding them all
   * meanwhile would be the store's bytes in memory.
   */
  loadHead(stream: string): Promise<SnapshotHead | undefined> {
    if (!this.#starting) return this.#load(stream, readSnapshotHead);
    if (this.hasHeadNow(stream)) return Promise.resolve(this.headNow(stream));
    const entry = this.#index.get(stream);
    return this.#load(stream, (bytes) => this.#startHead(stream, bytes, entry), this.#bodies);
  }

  /** Whether the start holds `stream`'s head (read at the open, or hinted): `headNow` gives it. */
  hasHeadNow(stream: string): boolean {
    return this.held(stream) === HELD_NOW;
  }

  /** Whether the store holds `stream`'s snapshot: HELD_NOW where `headNow` gives its head. */
  held(stream: string): number {
    const entry = this.#index.get(stream);
    if (entry === undefined) return 0;
    const now = this.#starting && "seg" in entry &&
      (entry.scanned !== undefined || entry.hint !== undefined);
    return now ? HELD_NOW : HELD;
  }

  /** How many streams have a snapshot. */
  get heldCount(): number {
    return this.#index.size;
  }

  /**
   * `loadHead`'s head of `stream` at once, where `hasHeadNow` (undefined otherwise): one lookup
   * in the index, for each of a fleet host's streams.
   */
  headNow(stream: string): SnapshotHead | undefined {
    const entry = this.#starting ? this.#index.get(stream) : undefined;
    if (entry === undefined || !("seg" in entry)) return undefined;
    const head = entry.scanned, hint = entry.hint, order = entry.seg.n * 2 ** 32 + entry.at;
    // Else what its hint says, its body read when wanted.
    if (head === undefined) return hint && new HintedHead(stream, hint, order, this.#hintedBodies);
    entry.scanned = undefined;
    return head;
  }

  /**
   * The head of `stream`'s snapshot in `bytes` (its record's, `entry`, which the caller may write
   * over next), as the start's loads give it: its body read again when wanted (`#bodyOf`).
   */
  #startHead(stream: string, bytes: Uint8Array, entry: Entry | undefined): SnapshotHead {
    const head = readSnapshotHead(bytes), crc = storedCrc(bytes);
    if (entry === undefined || "file" in entry) {
      // A file's snapshot, read whole into memory of its own: held (a plain Uint8Array over a
      // Node Buffer's bytes, as the packed records are, so that its bins decode alike).
      const held = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      head.body = () => held;
      return head;
    }
    head.body = () => this.#bodyOf(stream, crc);
    head.bodyReads = () => this.#bodies.reads;
    head.order = entry.seg.n * 2 ** 32 + entry.at;
    return head;
  }

  /**
   * `stream`'s newest record parsed with `parse`; read at once during the start (into `into`
   * when given, which `parse` must not keep: its loads come one after another, with nothing else
   * to serve yet, and a read through the thread pool costs more in its round trip than in its
   * bytes), through the thread pool after.
   */
  #load<T extends { stream: string }>(
    stream: string,
    parse: (bytes: Uint8Array) => T,
    into?: BodyReader,
  ): Promise<T | undefined> {
    this.#saves.check();
    const entry = this.#index.get(stream);
    if (entry === undefined) return Promise.resolve(undefined);
    if ("file" in entry) {
      const place = { where: entry.file, holder: "file", onCorrupt: this.#onCorrupt };
      return storedSnapshot(stream, () => readFileSync(entry.file), place, parse);
    }
    const seg = entry.seg, where = `${seg.path} at byte ${entry.at}`;
    const place = { where, holder: "record", onCorrupt: this.#onCorrupt };
    const read = this.#starting
      ? () => into?.read(seg, entry.at, entry.len) ?? readRecord(seg, entry)
      : () => this.#read(seg, entry.at, entry.len);
    return storedSnapshot(stream, read, place, parse);
  }

  /**
   * The bytes of `stream`'s snapshot whose head the start read (`loadHead`; its CRC `crc`), read
   * again where the stream's newest lies now (a compaction may have moved it) into the memory the
   * next body read writes over (`bodyReads`); throws when the store is closed, or its newest is
   * another snapshot or damaged.
   */
  #bodyOf(stream: string, crc: number): Uint8Array {
    this.#saves.check();
    const entry = this.#index.get(stream);
    const where = entry === undefined ? "" : "file" in entry ? entry.file : entry.seg.path;
    if (entry !== undefined && "seg" in entry) {
      const bytes = this.#bodies.read(entry.seg, entry.at, entry.len);
      checkSnapshotBytes(bytes);
      if (storedCrc(bytes) === crc) return bytes;
    }
    throw new SnapshotCorruptError(
      `Cannot read the snapshot of ${stream} again: the store's newest${
        where ? ` (in ${where})` : ""
      } is another snapshot than the one whose head was read`,
    );
  }

  /** The streams with a snapshot, sorted. */
  list(): Promise<string[]> {
    this.#saves.check();
    return Promise.resolve([...this.#index.keys()].sort());
  }

  /** Waits for saves in progress, then closes the segments and refuses further use. */
  async close(): Promise<void> {
    await this.#saves.close();
    // A batch let in as the store closed may have started the writer again: it is waited for too.
    do await this.#writing; while (this.#draining);
    writeHints(this.dir, this.#segments, this.#index);
    for (const seg of this.#segments) closeSync(seg.fd);
    this.#segments.length = 0;
    this.#lock.release();
  }

  /**
   * Reads segment `n` into the index through `window` (the newest checked whole, and cut at a
   * torn record), the segments newer than it read already: a stream they hold is passed over.
   */
  #scan(n: number, newest: boolean, window: ScanWindow): void {
    const path = segmentPath(this.dir, n);
    const fd = openSync(path, "r+");
    const seg = segmentOf(n, path, fd, fstatSync(fd).size);
    this.#segments.push(seg);
    window.over(fd, seg.size);
    const names = new TextDecoder();
    for (let at = 0; at < seg.size;) {
      const rel = window.record(at), bytes = window.bytes, view = window.view;
      const bad = recordFault(bytes, view, rel, newest);
      if (bad !== undefined) {
        if (newest) {
          // A save that never resolved: cut, so appends go on after the last whole record.
          ftruncateSync(seg.fd, at);
          seg.size = at;
        } else {
          const reason = `${bad}; the segment's ${seg.size - at} bytes from here are not read`;
          this.#onCorrupt?.({ stream: "(unknown)", where: `${path} at byte ${at}`, reason });
        }
        break;
      }
      const nameLen = view.getUint16(rel + 4, true), len = view.getUint32(rel + 6, true);
      const head = RECORD_HEAD + nameLen;
      const stream = names.decode(bytes.subarray(rel + RECORD_HEAD, rel + head));
      const newer = this.#index.get(stream);
      if (newer !== undefined && "seg" in newer && newer.seg !== seg) {
        at += head + len; // a newer segment holds the stream's newest
        continue;
      }
      const entry: Packed = { seg, at: at + head, len, head, hint: undefined };
      // The start reads every stream's head next: read here, from bytes just read, rather than
      // again from the file a stream at a time.
      const snapshot = bytes.subarray(rel + head, rel + head + len);
      entry.scanned = this.#scannedHead(stream, snapshot, entry);
      if (entry.scanned !== undefined) entry.hint = hintOf(entry.scanned, storedCrc(snapshot));
      this.#place(stream, entry, newer);
      at += head + len;
    }
  }

  /** Ends the start (its loads, `#load`), letting go of the heads it did not take. */
  #started(): void {
    if (!this.#starting) return;
    this.#starting = false;
    for (const entry of this.#index.values()) if ("seg" in entry) entry.scanned = undefined;
  }

  /** `#startHead` of a record the opening scans, or undefined where it does not read. */
  #scannedHead(stream: string, bytes: Uint8Array, entry: Packed): SnapshotHead | undefined {
    try {
      const head = this.#startHead(stream, bytes, entry);
      return head.stream === stream ? head : undefined;
    } catch {
      return undefined;
    }
  }

  /** Makes `entry` the stream's newest (`old` its entry until now, when looked up already). */
  #place(stream: string, entry: Packed, old = this.#index.get(stream)): void {
    if (old !== undefined && "seg" in old) old.seg.live -= recordBytes(old);
    this.#index.set(stream, entry);
    entry.seg.live += recordBytes(entry);
  }

  #read(seg: Segment, at: number, len: number): Promise<Uint8Array> {
    seg.reads++;
    return new Promise((resolve, reject) => {
      const buf = new Uint8Array(len);
      read(seg.fd, buf, 0, len, at, (err, got) => {
        if (--seg.reads === 0 && seg.dropped) closeSync(seg.fd);
        if (err) reject(err);
        else if (got !== len) reject(new Error(`${got} of its ${len} bytes read`));
        else resolve(buf);
      });
    });
  }

  /**
   * Writes what is queued, a segment's room at a time, then compacts what is mostly stale; ends
   * (`#draining` false) in the same turn as it finds the queue empty, so a save queued after
   * starts the writer again.
   */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        await this.#writeBatch();
        // Not done now is done after a later save: the segment's snapshots are loaded meanwhile.
        if (this.#queue.length === 0) await this.#compact().catch(() => {});
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Writes the queue's first saves, a segment's bytes at most (at least one), and settles them. */
  async #writeBatch(): Promise<void> {
    let room = this.#segmentBytes, k = 0;
    while (k < this.#queue.length && (k === 0 || this.#queue[k]!.bytes <= room)) {
      room -= this.#queue[k++]!.bytes;
    }
    const batch = this.#queue.splice(0, k);
    const files = this.#hasFiles ? supersededFiles(batch, this.#index) : [];
    try {
      const seg = await this.#active(this.#segmentBytes - room);
      await this.#append(seg, batch);
    } catch (err) {
      for (const q of batch) {
        q.release?.();
        q.done(err);
      }
      return;
    }
    for (const q of batch) q.release?.();
    // The file store's snapshots these supersede (a file is read only when no record is).
    await Promise.all(files.map((f) => new Promise<void>((r) => unlink(f, () => r()))));
    for (const q of batch) q.done();
  }

  /**
   * Writes records to the end of `seg` and fsyncs it, then makes them their streams' newest; a
   * write that fails is cut off again.
   */
  async #append(seg: Segment, records: readonly RecordGroup[]) {
    const from = seg.size;
    try {
      const parts = records.flatMap((r) => r.parts);
      await new Promise<void>((resolve, reject) => {
        writev(seg.fd, parts, from, (err) => (err ? reject(err) : resolve()));
      });
      if (this.#fsync) {
        await new Promise<void>((resolve, reject) => {
          fdatasync(seg.fd, (err) => (err ? reject(err) : resolve()));
        });
      }
    } catch (err) {
      try {
        ftruncateSync(seg.fd, from);
      } catch { /* the next open cuts the segment at its first torn record */ }
      throw err;
    }
    let at = from;
    for (const record of records) {
      for (const { stream, bytes, nameLen, hint } of record.entries) {
        const head = RECORD_HEAD + nameLen;
        this.#place(stream, { seg, at: at + head, len: bytes - head, head, hint });
        at += bytes;
      }
    }
    seg.size = at;
  }

  /** The segment saves go to: the newest, or a new one when `bytes` would take it past its size. */
  async #active(bytes: number): Promise<Segment> {
    const last = this.#segments.at(-1);
    if (last !== undefined && (last.size === 0 || last.size + bytes <= this.#segmentBytes)) {
      return last;
    }
    const n = (last?.n ?? -1) + 1;
    const path = segmentPath(this.dir, n);
    const seg = segmentOf(n, path, openSync(path, "w+"), 0);
    this.#segments.push(seg);
    if (this.#fsync) await syncDirAsync(this.dir);
    return seg;
  }

  /**
   * Compacts each older segment whose live records are under half its bytes: they are appended
   * to the newest segment (as saves are, fsynced), then the segment is removed. A crash between
   * leaves both, the copies newer: the same snapshots.
   */
  async #compact(): Promise<void> {
    const doomed = this.#segments.slice(0, -1).filter((seg) => seg.live * 2 < seg.size);
    if (doomed.length === 0) return;
    const found = liveRecordsIn(this.#index, new Set(doomed));
    for (const seg of doomed) {
      if (this.#queue.length > 0) return;
      // A stream saved anew since the pass has its newest elsewhere: its record here is left.
      const live = (found.get(seg) ?? []).filter((f) =>
        this.#index.get(f.record.stream) === f.entry
      )
        .map((f) => f.record);
      for (const span of liveSpans(live, Math.min(SPAN_BYTES, this.#segmentBytes))) {
        // Saves waiting go first: the segment's other records are copied by a later compaction.
        if (this.#queue.length > 0) return;
        const group = await this.#spans.read(seg.fd, span);
        await this.#append(await this.#active(group.bytes), [group]);
      }
      this.#segments.splice(this.#segments.indexOf(seg), 1);
      seg.dropped = true;
      if (seg.reads === 0) closeSync(seg.fd);
      await new Promise<void>((resolve) => unlink(seg.path, () => resolve()));
      if (this.#fsync) await syncDirAsync(this.dir);
    }
  }
}
