/**
 * A simulated host's disk: its journal (a MemoryJournal) and snapshot store, which outlive the
 * host's crashes, and the handles one incarnation of the host writes through. A handle makes an
 * fsync and a snapshot write take virtual time (so a crash can land in the middle of one), syncs
 * the journal on an interval where the disk has one (the file journal's `interval` policy; a
 * journal durable on acknowledgement, as JetStream's, has none), and is fenced when its
 * process dies: whatever the dead host's leftover promise chains still try to write never
 * happens. The disk also shows every journaled frame to a watcher, with the last source position
 * of its stream (the host journals an input before it applies it, so the journal's order is the
 * apply order: where "no input applied twice" and "no input lost" are checked at every step), and
 * keeps the durable/volatile split of what it saw in step with the journal's, so the checks stay
 * exact across lost tails.
 */
import {
  type Journal,
  type JournalRecord,
  type JournalStats,
  MemoryJournal,
  MemorySnapshotStore,
  type Snapshot,
  type SnapshotStore,
} from "../actors/runtime/mod.ts";
import type { Scheduler, TimerGroup } from "./scheduler.ts";
import {
  decodeInputRecord,
  encodeInputRecord,
  inputRecordKind,
  inputRecordSourcePosition,
  voidedRange,
} from "../protocol/mod.ts";

/** Timing of a disk. */
export interface SimDiskTiming {
  /** How long an fsync takes, in ms. */
  fsyncMs: number;
  /**
   * The journal's fsync interval, in ms; undefined for a journal durable on acknowledgement,
   * whose crashes lose no tail (a periodic sync there would only cost events).
   */
  fsyncEveryMs: number | undefined;
  /** How long a snapshot write takes, in ms. */
  snapshotMs: number;
}

/**
 * Called for every frame journaled, with the source position of the last frame the stream's
 * journal held before it (0 for none): where the simulator checks the order of inputs.
 */
export type FrameWatcher = (stream: string, srcPos: number, lastSrcPos: number) => void;

/** A handle of one host incarnation on its disk. */
export interface DiskHandle {
  journal: Journal;
  snapshots: SnapshotStore;
  /** The process died: nothing more reaches the disk through this handle. */
  kill(): void;
}

const never = <T>() => new Promise<T>(() => {});

/**
 * The source position of the last frame in force among the first `end` records of `list` (0 for
 * none): frames a void record voids are not; `voiding`, a void record about to follow them.
 */
function lastFrame(list: readonly Watched[], end: number, voiding?: Uint8Array): number {
  let i = end - 1;
  if (voiding) i = Math.min(i, voidedRange(decodeInputRecord(voiding)).from - 2);
  for (; i >= 0; i--) {
    const w = list[i]!;
    if (w.frame) return w.srcPos;
    if (inputRecordKind(w.data) === "void") {
      i = Math.min(i, voidedRange(decodeInputRecord(w.data)).from - 1);
    }
  }
  return 0;
}

/** A void record as a skip record of position 0 (the `drop_void` sabotage); others as they are. */
function withoutVoid(data: Uint8Array): Uint8Array {
  if (inputRecordKind(data) !== "void") return data;
  const r = decodeInputRecord(data);
  return encodeInputRecord({ ...r, kind: "skip", payload: new Uint8Array(8) });
}

/** Bytes of journal data are copied into slabs of this size (a record larger gets its own). */
const SLAB_BYTES = 1 << 20;

/**
 * Copies of journal records, carved out of large slabs: one allocation per megabyte rather than
 * one per record (an ArrayBuffer each is slow to allocate and weighs on the garbage collector).
 * Each copy starts 8-byte aligned, as a fresh array would. The slabs are SharedArrayBuffers, so
 * that the simulator's worker thread reads the records where they are (the recovery checks'
 * replays), without a copy.
 */
class Slabs {
  #slab = new Uint8Array(new SharedArrayBuffer(0));
  #at = 0;

