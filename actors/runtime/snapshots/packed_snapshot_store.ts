/**
 * Snapshots packed many to a file: each save is appended to the newest of a directory's segment
 * files (`snapshots-<n>.pack`), an index in memory says where each stream's newest one lies, and
 * a segment most of whose bytes have been superseded is compacted (its live snapshots appended
 * again, then the file removed): a log-structured store in the manner of Bitcask (Sheehy and
 * Smith, 2010). A host of tens of thousands of instances stops with a few large writes and one
 * fsync a batch, not a file, a write, an fsync and a rename each (25 s for 100,001 instances on
 * this machine: docs/channel_cost.md), and starts with one read a snapshot from files it holds
 * open, not an open, a read and a close.
 *
 * A record is `TRPK`, the stream's name length (u16), the snapshot's length (u32), the CRC-32 of
 * those and the name (u32), the name (UTF-8), then the snapshot as `encodeSnapshot` makes it (with
 * its own CRC, checked when it is loaded). A save resolves once its record is written and the
 * segment fsynced, so a crash can tear only records whose saves never resolved, at the newest
 * segment's end: opening checks every record of that segment whole and cuts it at the first that
 * is not, so the stream's snapshot before it is the one loaded. A damaged record in an older
 * segment (the disk's fault) is reported through `onCorrupt` and what follows it in that segment
 * is not read; its streams fall back to their snapshots in earlier segments, or to the journal.
 *
 * A directory of the file store's snapshots (`<stream>.snap`, file_snapshot_store.ts) is read as
 * well: a stream's packed snapshot is newer than its file, which is removed once superseded.
 */
