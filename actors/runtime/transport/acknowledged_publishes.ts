/**
 * Publishes that a stream must keep, for a bus whose publish returns at once: each is queued and
 * sent through a JetStreamPublisher, which resends it under the same `Nats-Msg-Id` until the
 * stream acknowledges it (the stream keeps one of each within its duplicate window). A plain core
 * NATS publish is at most once: one written to a server that then dies, or to a stream whose
 * leader is being elected, is gone, and nothing sends it again (a host publishes an output once).
 * A host's findings go this way (a leased cluster's findings stream is its incident stage's
 * journal), so that losing a NATS node loses none.
 *
 * The queue is bounded (`queuedMax`): past it the newest is refused, counted and said, so that a
 * stream that never answers costs a bounded memory, not the host.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { describeError } from "../operations/mod.ts";
import { JetStreamPublisher } from "./jetstream_publisher.ts";

/** Options of AcknowledgedPublishes. */
export interface AcknowledgedPublishesOptions {
  /** Messages queued or awaiting their acknowledgement at most. Default 10,000. */
  queuedMax?: number;
  /** Where a refused message and a failure are said. Default: standard error. */
  log?: (message: string) => void;
}

/** What the queue came to. */
export interface AcknowledgedCounts {
  /** Messages the stream acknowledged. */
  acked: number;
  /** Sends repeated for want of an acknowledgement. */
  retries: number;
  /** Messages refused because the queue was full. */
  refused: number;
  /** Messages queued or in flight now. */
  waiting: number;
}

/** A message waiting for its turn. */
interface Queued {
  subject: string;
  data: Uint8Array;
  msgId: string;
}

/** How long close() waits for what is queued to be acknowledged, ms. */
export const ACKNOWLEDGED_CLOSE_MS = 5_000;

/** A queue of publishes a stream must acknowledge (see the module's note). */
export class AcknowledgedPublishes {
  readonly #publisher: JetStreamPublisher;
  readonly #queuedMax: number;
  readonly #log: (message: string) => void;
  readonly #abort = new AbortController();
  #queue: Queued[] = [];
  #head = 0;
  #pumping: Promise<void> | undefined;
  #refused = 0;
  /** Messages handed to the publisher. */
  #sent = 0;
  #closed = false;

  constructor(nc: NatsConnection, options: AcknowledgedPublishesOptions = {}) {
    const queuedMax = options.queuedMax ?? 10_000;
    if (!(Number.isSafeInteger(queuedMax) && queuedMax > 0)) {
      throw new RangeError(`queuedMax must be a whole number above 0, got ${queuedMax}`);
    }
    this.#queuedMax = queuedMax;
    this.#log = options.log ?? ((m) => console.error(m));
    this.#publisher = new JetStreamPublisher(nc, {
      inFlightMax: Math.min(512, queuedMax),
      signal: this.#abort.signal,
    });
  }

  /** What the queue came to so far. */
  get counts(): AcknowledgedCounts {
    const c = this.#publisher.counts;
    return {
      acked: c.acked,
      retries: c.retries,
      refused: this.#refused,
      waiting: this.#waiting(),
    };
  }

  /**
   * Queues `data` for `subject` under `msgId` (copied: the caller may reuse its buffer). Refused,
   * counted and said when `queuedMax` wait already, or once closed.
   */
  add(subject: string, data: Uint8Array, msgId: string): void {
    if (this.#closed || this.#waiting() >= this.#queuedMax) {
      if (this.#refused++ % 1000 === 0) {
        this.#log(
          `not published on "${subject}" (${msgId}): ${
            this.#closed
              ? "the connection is closing"
              : `${this.#queuedMax} messages already wait for the stream's acknowledgement`
          } (${this.#refused} refused so far)`,
        );
      }
      return;
    }
    this.#queue.push({ subject, data: data.slice(), msgId });
    this.#pumping ??= this.#pump();
  }

  /**
   * Waits up to `ms` for everything queued to be acknowledged, then stops resending: resolves
   * with how many were still unacknowledged (0 when all were; more are said in the log).
   */
  async close(ms = ACKNOWLEDGED_CLOSE_MS): Promise<number> {
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)));
    const done = (async () => {
      await this.#pumping;
      await this.#publisher.drain();
    })().catch(() => {});
    await Promise.race([done, timeout]);
    clearTimeout(timer);
    const left = this.#waiting();
    if (left > 0) {
      this.#log(`${left} messages not acknowledged by their stream within ${ms} ms of closing`);
    }
    this.#abort.abort();
    this.#publisher.close();
    return left;
  }

  /** Messages queued or in flight. */
  #waiting(): number {
    const c = this.#publisher.counts;
    return this.#queue.length - this.#head + (this.#sent - c.acked);
  }

  /**
   * Hands the queue to the publisher in order, waiting for room as it does (what is added
   * meanwhile is taken by the same loop; the next `add` after it ends starts another).
   */
  async #pump(): Promise<void> {
    try {
      while (this.#head < this.#queue.length) {
        const m = this.#queue[this.#head]!;
        await this.#publisher.publish(m.subject, m.data, m.msgId);
        this.#queue[this.#head++] = undefined as unknown as Queued;
        this.#sent++;
        if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
      }
    } catch (err) {
      // Only once closed: the publisher gives up when aborted.
      if (!this.#closed) this.#log(`acknowledged publishing stopped: ${describeError(err)}`);
    } finally {
      this.#pumping = undefined;
    }
  }
}