  /** A fresh copy of `parts`, joined. */
  copy(parts: Uint8Array | readonly Uint8Array[]): Uint8Array {
    let n = 0;
    if (parts instanceof Uint8Array) n = parts.byteLength;
    else for (const p of parts) n += p.byteLength;
    let start = (this.#at + 7) & ~7;
    if (start + n > this.#slab.byteLength) {
      if (n > SLAB_BYTES / 4) return join(new Uint8Array(new SharedArrayBuffer(n)), parts);
      this.#slab = new Uint8Array(new SharedArrayBuffer(SLAB_BYTES));
      start = 0;
    }
    this.#at = start + n;
    return join(this.#slab.subarray(start, start + n), parts);
  }
}

function join(out: Uint8Array, parts: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (parts instanceof Uint8Array) {
    out.set(parts);
    return out;
  }
  let n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.byteLength;
  }
  return out;
}

interface Watched extends JournalRecord {
  srcPos: number;
  frame: boolean;
}

/** A host's disk. */
export class SimDisk {
  readonly journal = new MemoryJournal();
  readonly snapshots = new MemorySnapshotStore();
  readonly timing: SimDiskTiming;
  /** Every record appended, in order, as the journal holds it; the first `#durable` are synced. */
  #watched: Watched[] = [];
  #byStream = new Map<string, Watched[]>();
  #durable = 0;
  #lastSrcPos = new Map<string, number>();
  readonly #onFrame: FrameWatcher;
  /** For tests of the checker: append the frame record at this (1-based) count twice. */
  appendTwiceAt: number | undefined;
  /**
   * For tests of the checker: journal each void record as a skip record of position 0 instead (a
   * host whose rebuild leaves the records after a hole in force).
   */
  dropVoids = false;
  /**
   * A record's bytes where they already lie, if they do (its head and then its payload, which the
   * journal then holds instead of a copy; see FeedEntry.headroom), else undefined (it is copied).
   * Records are never changed in place (see `replace`), so sharing their bytes is safe.
   */
  inPlace: ((parts: readonly Uint8Array[]) => Uint8Array | undefined) | undefined;
  #frameAppends = 0;
  readonly #slabs = new Slabs();
  readonly #snapshotPos = new Map<string, number>();

  readonly #scheduler: Scheduler;

  constructor(scheduler: Scheduler, timing: SimDiskTiming, onFrame: FrameWatcher) {
    this.#scheduler = scheduler;
    this.timing = timing;
    this.#onFrame = onFrame;
  }

  /** Opens a handle for a new incarnation of the host, on its timers. */
  open(timers: TimerGroup): DiskHandle {
    let dead = false;
    const inner = this.journal;
    // Every promise handed out, and every one a timer resolves, has continuations to settle.
    const mark = () => this.#scheduler.markAsync();
    const wait = (ms: number) =>
      new Promise<void>((resolve) => {
        const done = () => {
          mark();
          resolve();
        };
        if (timers.setTimeout(done, ms) === undefined) dead = true;
      });
    const sync = async () => {
      mark();
      if (dead) return never<void>();
      await wait(this.timing.fsyncMs);
      if (dead) return never<void>();
      this.#sync();
    };
    const journal: Journal = {
      append: (stream: string, parts: Uint8Array | readonly Uint8Array[]) =>
        dead ? never<number>() : this.#appendRecord(stream, parts),
      lastPosition: (stream) => inner.lastPosition(stream),
      streams: () => inner.streams(),
      read: (stream, after) => (mark(), inner.read(stream, after)),
      readAll: (after, unlisted) => (mark(), inner.readAll(after, unlisted)),
      sync,
      stats: (): JournalStats => inner.stats(),
      close: () => (mark(), Promise.resolve()),
    };
    const snapshots: SnapshotStore = {
      save: async (snapshot: Snapshot) => {
        mark();
        if (dead) return never<void>();
        await wait(this.timing.snapshotMs);
        if (dead) return never<void>();
        await this.snapshots.save(snapshot);
        this.#snapshotPos.set(snapshot.stream, snapshot.pos);
      },
      load: (stream) => (mark(), dead ? never() : this.snapshots.load(stream)),
      list: () => (mark(), this.snapshots.list()),
      close: () => Promise.resolve(),
    };
    const everyMs = this.timing.fsyncEveryMs;
    if (everyMs !== undefined) {
      const interval = () => {
        if (dead) return;
        void sync().then(() => timers.setTimeout(interval, everyMs));
      };
      timers.setTimeout(interval, everyMs);
    }
    return {
      journal,
      snapshots,
      kill: () => {
        dead = true;
      },
    };
  }

  /** A journal append on a live handle, with the faults the disk is set to make. */
  #appendRecord(stream: string, parts: Uint8Array | readonly Uint8Array[]): number {
    // The journal's own copy (what a real journal writes), shared with the disk's view; or
    // the bytes where they are, when the record's head has room before its payload.
    const data = (parts instanceof Uint8Array ? undefined : this.inPlace?.(parts)) ??
      this.#slabs.copy(parts);
    const frames = this.#frameAppends;
    const pos = this.#append(stream, this.dropVoids ? withoutVoid(data) : data);
    const twice = this.appendTwiceAt;
    if (twice !== undefined && this.#frameAppends === twice && frames === twice - 1) {
      return this.#append(stream, data);
    }
    return pos;
  }

