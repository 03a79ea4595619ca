/**
 * The stream gateway's bounded buffer of recent messages, numbered with one monotonic seq from 1:
 * what a reconnecting client resumes from and a new dashboard backfills from. It holds at most
 * `messages_max` messages and `bytes_max` bytes (payload plus subject plus a fixed overhead per
 * entry), evicting the oldest first.
 */

/** One buffered message. */
export interface RingEntry {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** The bounds of a StreamRing. */
export interface StreamRingLimits {
  messages_max: number;
  bytes_max: number;
}

/** Bytes counted per entry beyond its payload and subject (the entry object, the array slot). */
export const RING_ENTRY_OVERHEAD_BYTES = 64;

/** A bounded ring of recent messages, by seq. */
export class StreamRing {
  readonly limits: StreamRingLimits;
  #slots: (RingEntry | undefined)[];
  /** Index of the oldest entry in #slots. */
  #head = 0;
  #size = 0;
  #bytes = 0;
  #latest = 0;

  constructor(limits: StreamRingLimits) {
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new RangeError(`StreamRing limit ${k} must be a positive integer, got ${v}`);
      }
    }
    this.limits = limits;
    this.#slots = new Array(limits.messages_max);
  }

  /** The seq of the last message pushed (0 before any). */
  get latest(): number {
    return this.#latest;
  }

  /** The seq of the oldest message held (latest + 1 when empty). */
  get oldest(): number {
    return this.#latest - this.#size + 1;
  }

  /** Messages held. */
  get size(): number {
    return this.#size;
  }

  /** Bytes held, as counted against `bytes_max`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Numbers and keeps a message (a copy of `data`, so a larger receive buffer is not retained). */
  push(subject: string, data: Uint8Array): RingEntry {
    const entry: RingEntry = { seq: ++this.#latest, subject, data: data.slice() };
    const cost = entryBytes(entry);
    while (
      this.#size > 0 &&
      (this.#size >= this.limits.messages_max || this.#bytes + cost > this.limits.bytes_max)
    ) {
      this.#evict();
    }
    const cap = this.limits.messages_max;
    this.#slots[(this.#head + this.#size) % cap] = entry;
    this.#size++;
    this.#bytes += cost;
    return entry;
  }

  /** The message numbered `seq`, if still held. */
  get(seq: number): RingEntry | undefined {
    if (seq < this.oldest || seq > this.#latest) return undefined;
    return this.#slots[(this.#head + (seq - this.oldest)) % this.limits.messages_max];
  }

  #evict(): void {
    const entry = this.#slots[this.#head]!;
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.limits.messages_max;
    this.#size--;
    this.#bytes -= entryBytes(entry);
  }
}

function entryBytes(e: RingEntry): number {
  return e.data.length + e.subject.length + RING_ENTRY_OVERHEAD_BYTES;
}
