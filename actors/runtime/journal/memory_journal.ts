/**
 * An in-memory Journal: for `troupe replay`, the simulator and hosts that need no durability. It
 * keeps the durable/volatile distinction of a real journal: `sync()` marks what is durable, and
 * `crash()` drops everything appended since, as a process crash before an fsync would, so the
 * simulator can inject lost journal tails.
 *
 * Records are kept in append order and indexed by stream, so that reading a stream's tail, a
 * recovery's `readAll` and a crash cost what they return or drop, not the whole journal (the
 * simulator reads and crashes journals of tens of thousands of records hundreds of times a run).
 */
import {
  joinJournalData,
  type Journal,
  type JournalDamage,
  type JournalData,
  type JournalRecord,
  type JournalStats,
} from "./journal.ts";

/** A stream's records (its positions are consecutive from 1) and where each is in append order. */
interface StreamRecords {
  records: JournalRecord[];
  /** The index in the journal's append order of each of `records`. */
  order: number[];
}

/** An in-memory journal. */
export class MemoryJournal implements Journal {
  readonly volatile = true;
  /** Every record, in append order. */
  #records: JournalRecord[] = [];
  #streams = new Map<string, StreamRecords>();
  #durable = 0;
  #bytes = 0;
  /** Records made unreadable (`damage`): reads pass over them, as over a damaged range. */
  readonly #damaged = new Set<JournalRecord>();
  readonly #damage: JournalDamage[] = [];

  append(stream: string, parts: JournalData): number {
    const joined = joinJournalData(parts);
    const data = joined === parts ? joined.slice() : joined;
    let s = this.#streams.get(stream);
    if (!s) this.#streams.set(stream, s = { records: [], order: [] });
    const pos = s.records.length + 1;
    const rec: JournalRecord = { stream, pos, data };
    s.records.push(rec);
    s.order.push(this.#records.length);
    this.#records.push(rec);
    this.#bytes += data.byteLength;
    return pos;
  }

  lastPosition(stream: string): number {
    return this.#streams.get(stream)?.records.length ?? 0;
  }

  streams(): string[] {
    return [...this.#streams.keys()];
  }

  read(stream: string, after = 0): AsyncIterable<JournalRecord> {
    // Positions are consecutive from 1: the record at position p is at index p - 1. Read as the
    // records are when each is asked for (one appended meanwhile is seen, one lost is not).
    let i = Math.max(0, after);
    return iterable(() => {
      for (;;) {
        const rec = this.#streams.get(stream)?.records[i++];
        if (rec === undefined || !this.#damaged.has(rec)) return rec;
      }
    });
  }

  /**
   * The records of `stream` with pos > after, in order, at once (what `read` yields; with
   * `damaged`, those `damageRecord` made unreadable too).
   */
  recordsOf(stream: string, after = 0, damaged = false): JournalRecord[] {
    const records = this.#streams.get(stream)?.records.slice(Math.max(0, after)) ?? [];
    if (damaged || this.#damaged.size === 0) return records;
    return records.filter((r) => !this.#damaged.has(r));
  }

  readAll(after?: ReadonlyMap<string, number>, unlisted = 0): AsyncIterable<JournalRecord> {
    // The records held now that some stream needs, by their index in append order: each stream's
    // from its snapshot on, merged. Not a scan from the first needed record, which reads every
    // record after it: a stream with no snapshot (a host's edge decisions) would make each
    // recovery read the whole journal.
    const held = this.#records.length;
    let needed: number[] = [];
    let streams = 0;
    for (const [stream, s] of this.#streams) {
      const from = Math.max(0, after?.get(stream) ?? unlisted);
      if (from >= s.order.length) continue;
      streams++;
      for (let j = from; j < s.order.length; j++) needed.push(s.order[j]!);
    }
    if (streams > 1) needed = Array.from(Float64Array.from(needed).sort());
    let k = 0;
    let i = held;
    const wanted = (rec: JournalRecord) =>
      rec.pos > (after?.get(rec.stream) ?? unlisted) && !this.#damaged.has(rec);
    // Read as the records are when each is asked for; those appended since the call after them.
    return iterable(() => {
      while (k < needed.length) {
        const rec = this.#records[needed[k++]!];
        if (rec === undefined) return rec;
        if (wanted(rec)) return rec;
      }
      for (;;) {
        const rec = this.#records[i++];
        if (rec === undefined || wanted(rec)) return rec;
      }
    });
  }

  /**
   * Replaces the bytes of the record at `pos` of `stream` (a corruption, for the simulator's
   * tests of its checks). The bytes it had are left as they were. Returns whether it exists.
   */
  replace(stream: string, pos: number, data: Uint8Array): boolean {
    const rec = this.#streams.get(stream)?.records[pos - 1];
    if (rec) rec.data = data;
    return rec !== undefined;
  }

  /**
   * Makes the record at `pos` of `stream` unreadable, as bytes damaged on disk between intact
   * records would (the simulator's mid-journal damage): reads pass over it, its position stays
   * used, and `damage()` reports it. Returns whether it exists.
   */
  damageRecord(stream: string, pos: number): boolean {
    const rec = this.#streams.get(stream)?.records[pos - 1];
    if (!rec || this.#damaged.has(rec)) return false;
    this.#damaged.add(rec);
    this.#damage.push({
      segment: `memory:${stream}`,
      offset: pos,
      bytes: rec.data.byteLength,
      reason: `record ${pos} of ${stream} damaged`,
    });
    return true;
  }

  /** The records made unreadable, oldest first. */
  damage(): readonly JournalDamage[] {
    return this.#damage;
  }

  sync(): Promise<void> {
    this.#durable = this.#records.length;
    return Promise.resolve();
  }

  /** Drops every record appended since the last `sync()`, as a crash before fsync would. */
  crash(): number {
    const lost = this.#records.length - this.#durable;
    // The lost records are the tails of their streams.
    for (let i = this.#records.length - 1; i >= this.#durable; i--) {
      const rec = this.#records[i]!;
      const s = this.#streams.get(rec.stream)!;
      s.records.pop();
      s.order.pop();
      this.#damaged.delete(rec);
      if (s.records.length === 0) this.#streams.delete(rec.stream);
      this.#bytes -= rec.data.byteLength;
    }
    this.#records.length = this.#durable;
    return lost;
  }

  stats(): JournalStats {
    return { bytes: this.#bytes, records: this.#records.length, truncatedBytes: 0 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The records `next` gives, one per call until it gives undefined, as an AsyncIterable. Each
 * `next()` is an already resolved promise: what an async generator yields, without its queue and
 * the promises it makes around every `yield`.
 */
function iterable(next: () => JournalRecord | undefined): AsyncIterable<JournalRecord> {
  const iterator: AsyncIterator<JournalRecord> = {
    next() {
      const value = next();
      return Promise.resolve(
        value === undefined ? { done: true, value: undefined } : { done: false, value },
      );
    },
    return() {
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
