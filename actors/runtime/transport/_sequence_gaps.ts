/**
 * Delivers a consumer's messages in stream order with none missing: what a consumer skipped (the
 * messages it sent while the client's connection moved to another server of a cluster are lost
 * on the way) is read from the stream, one message at a time, before what came after it. Reading
 * a message needs only the stream's leader, where making a new consumer from the gap needs the
 * JetStream meta leader too (nats.js's ordered consumer makes one at every gap, and so stalls
 * while the meta group elects a leader). Private to the stream follower (stream_follower.ts).
 */

import type { MsgHdrs } from "@nats-io/transport-node";

/** A message of the stream: its sequence, subject and body (and headers, where it has any). */
export interface SequencedMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs | undefined;
}

/** The most messages held while a gap is read. */
export const HELD_MAX = 100_000;

/** What the gaps are read from and delivered to. */
export interface SequenceGapsParts {
  /** The stream's first message at or after `seq`; null when it holds none. */
  read(seq: number): Promise<SequencedMessage | null>;
  deliver(m: SequencedMessage): void;
  /** A gap could not be read (or held too much): the caller starts again after `lastSeq`. */
  failed(err: unknown): void;
}

/** Orders one consumer's messages after `lastSeq`, reading what it skipped. */
export class SequenceGaps {
  readonly #parts: SequenceGapsParts;
  /** The last sequence delivered. */
  lastSeq: number;
  #held: SequencedMessage[] = [];
  #filling = false;
  #ended = false;

  constructor(lastSeq: number, parts: SequenceGapsParts) {
    this.lastSeq = lastSeq;
    this.#parts = parts;
  }

  /** Takes the consumer's next message. */
  push(m: SequencedMessage): void {
    if (this.#ended) return;
    if (this.#filling) {
      if (this.#held.length >= HELD_MAX) {
        this.end();
        this.#parts.failed(new RangeError(`more than ${HELD_MAX} messages held behind a gap`));
        return;
      }
      this.#held.push(m);
      return;
    }
    if (m.seq <= this.lastSeq) return; // already delivered
    if (m.seq === this.lastSeq + 1) {
      this.#deliver(m);
      return;
    }
    this.#filling = true;
    this.#held.push(m);
    this.#fill().catch((err) => {
      if (this.#ended) return;
      this.end();
      this.#parts.failed(err);
    });
  }

  /** Stops: nothing more is delivered (the consumer is replaced). */
  end(): void {
    this.#ended = true;
    this.#held = [];
  }

  #deliver(m: SequencedMessage): void {
    this.lastSeq = m.seq;
    this.#parts.deliver(m);
  }

  async #fill(): Promise<void> {
    while (this.#held.length > 0 && !this.#ended) {
      const next = this.#held.shift()!;
      while (this.lastSeq + 1 < next.seq && !this.#ended) {
        const m = await this.#parts.read(this.lastSeq + 1);
        if (this.#ended) return;
        // None before `next` (deleted, aged out: the consumer passed over them too).
        if (!m || m.seq >= next.seq) break;
        this.#deliver(m);
      }
      if (!this.#ended && next.seq > this.lastSeq) this.#deliver(next);
    }
    this.#filling = false;
  }
}
