/**
 * The journal and snapshot store of a replay host (in this process or in a replay worker thread):
 * in memory, and compacted behind each snapshot, so a long recording does not pile up in memory.
 */
import {
  type Journal,
  type JournalRecord,
  type JournalStats,
  MemorySnapshotStore,
  type Snapshot,
  type SnapshotStore,
} from "../../actors/runtime/mod.ts";

/**
 * The journal of a replay host: in memory, per stream, and compacted when a snapshot is saved, so
 * it holds at most the inputs since each instance's last snapshot. The host appends fresh buffers
 * it never reuses, so they are kept without a copy. A replay host starts from an empty journal, so
 * `readAll` (recovery) has nothing to order across streams.
 */
export class ReplayJournal implements Journal {
  #streams = new Map<string, { base: number; records: Uint8Array[] }>();
  #bytes = 0;
  #records = 0;

  append(stream: string, data: Uint8Array): number {
    let s = this.#streams.get(stream);
    if (!s) this.#streams.set(stream, s = { base: 0, records: [] });
    s.records.push(data);
    this.#bytes += data.byteLength;
    this.#records++;
    return s.base + s.records.length;
  }

  lastPosition(stream: string): number {
    const s = this.#streams.get(stream);
    return s ? s.base + s.records.length : 0;
  }

  streams(): string[] {
    return [...this.#streams.keys()];
  }

  async *read(stream: string, after = 0): AsyncIterable<JournalRecord> {
    const s = this.#streams.get(stream);
    if (!s) return;
    for (let i = Math.max(0, after - s.base); i < s.records.length; i++) {
      yield { stream, pos: s.base + i + 1, data: s.records[i]! };
    }
  }

  async *readAll(after?: ReadonlyMap<string, number>, unlisted = 0): AsyncIterable<JournalRecord> {
    for (const stream of this.#streams.keys()) {
      const from = after?.get(stream) ?? unlisted;
      if (from !== Infinity) yield* this.read(stream, from);
    }
  }

  /**
   * Starts `stream` at position `pos` with no record (before the host starts): the instance is
   * loaded from a snapshot at `pos`, taken live, whose journal is not here.
   */
  seat(stream: string, pos: number): void {
    this.#streams.set(stream, { base: pos, records: [] });
  }

  /** Forgets the records of `stream` up to `pos`: a snapshot holds their effect. */
  dropUpTo(stream: string, pos: number): void {
    const s = this.#streams.get(stream);
    if (!s || pos <= s.base) return;
    const n = Math.min(pos - s.base, s.records.length);
    for (let i = 0; i < n; i++) this.#bytes -= s.records[i]!.byteLength;
    s.records.splice(0, n);
    s.base += n;
    this.#records -= n;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  stats(): JournalStats {
    return { bytes: this.#bytes, records: this.#records, truncatedBytes: 0 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** An in-memory snapshot store that compacts the replay journal behind each snapshot it saves. */
export class CompactingSnapshots implements SnapshotStore {
  readonly #inner = new MemorySnapshotStore();
  readonly #journal: ReplayJournal;

  constructor(journal: ReplayJournal) {
    this.#journal = journal;
  }

  async save(snapshot: Snapshot): Promise<void> {
    await this.#inner.save(snapshot);
    this.#journal.dropUpTo(snapshot.stream, snapshot.pos);
  }

  load(stream: string): Promise<Snapshot | undefined> {
    return this.#inner.load(stream);
  }

  list(): Promise<string[]> {
    return this.#inner.list();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
