/**
 * Feed input from JetStream: frames published on `troupe.feed.>` are kept by the stream
 * `TROUPE_FEED`, and a host reads them in order with an ephemeral consumer that starts just past
 * the highest stream sequence its journal holds. The journal is the acknowledgement: nothing the
 * stream stored is lost while the host is down, and after a crash the host resumes exactly where
 * its durable journal ends (instances ignore what they already applied, by stream sequence).
 *
 * A nats-server restart loses the consumer (it lives in the server's memory), and the
 * client on its own notices only after missed heartbeats, tens of seconds later. So as soon as the
 * connection comes back the input asks whether its consumer is still there, and if not opens a
 * new one just past the last sequence it delivered; and a watchdog does the same whenever the
 * stream holds messages past that sequence but none arrived for a while. While it is stalled so,
 * `health()` says so. Opening the stream and the consumer waits out a cluster's leader election
 * (jetstream_retry.ts).
 *
 * In a cluster, making a consumer needs the JetStream meta leader, so a consumer is kept where a
 * loss of the meta leader's node does not take it: one that nats-server placed on that node (it
 * places an ephemeral consumer on a random peer of the stream) is made again elsewhere; and one
 * that survived a reconnect (the host's server went, its consumer's did not) is kept, not made
 * again while the meta group may be electing (leader_placement.ts). Every `PLACEMENT_EVERY_MS` the
 * input looks again, and moves a consumer the meta leader has since come to share a node with.
 */
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection, nuid } from "@nats-io/transport-node";
import { type BusMessage, SUBJECT_ROOT } from "../../../protocol/mod.ts";
import type { InputSource } from "./input_source.ts";
import {
  CONSUMER_CREATE_TIMEOUT_MS,
  electionError,
  metaLeader,
  PLACEMENT_EVERY_MS,
  retryJetStream,
} from "../transport/mod.ts";
import { isStreamNotFound } from "../journal/jetstream/mod.ts";
import { type SequencedMessage, SequenceGaps } from "./_sequence_gaps.ts";

/** The stream that keeps feed frames. */
export const FEED_STREAM = "TROUPE_FEED";

/** Options of the feed stream. */
export interface FeedStreamOptions {
  stream?: string;
  /** How long frames are kept: 1 hour. */
  maxAgeMs?: number;
  /** How many bytes are kept at most: 1 GiB. */
  maxBytes?: number;
  /** Milliseconds without a delivery, while the stream holds more, before the consumer is
   *  opened again (and health reports the stall): 2,000. */
  stallMs?: number;
  /** The stream's replicas when it is created (`nats.replicas`): 1. */
  replicas?: number;
}

/** Creates the feed stream if it does not exist (waiting out a cluster's leader election). */
export function ensureFeedStream(nc: NatsConnection, options: FeedStreamOptions = {}) {
  const name = options.stream ?? FEED_STREAM;
  // Repeatable: adding a stream that exists with this configuration succeeds.
  return retryJetStream(`open the feed stream ${name}`, () => addFeedStream(nc, name, options), {
    repeatable: true,
  });
}

async function addFeedStream(nc: NatsConnection, name: string, options: FeedStreamOptions) {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(name);
  } catch (err) {
    // Only a stream that is not there is made: an info that timed out in an election, answered
    // by an add of this configuration, was refused against the stream at other replicas ("stream
    // name already in use with a different configuration") and the partition dropped.
    if (!isStreamNotFound(err)) throw err;
    await jsm.streams.add({
      name,
      subjects: [FEED_FILTER],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: (options.maxAgeMs ?? 3_600_000) * 1_000_000,
      max_bytes: options.maxBytes ?? 1 << 30,
      num_replicas: options.replicas ?? 1,
    });
  }
}

/** How often the watchdog looks, ms. */
const WATCH_MS = 500;
/** Consumers made again at most, per open, because they landed on the meta leader's node. */
const PLACEMENT_TRIES_MAX = 8;
/** How long the server keeps a consumer no one pulls from (its host went away), ms. */
const INACTIVE_MS = 5 * 60_000;
/** Every subject of the feed stream. */
const FEED_FILTER = `${SUBJECT_ROOT}.feed.>`;

/** An InputSource reading the feed stream with an ephemeral consumer, reopened when it stalls. */
export function jetStreamInput(nc: NatsConnection, options: FeedStreamOptions = {}): InputSource {
  return new JetStreamInput(nc, options);
}