  /** The process crashed; with `loseTail`, what was not synced is lost. Returns records lost. */
  crash(loseTail: boolean): number {
    if (!loseTail) return 0;
    const lost = this.journal.crash();
    if (lost !== this.#watched.length - this.#durable) {
      throw new Error(
        `SimDisk lost ${lost} journal records but watched ${
          this.#watched.length - this.#durable
        } unsynced ones`,
      );
    }
    // The lost records are the tails of their streams' lists: drop them there.
    for (let i = this.#watched.length - 1; i >= this.#durable; i--) {
      const list = this.#byStream.get(this.#watched[i]!.stream)!;
      list.pop();
      if (list.length === 0) this.#byStream.delete(this.#watched[i]!.stream);
    }
    this.#watched.length = this.#durable;
    // Each stream's last source position is now that of the last frame its journal holds.
    this.#lastSrcPos.clear();
    for (const [stream, list] of this.#byStream) {
      const last = lastFrame(list, list.length);
      if (last > 0) this.#lastSrcPos.set(stream, last);
    }
    return lost;
  }

  /**
   * Damages record `pos` of `stream` between intact records (the `damage` fault): the journal's
   * reads pass over it. The disk's view, what the checks know, keeps what the record held (an
   * oracle's view: a replay of it is what the host applied). Returns whether it existed.
   */
  damage(stream: string, pos: number): boolean {
    return this.journal.damageRecord(stream, pos);
  }

  /** The position of the newest snapshot of `stream` saved through a handle (0: none). */
  snapshotPos(stream: string): number {
    return this.#snapshotPos.get(stream) ?? 0;
  }

  /**
   * Replaces the bytes of record `pos` of `stream` (a sabotage), in the journal and in the disk's
   * view: the bytes it had are left as they were (they may be shared).
   */
  replace(stream: string, pos: number, data: Uint8Array): void {
    this.journal.replace(stream, pos, data);
    const w = this.#byStream.get(stream)?.[pos - 1];
    if (w) w.data = data;
  }

  /**
   * The records of `stream` past `after`, as appended (synchronously, from the disk's own view,
   * which follows every append and every lost tail; `records` reads the journal itself).
   */
  watched(stream: string, after = 0): JournalRecord[] {
    const list = this.#byStream.get(stream) ?? [];
    // Positions are consecutive from 1, so the record at position p is at index p - 1.
    return list.slice(Math.max(0, Math.min(after, list.length)));
  }

  /**
   * The records of `stream` past `after`, in order, read from the journal; damaged ones with what
   * they held (what the checks replay: the host applied them before the damage).
   */
  records(stream: string, after = 0): Promise<JournalRecord[]> {
    return Promise.resolve(this.journal.recordsOf(stream, after, true));
  }

  #streamOf(stream: string): Watched[] {
    let list = this.#byStream.get(stream);
    if (!list) this.#byStream.set(stream, list = []);
    return list;
  }

  #append(stream: string, data: Uint8Array): number {
    // The record's kind and source position, read in place.
    const frame = inputRecordKind(data) === "frame";
    const srcPos = inputRecordSourcePosition(data);
    if (frame) {
      this.#frameAppends++;
      const last = this.#lastSrcPos.get(stream) ?? 0;
      this.#onFrame(stream, srcPos, last);
      if (srcPos > last) this.#lastSrcPos.set(stream, srcPos);
    } else if (inputRecordKind(data) === "void") {
      // The frames it voids were never applied: the stream's last is the last frame before them.
      const list = this.#byStream.get(stream) ?? [];
      this.#lastSrcPos.set(stream, lastFrame(list, list.length, data));
    }
    // Handed over as parts, so the journal keeps this copy instead of copying it again.
    const pos = this.journal.append(stream, [data]);
    const w: Watched = { stream, pos, data, srcPos, frame };
    this.#watched.push(w);
    const list = this.#streamOf(stream);
    if (list.length !== pos - 1) {
      throw new Error(
        `SimDisk saw ${stream} at ${list.length} records, the journal appended ${pos}`,
      );
    }
    list.push(w);
    return pos;
  }

  #sync() {
    void this.journal.sync();
    this.#durable = this.#watched.length;
  }
}