import {
  closeSync,
  fdatasync,
  ftruncateSync,
  mkdirSync,
  openSync,
  read,
  readdirSync,
  readFile,
  readFileSync,
  unlink,
  writev,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "../journal/mod.ts";
import { syncDirAsync } from "../../files/mod.ts";
import {
  type CorruptSnapshotInfo,
  encodeSnapshot,
  type Snapshot,
  snapshotIntact,
  type SnapshotStore,
  storedSnapshot,
  StoreSaves,
  unescapeStreamName,
} from "./snapshot_store.ts";

/** Options of `PackedSnapshotStore.open`. */
export interface PackedSnapshotStoreOptions {
  /** Called when a stored snapshot cannot be loaded; `load` then returns undefined. */
  onCorrupt?(info: CorruptSnapshotInfo): void;
  /** Whether saves fsync the segment (and the directory for a new one): true. */
  fsync?: boolean;
  /** A segment's bytes past which saves go to a new one: `SEGMENT_BYTES_MAX`. */
  segmentBytes?: number;
}

/**
 * A segment's bytes past which saves go to a new one: 64 MiB, what opening checks whole (the
 * newest segment's records are CRC-checked: ~0.2 s here) and what a compaction reads at once.
 */
export const SEGMENT_BYTES_MAX = 64 << 20;

const MAGIC = 0x4b505254; // "TRPK", little-endian
const HEAD = 14;
const PREFIX = "snapshots-";
const SUFFIX = ".pack";
const FILE_SUFFIX = ".snap";

/** A segment file, open while the store is. */
interface Segment {
  n: number;
  path: string;
  fd: number;
  size: number;
  /** The bytes of its records that are streams' newest. */
  live: number;
  /** The streams whose newest record it holds. */
  streams: Set<string>;
  /** Reads in flight (a compacted segment is closed after them). */
  reads: number;
  dropped: boolean;
}

/** A record of a segment: its snapshot's offset and length, and the bytes before it. */
interface Packed {
  seg: Segment;
  at: number;
  len: number;
  head: number;
}

/** Where a stream's newest snapshot is: a record of a segment, or a file of the file store. */
type Entry = Packed | { file: string };

/** A save waiting for the writer. */
interface Queued {
  stream: string;
  record: Uint8Array;
  done: (err?: unknown) => void;
}

/**
 * Saves a snapshotter has in flight with this store: written a batch at a time, one write and one
 * fsync each, so a stop's thousands go in batches of this many (16 MiB at 8 KiB a snapshot).
 */
export const PACKED_SAVES_IN_FLIGHT = 2048;

/** A SnapshotStore packing snapshots into segment files of one directory. */
export class PackedSnapshotStore implements SnapshotStore {
  readonly dir: string;
  readonly savesInFlight = PACKED_SAVES_IN_FLIGHT;
  readonly #onCorrupt: ((info: CorruptSnapshotInfo) => void) | undefined;
  readonly #fsync: boolean;
  readonly #segmentBytes: number;
  readonly #saves: StoreSaves;
  readonly #index = new Map<string, Entry>();
  readonly #segments: Segment[] = [];
  #queue: Queued[] = [];
  #writing: Promise<void> | undefined;

  private constructor(dir: string, options: PackedSnapshotStoreOptions) {
    this.dir = dir;
    this.#onCorrupt = options.onCorrupt;
    this.#fsync = options.fsync ?? true;
    this.#segmentBytes = options.segmentBytes ?? SEGMENT_BYTES_MAX;
    this.#saves = new StoreSaves(`in ${dir}`);
  }

  /** Opens (creating it when needed) the store in `dir`, reading its segments' indexes. */
  static open(dir: string, options: PackedSnapshotStoreOptions = {}): Promise<PackedSnapshotStore> {
    mkdirSync(dir, { recursive: true });
    const store = new PackedSnapshotStore(dir, options);
    const numbers: number[] = [];
    for (const name of readdirSync(dir)) {
      if (name.endsWith(FILE_SUFFIX)) {
        const stream = unescapeStreamName(name.slice(0, -FILE_SUFFIX.length));
        if (stream !== undefined) store.#index.set(stream, { file: join(dir, name) });
      } else if (name.startsWith(PREFIX) && name.endsWith(SUFFIX)) {
        const n = Number(name.slice(PREFIX.length, -SUFFIX.length));
        if (Number.isSafeInteger(n) && n >= 0) numbers.push(n);
      }
    }
    numbers.sort((a, b) => a - b);
    numbers.forEach((n, i) => store.#scan(n, i === numbers.length - 1));
    return Promise.resolve(store);
  }

  /** Appends the stream's snapshot; resolves once it is durable. Saves land in call order. */
  save(snapshot: Snapshot): Promise<void> {
    this.#saves.check();
    const name = new TextEncoder().encode(snapshot.stream);
    if (name.length === 0 || name.length > 0xffff) {
      throw new RangeError(
        `Cannot store a snapshot of stream ${JSON.stringify(snapshot.stream)}: its name must be ` +
          `1 to 65,535 bytes, got ${name.length}`,
      );
    }
    const record = packRecord(name, encodeSnapshot(snapshot));
    return this.#saves.run(snapshot.stream, () =>
      new Promise<void>((resolve, reject) => {
        const done = (err?: unknown) => (err === undefined ? resolve() : reject(err));
        this.#queue.push({ stream: snapshot.stream, record, done });
        this.#writing ??= this.#drain().finally(() => (this.#writing = undefined));
      }));
  }

  /** The stream's snapshot, or undefined when there is none or it is damaged (reported). */
  async load(stream: string): Promise<Snapshot | undefined> {
    this.#saves.check();
    const entry = this.#index.get(stream);
    if (entry === undefined) return undefined;
    if ("file" in entry) {
      const place = { where: entry.file, holder: "file", onCorrupt: this.#onCorrupt };
      return await storedSnapshot(stream, () => readFileSync(entry.file), place);
    }
    const where = `${entry.seg.path} at byte ${entry.at}`;
    const place = { where, holder: "record", onCorrupt: this.#onCorrupt };
    return await storedSnapshot(stream, () => this.#read(entry.seg, entry.at, entry.len), place);
  }

  /** The streams with a snapshot, sorted. */
  list(): Promise<string[]> {
    this.#saves.check();
    return Promise.resolve([...this.#index.keys()].sort());
  }

  /** Waits for saves in progress, then closes the segments and refuses further use. */
  async close(): Promise<void> {
    await this.#saves.close();
    await this.#writing;
    for (const seg of this.#segments) closeSync(seg.fd);
    this.#segments.length = 0;
  }

  /** Reads segment `n` into the index (the newest checked whole, and cut at a torn record). */
  #scan(n: number, newest: boolean): void {
    const path = join(this.dir, `${PREFIX}${n}${SUFFIX}`);
    const bytes = readFileSync(path);
    const seg: Segment = {
      n,
      path,
      fd: openSync(path, "r+"),
      size: bytes.length,
      live: 0,
      streams: new Set(),
      reads: 0,
      dropped: false,
    };
    this.#segments.push(seg);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const names = new TextDecoder();
    for (let at = 0; at < bytes.length;) {
      const bad = recordFault(bytes, view, at, newest);
      if (bad !== undefined) {
        if (newest) {
          // A save that never resolved: cut, so appends go on after the last whole record.
          ftruncateSync(seg.fd, at);
          seg.size = at;
        } else {
          const reason = `${bad}; the segment's ${bytes.length - at} bytes from here are not read`;
          this.#onCorrupt?.({ stream: "(unknown)", where: `${path} at byte ${at}`, reason });
        }
        break;
      }
      const nameLen = view.getUint16(at + 4, true), len = view.getUint32(at + 6, true);
      const stream = names.decode(bytes.subarray(at + HEAD, at + HEAD + nameLen));
      this.#place(stream, { seg, at: at + HEAD + nameLen, len, head: HEAD + nameLen });
      at += HEAD + nameLen + len;
    }
  }

  /** Makes `entry` the stream's newest. */
  #place(stream: string, entry: Packed): void {
    const old = this.#index.get(stream);
    if (old !== undefined && "seg" in old) {
      old.seg.live -= recordBytes(old);
      old.seg.streams.delete(stream);
    }
    this.#index.set(stream, entry);
    entry.seg.live += recordBytes(entry);
    entry.seg.streams.add(stream);
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

  /** Writes what is queued, a segment's room at a time; then compacts what is mostly stale. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      let room = this.#segmentBytes, k = 0;
      while (k < this.#queue.length && (k === 0 || this.#queue[k]!.record.length <= room)) {
        room -= this.#queue[k++]!.record.length;
      }
      const batch = this.#queue.splice(0, k);
      const files = batch.flatMap((q) => {
        const old = this.#index.get(q.stream);
        return old !== undefined && "file" in old ? [old.file] : [];
      });
      try {
        const seg = await this.#active(this.#segmentBytes - room);
        await this.#append(seg, batch.map((q) => [q.stream, q.record] as const));
      } catch (err) {
        for (const q of batch) q.done(err);
        continue;
      }
      // The file store's snapshots these supersede (a file is read only when no record is).
      await Promise.all(files.map((f) => new Promise<void>((r) => unlink(f, () => r()))));
      for (const q of batch) q.done();
      if (this.#queue.length === 0) {
        // Not done now is done after a later save: the segment's snapshots are loaded meanwhile.
        await this.#compact().catch(() => {});
      }
    }
  }

  /**
   * Writes records to the end of `seg` and fsyncs it, then makes them their streams' newest; a
   * write that fails is cut off again.
   */
  async #append(seg: Segment, records: ReadonlyArray<readonly [string, Uint8Array]>) {
    const from = seg.size;
    try {
      await new Promise<void>((resolve, reject) => {
        writev(seg.fd, records.map(([, r]) => r), from, (err) => (err ? reject(err) : resolve()));
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
    for (const [stream, record] of records) {
      const nameLen = record[4]! | (record[5]! << 8);
      const head = HEAD + nameLen;
      this.#place(stream, { seg, at: at + head, len: record.length - head, head });
      at += record.length;
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
    const path = join(this.dir, `${PREFIX}${n}${SUFFIX}`);
    const seg: Segment = {
      n,
      path,
      fd: openSync(path, "w+"),
      size: 0,
      live: 0,
      streams: new Set(),
      reads: 0,
      dropped: false,
    };
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
    for (const seg of this.#segments.slice(0, -1)) {
      if (seg.live * 2 >= seg.size || this.#queue.length > 0) continue;
      const bytes = await new Promise<Uint8Array>((resolve, reject) => {
        readFile(seg.path, (err, got) => (err ? reject(err) : resolve(got)));
      });
      const records: Array<readonly [string, Uint8Array]> = [];
      for (const stream of seg.streams) {
        const e = this.#index.get(stream) as Packed;
        records.push([stream, bytes.subarray(e.at - e.head, e.at + e.len)]);
      }
      for (let i = 0; i < records.length;) {
        let k = i, total = 0;
        while (
          k < records.length && (k === i || total + records[k]![1].length <= this.#segmentBytes)
        ) {
          total += records[k++]![1].length;
        }
        await this.#append(await this.#active(total), records.slice(i, k));
        i = k;
      }
      this.#segments.splice(this.#segments.indexOf(seg), 1);
      seg.dropped = true;
      if (seg.reads === 0) closeSync(seg.fd);
      await new Promise<void>((resolve) => unlink(seg.path, () => resolve()));
      if (this.#fsync) await syncDirAsync(this.dir);
    }
  }
}

/** A record's bytes in all. */
function recordBytes(e: Packed): number {
  return e.head + e.len;
}

/** A record of snapshot `body` of the stream named `name` (UTF-8). */
function packRecord(name: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEAD + name.length + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, name.length, true);
  view.setUint32(6, body.length, true);
  out.set(name, HEAD);
  view.setUint32(10, headCrc(out, 0, name.length), true);
  out.set(body, HEAD + name.length);
  return out;
}

/** The CRC-32 of a record's lengths and name. */
function headCrc(bytes: Uint8Array, at: number, nameLen: number): number {
  return crc32(bytes, at + HEAD, at + HEAD + nameLen, crc32(bytes, at + 4, at + 10));
}

/**
 * What is wrong with the record at `at` of a segment's `bytes`, or undefined when it is whole
 * (its snapshot checked too when `whole`).
 */
function recordFault(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  whole: boolean,
): string | undefined {
  if (bytes.length - at < HEAD) return `a record's header cut short (${bytes.length - at} bytes)`;
  if (view.getUint32(at, true) !== MAGIC) return "not a record (no TRPK)";
  const nameLen = view.getUint16(at + 4, true), len = view.getUint32(at + 6, true);
  if (bytes.length - at < HEAD + nameLen + len) {
    return `a record of ${HEAD + nameLen + len} bytes cut short at ${bytes.length - at}`;
  }
  if (view.getUint32(at + 10, true) !== headCrc(bytes, at, nameLen)) {
    return "a record's header fails its CRC";
  }
  const body = at + HEAD + nameLen;
  if (whole && !snapshotIntact(bytes.subarray(body, body + len))) {
    return "a record's snapshot fails its CRC";
  }
  return undefined;
}