class JetStreamInput implements InputSource {
  readonly #nc: NatsConnection;
  readonly #stream: string;
  readonly #options: FeedStreamOptions;
  readonly #stallMs: number;
  #deliver: (msg: BusMessage, srcPos: number) => void = () => {};
  #stopped = false;
  #messages: ConsumerMessages | undefined;
  #consumer: Consumer | undefined;
  /** The node the current consumer lives on (in a cluster), and when that was last looked at. */
  #node: string | undefined;
  #placedMs = Date.now();
  /** The current consumer's deliveries, in order, with what it skipped read from the stream. */
  #gaps: SequenceGaps | undefined;
  /** The stream sequence of the last message delivered. */
  #lastSeq = 0;
  #lastDeliveryMs = Date.now();
  #opening: Promise<void> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #checking = false;
  #jsm: JetStreamManager | undefined;
  /** Messages the stream holds past the last delivered, when last looked at. */
  #behind = 0;
  /** When the stall began, while one lasts. */
  #stalledSinceMs: number | undefined;

  constructor(nc: NatsConnection, options: FeedStreamOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#stream = options.stream ?? FEED_STREAM;
    this.#stallMs = options.stallMs ?? 2000;
  }

  async start(deliver: (msg: BusMessage, srcPos: number) => void, resumeAfter: number) {
    await ensureFeedStream(this.#nc, this.#options);
    this.#deliver = deliver;
    this.#lastSeq = resumeAfter;
    this.#lastDeliveryMs = Date.now();
    await retryJetStream(`open a consumer on ${this.#stream}`, () => this.#open(), {
      repeatable: true,
    });
    (async () => {
      for await (const s of this.#nc.status()) {
        if (this.#stopped) break;
        // A server's restart may have taken the consumer with it: then open another at once.
        if (s.type === "reconnect") void this.#reopenIfGone();
      }
    })().catch(() => {});
    this.#watchdog = setInterval(() => this.#watch(), WATCH_MS);
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  async stop() {
    this.#stopped = true;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    await this.#close();
  }

  /** The first sequence the stream still holds: where reading again what a journal lost starts. */
  async firstPosition(): Promise<number> {
    await ensureFeedStream(this.#nc, this.#options);
    const info = await retryJetStream(`read the feed stream ${this.#stream}`, async () => {
      const jsm = await jetstreamManager(this.#nc);
      return await jsm.streams.info(this.#stream);
    }, { repeatable: true });
    // An empty stream's first_seq is where its next message will go.
    return info.state.first_seq;
  }

  health(): string | undefined {
    if (this.#stalledSinceMs === undefined) return undefined;
    const forS = (Date.now() - this.#stalledSinceMs) / 1000;
    return `input stalled: ${this.#behind} messages pending in stream ${this.#stream} past ` +
      `sequence ${this.#lastSeq}, none delivered for ${forS.toFixed(1)} s`;
  }

  async #open(): Promise<void> {
    this.#jsm ??= await jetstreamManager(this.#nc, { timeout: 1000, checkAPI: false });
    const jsm = await jetstreamManager(this.#nc, {
      timeout: CONSUMER_CREATE_TIMEOUT_MS,
      checkAPI: false,
    });
    const start = this.#lastSeq;
    // Not nats.js's ordered consumer: that one is made again at every gap in its deliveries,
    // which needs the meta leader; this one's gaps are read from the stream (_sequence_gaps.ts).
    const make = () =>
      jsm.consumers.add(this.#stream, {
        name: `troupe_in_${nuid.next()}`,
        ack_policy: AckPolicy.None,
        ...(start > 0
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start + 1 }
          : { deliver_policy: DeliverPolicy.All }),
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: nanos(INACTIVE_MS),
      });
    let info = await make();
    const avoid = this.#nc.info?.cluster ? await metaLeader(this.#nc) : undefined;
    for (let i = 0; avoid !== undefined && i < PLACEMENT_TRIES_MAX; i++) {
      if (info.cluster?.leader !== avoid) break;
      jsm.consumers.delete(this.#stream, info.name).catch(() => {});
      info = await make();
    }
    if (this.#stopped) {
      jsm.consumers.delete(this.#stream, info.name).catch(() => {});
      return;
    }
    const js = jetstream(this.#nc, { timeout: CONSUMER_CREATE_TIMEOUT_MS });
    const consumer = await js.consumers.get(this.#stream, info.name);
    this.#consumer = consumer;
    this.#node = info.cluster?.leader;
    this.#placedMs = Date.now();
    const gaps = new SequenceGaps(start, {
      read: (seq) => this.#read(seq),
      deliver: (m) => this.#take(m),
      failed: () => {
        // Unreadable for the whole election budget: from a new consumer after the last one.
        if (this.#gaps === gaps) this.#reopen();
      },
    });
    this.#gaps = gaps;
    this.#messages = await consumer.consume({
      max_messages: 1000,
      // Bound: after a reconnect nats.js pulls again at once. Unbound, it first asks for the
      // consumer's info, which a cluster electing its meta leader refuses, and then waits up
      // to the pull's expiry (30 s) before it asks again; whether the consumer is still there
      // is this input's to find out (#reopenIfGone).
      bind: true,
      callback: (m) => gaps.push({ seq: m.seq, subject: m.subject, data: m.data }),
    });
  }

  /** The feed stream's first message at or after `seq`, from its leader (null: none). */
  async #read(seq: number): Promise<SequencedMessage | null> {
    const query = { seq, next_by_subj: FEED_FILTER };
    const m = await retryJetStream(
      `read ${this.#stream} at ${seq}`,
      () => this.#jsm!.streams.getMessage(this.#stream, query),
      { repeatable: true },
    );
    return m ? { seq: m.seq, subject: m.subject, data: m.data } : null;
  }

  /** Delivers a message of the feed, in order. */
  #take(m: SequencedMessage): void {
    this.#lastSeq = m.seq;
    this.#lastDeliveryMs = Date.now();
    this.#stalledSinceMs = undefined;
    try {
      this.#deliver(
        { subject: m.subject, data: m.data, headers: undefined, reply: undefined },
        m.seq,
      );
    } catch (err) {
      // A throwing callback would stop the consumer for good.
      console.error(`jetstream input: delivering ${m.seq} failed: ${(err as Error).message}`);
    }
  }

  /** After a reconnect: opens another consumer when the server no longer has this one. */
  async #reopenIfGone(): Promise<void> {
    const consumer = this.#consumer;
    if (this.#stopped || this.#opening || !consumer) return;
    try {
      await consumer.info();
    } catch (err) {
      // Refused while the meta leader is elected: the consumer is still there (its pulls are
      // answered meanwhile); the watchdog reopens it if nothing arrives.
      if (electionError(err) === "refused") return;
      // Not found (its server restarted), or its server is down: another one.
      if (this.#consumer === consumer) this.#reopen();
    }
  }

  /** Closes the consumer and opens another past the last delivered sequence. */
  #reopen(): void {
    if (this.#stopped || this.#opening) return;
    this.#opening = (async () => {
      await this.#close();
      for (let attempt = 0; !this.#stopped; attempt++) {
        try {
          await this.#open();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
        }
      }
    })().finally(() => (this.#opening = undefined));
  }

  async #close(): Promise<void> {
    const messages = this.#messages;
    this.#messages = undefined;
    this.#consumer = undefined;
    this.#gaps?.end();
    this.#gaps = undefined;
    if (!messages) return;
    // Closing asks the server; a server that went away would make it wait.
    await Promise.race([
      messages.close().catch(() => {}),
      new Promise((r) => setTimeout(r, 1000)),
    ]);
  }

  /** Makes the consumer again elsewhere when the meta leader moved to its node since. */
  async #replace(): Promise<void> {
    if (!this.#nc.info?.cluster || this.#opening || this.#node === undefined) return;
    if ((await metaLeader(this.#nc)) === this.#node) this.#reopen();
  }

  /** Reopens the consumer when the stream holds more but nothing arrived for a while. */
  async #watch(): Promise<void> {
    if (this.#stopped || this.#checking || this.#nc.isClosed()) return;
    if (Date.now() - this.#placedMs >= PLACEMENT_EVERY_MS) {
      this.#placedMs = Date.now();
      this.#checking = true;
      await this.#replace().finally(() => (this.#checking = false));
      return;
    }
    if (Date.now() - this.#lastDeliveryMs < this.#stallMs) return;
    this.#checking = true;
    try {
      this.#jsm ??= await jetstreamManager(this.#nc, { timeout: 1000, checkAPI: false });
      const info = await this.#jsm.streams.info(this.#stream);
      this.#behind = Math.max(0, info.state.last_seq - this.#lastSeq);
      if (this.#behind === 0) {
        // Idle, not stalled: look again in `stallMs`.
        this.#stalledSinceMs = undefined;
        this.#lastDeliveryMs = Date.now();
        return;
      }
      this.#stalledSinceMs ??= this.#lastDeliveryMs;
      this.#lastDeliveryMs = Date.now(); // give the new consumer its time
      this.#reopen();
    } catch {
      // Disconnected: the NATS check reports it; the reconnect reopens.
    } finally {
      this.#checking = false;
    }
  }
}
