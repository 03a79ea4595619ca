/**
 * An in-memory Journal: for `troupe replay`, the simulator and hosts that need no durability. It
 * keeps the durable/volatile distinction of a real journal: `sync()` marks what is durable, and
 * `crash()` drops everything appended since, as a process crash before an fsync would, so the
 * simulator can inject lost journal tails.
 */
import {
  joinJournalData,
  type Journal,
  type JournalData,
  type JournalRecord,
  type JournalStats,
} from "./journal.ts";

/** An in-memory journal. */
export class MemoryJournal implements Journal {
  #records: JournalRecord[] = [];
  #last = new Map<string, number>();
  #durable = 0;
  #bytes = 0;

  append(stream: string, parts: JournalData): number {
    const joined = joinJournalData(parts);
    const data = joined === parts ? joined.slice() : joined;
    const pos = (this.#last.get(stream) ?? 0) + 1;
    this.#last.set(stream, pos);
    this.#records.push({ stream, pos, data });
    this.#bytes += data.byteLength;
    return pos;
  }

  lastPosition(stream: string): number {
    return this.#last.get(stream) ?? 0;
  }

  streams(): string[] {
    return [...this.#last.keys()];
  }

  async *read(stream: string, after = 0): AsyncIterable<JournalRecord> {
    for (const rec of this.#records) if (rec.stream === stream && rec.pos > after) yield rec;
  }

  async *readAll(after?: ReadonlyMap<string, number>): AsyncIterable<JournalRecord> {
    for (const rec of this.#records) if (rec.pos > (after?.get(rec.stream) ?? 0)) yield rec;
  }

  sync(): Promise<void> {
    this.#durable = this.#records.length;
    return Promise.resolve();
  }

  /** Drops every record appended since the last `sync()`, as a crash before fsync would. */
  crash(): number {
    const lost = this.#records.length - this.#durable;
    this.#records.length = this.#durable;
    this.#last.clear();
    this.#bytes = 0;
    for (const rec of this.#records) {
      this.#last.set(rec.stream, rec.pos);
      this.#bytes += rec.data.byteLength;
    }
    return lost;
  }

  stats(): JournalStats {
    return { bytes: this.#bytes, records: this.#records.length, truncatedBytes: 0 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
