/**
 * Publishing with JetStream acknowledgements, pipelined: up to `inFlightMax` messages wait for
 * their acknowledgement at once (so the rate holds over a round trip), and a message whose
 * acknowledgement does not come (a timeout, a lost connection, a server restarting) is sent again,
 * the same bytes under the same `Nats-Msg-Id`, so the stream keeps it once however many times it
 * was sent (within the stream's duplicate window). Counts say what the stream acknowledged, which is
 * what a producer may report as delivered: core NATS publishing is at most once.
 */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { describeError } from "./fatal_error.ts";

/** Options of a JetStreamPublisher. */
export interface JetStreamPublisherOptions {
  /** Messages awaiting their acknowledgement at most; `publish` waits for room. Default 512. */
  inFlightMax?: number;
  /** Milliseconds to wait for one acknowledgement before sending again. Default 5,000. */
  ackTimeoutMs?: number;
  /** Milliseconds between sends of an unacknowledged message. Default 250. */
  retryMs?: number;
  /** Wall-clock time (ms since the epoch) after which an unacknowledged message is given up. */
  deadlineMs?: number;
  /** Stops retrying (what is unacknowledged then is failed). */
  signal?: AbortSignal;
  /** Told of each failed attempt that will be retried. */
  onRetry?(err: unknown, msgId: string): void;
}

/** What a JetStreamPublisher's messages came to. */
export interface PublishCounts {
  /** Messages the stream acknowledged, and the sum of their weights (samples, say). */
  acked: number;
  ackedWeight: number;
  /** Acknowledgements that said the stream had the message already (a retry of a stored one). */
  duplicates: number;
  /** Sends repeated for want of an acknowledgement. */
  retries: number;
}

/** Publishes to JetStream, pipelined, retrying what is not acknowledged. */
export class JetStreamPublisher {
  readonly #js: JetStreamClient;
  readonly #inFlightMax: number;
  readonly #ackTimeoutMs: number;
  readonly #retryMs: number;
  readonly #deadlineMs: number;
  readonly #options: JetStreamPublisherOptions;
  /** Sends awaiting their acknowledgement, oldest first. */
  readonly #inFlight: Promise<void>[] = [];
  #head = 0;
  #failed: Error | undefined;
  readonly counts: PublishCounts = { acked: 0, ackedWeight: 0, duplicates: 0, retries: 0 };

  constructor(nc: NatsConnection, options: JetStreamPublisherOptions = {}) {
    this.#js = jetstream(nc);
    this.#options = options;
    this.#inFlightMax = options.inFlightMax ?? 512;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.#retryMs = options.retryMs ?? 250;
    this.#deadlineMs = options.deadlineMs ?? Infinity;
  }

  /**
   * Sends `data` on `subject` with `msgId` as its `Nats-Msg-Id`; resolves once it is in flight
   * (waiting for room when `inFlightMax` are), rejects when an earlier message was given up.
   */
  async publish(subject: string, data: Uint8Array, msgId: string, weight = 1): Promise<void> {
    while (this.#inFlight.length - this.#head >= this.#inFlightMax) {
      await this.#inFlight[this.#head];
      this.#head++;
    }
    if (this.#head > 4096) {
      this.#inFlight.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#failed) throw this.#failed;
    this.#inFlight.push(
      this.#send(subject, data, msgId, weight).catch((err) => {
        this.#failed ??= err as Error;
      }),
    );
  }

  /** Waits for every message in flight; rejects when one was given up. */
  async drain(): Promise<void> {
    while (this.#head < this.#inFlight.length) {
      await this.#inFlight[this.#head];
      this.#head++;
    }
    this.#inFlight.length = 0;
    this.#head = 0;
    if (this.#failed) throw this.#failed;
  }

  async #send(subject: string, data: Uint8Array, msgId: string, weight: number): Promise<void> {
    for (;;) {
      try {
        const ack = await this.#js.publish(subject, data, {
          msgID: msgId,
          timeout: this.#ackTimeoutMs,
        });
        this.counts.acked++;
        this.counts.ackedWeight += weight;
        if (ack.duplicate) this.counts.duplicates++;
        return;
      } catch (err) {
        if (this.#options.signal?.aborted || Date.now() >= this.#deadlineMs) {
          throw new Error(
            `Cannot publish ${msgId} on "${subject}": JetStream did not acknowledge it: ${
              describeError(err)
            }`,
            { cause: err },
          );
        }
        this.counts.retries++;
        this.#options.onRetry?.(err, msgId);
        await new Promise((r) => setTimeout(r, this.#retryMs));
      }
    }
  }
}
