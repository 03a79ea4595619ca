/**
 * Reads a JetStream stream in order from a sequence on, live, through a loss of the cluster's
 * meta leader: the feed input, the findings stream's reader (the incident stage's journal) and a
 * key-value bucket's watch (the channel labels the alert sender reads) are each one.
 *
 * Not nats.js's ordered consumer: that one is made again at every gap in its deliveries, and
 * after a reconnect it first asks for its consumer's info, which a cluster electing its meta
 * leader refuses, and then waits up to its pull's expiry (30 s) before it asks again; a consumer
 * lost with its node it notices only after two missed heartbeats (30 s, 60 s for a push watch).
 * Both need the meta leader, so each waited out the election and then its backoff. Here a plain
 * ephemeral consumer is bound (after a reconnect it pulls again at once), what it skipped (the
 * messages sent while the client's connection moved to another server) is read from the stream's
 * leader (_sequence_gaps.ts), and it is made again, past the last sequence delivered, only when
 * it is gone: after a reconnect when its info says so, or when the stream holds more than was
 * delivered and nothing came for `stallMs`. A new consumer is tried again every 100 ms to 1 s
 * until it is made, so it waits out the election and no more.
 *
 * In a cluster, making a consumer needs the JetStream meta leader, so a consumer is kept where a
 * loss of the meta leader's node does not take it: one that nats-server placed on that node (it
 * places an ephemeral consumer on a random peer of the stream) is made again elsewhere; and one
 * that survived a reconnect (the client's server went, its consumer's did not) is kept, not made
 * again while the meta group may be electing (leader_placement.ts). Every `PLACEMENT_EVERY_MS` the
 * follower looks again, and moves a consumer the meta leader has since come to share a node with.
 */
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection, nuid } from "@nats-io/transport-node";
import { placeConsumer } from "./_consumer_placement.ts";
import { type SequencedMessage, SequenceGaps } from "./_sequence_gaps.ts";
import { CONSUMER_CREATE_TIMEOUT_MS, electionError, retryJetStream } from "./jetstream_retry.ts";
import { metaLeader, PLACEMENT_EVERY_MS } from "./leader_placement.ts";

export type { SequencedMessage } from "./_sequence_gaps.ts";

/** What a follower reads, and how it names its consumers. */
export interface StreamFollowerOptions {
  stream: string;
  /**
   * The stream's subjects, all of them (a gap is read as the first message of these after it;
   * the stream's last sequence says whether the follower is behind).
   */
  filter: string;
  /** The start of the consumers' names (`<prefix>_<nuid>`). */
  consumerPrefix: string;
  /**
   * Milliseconds without a delivery, while the stream holds more, before the consumer is made
   * again (and health reports the stall): 2,000.
   */
  stallMs?: number;
  /** Messages asked for at once: 1,000 (unless `maxBytes` bounds the pulls instead). */
  maxMessages?: number;
  /**
   * Bytes asked for at once, in place of a count of messages. What a pull brings is handled
   * before the server's answer to a ping that came after it, so a reader that is slow per byte
   * (the feed: a host's step of every sample) bounds its pulls by bytes to keep its connection
   * from going stale (edge/jetstream_input.ts). At least twice the largest message.
   */
  maxBytes?: number;
}

/** How often the watchdog looks, ms. */
const WATCH_MS = 500;
/**
 * Consumers made at once in a cluster, the first placed well kept (_consumer_placement.ts): after a
 * node's loss a third of single creates landed on it and waited out their timeout.
 */
const PLACEMENTS_AT_ONCE = 3;
/** Consumers made again at most, per open, because they landed on the meta leader's node. */
const PLACEMENT_TRIES_MAX = 8;
/** How long the server keeps a consumer no one pulls from (its reader went away), ms. */
const INACTIVE_MS = 5 * 60_000;
/** How long closing a consumer waits on each of its server's answers, ms. */
const CLOSE_WAIT_MS = 1000;
/** The wait before a new consumer is tried again: from this, doubling, ms. */
const REOPEN_BACKOFF_MS_MIN = 100;
/** ... up to this, ms (a meta election is seconds: tried again within a second of its end). */
const REOPEN_BACKOFF_MS_MAX = 1000;

/** Follows a stream with an ephemeral consumer, made again when it is gone or stalls. */
export class StreamFollower {
  readonly #nc: NatsConnection;
  readonly #options: Required<Omit<StreamFollowerOptions, "maxBytes">> & { maxBytes?: number };
  #deliver: (m: SequencedMessage) => void = () => {};
  #stopped = false;
  #messages: ConsumerMessages | undefined;
  #consumer: Consumer | undefined;
  #consumerName = "";
  /** The node the current consumer lives on (in a cluster), and when that was last looked at. */
  #node: string | undefined;
  /** The server the connection is on, as last told (the one lost, at a reconnect). */
  #server: string | undefined;
  /** False from a disconnect until the reconnect: what the server is asked then waits for it. */
  #connected = true;
  #placedMs = Date.now();
  /** The current consumer's deliveries, in order, with what it skipped read from the stream. */
  #gaps: SequenceGaps | undefined;
  /** The stream sequence of the last message delivered. */
  #lastSeq = 0;
  #lastDeliveryMs = Date.now();
  #opening: Promise<void> | undefined;
  /** Resolves once the consumers the last open made and did not keep are deleted. */
  #dropping: Promise<void> = Promise.resolve();
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #checking = false;
  #jsm: JetStreamManager | undefined;
  /** Messages the stream holds past the last delivered, when last looked at. */
  #behind = 0;
  /** When the stall began, while one lasts. */
  #stalledSinceMs: number | undefined;

  constructor(nc: NatsConnection, options: StreamFollowerOptions) {
    this.#nc = nc;
    this.#options = { stallMs: 2000, maxMessages: 1000, ...options };
  }

  /** The stream sequence of the last message delivered. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Delivers the stream's messages after sequence `after`, in order, until stopped; resolves once
   * the first consumer is made (waiting out a cluster's leader election).
   */
  async start(deliver: (m: SequencedMessage) => void, after: number): Promise<void> {
    this.#deliver = deliver;
    this.#lastSeq = after;
    this.#lastDeliveryMs = Date.now();
    await retryJetStream(`open a consumer on ${this.#options.stream}`, () => this.#open(), {
      repeatable: true,
    });
    // Once started, the stream holds this follower's one consumer.
    await this.#dropping;
    this.#server = this.#nc.info?.server_name;
    (async () => {
      for await (const s of this.#nc.status()) {
        if (this.#stopped) break;
        if (s.type === "disconnect") this.#connected = false;
        if (s.type !== "reconnect") continue;
        this.#connected = true;
        const lost = this.#server;
        this.#server = this.#nc.info?.server_name;
        // A server's restart may have taken the consumer with it: then open another at once.
        void this.#reopenIfGone(lost);
      }
    })().catch(() => {});
    this.#watchdog = setInterval(() => this.#watch(), WATCH_MS);
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    await this.#close();
  }

  /** Undefined while it keeps up; else how long it has stood still with messages pending. */
  health(): string | undefined {
    if (this.#stalledSinceMs === undefined) return undefined;
    const forS = (Date.now() - this.#stalledSinceMs) / 1000;
    return `${this.#behind} messages pending in stream ${this.#options.stream} past sequence ` +
      `${this.#lastSeq}, none delivered for ${forS.toFixed(1)} s`;
  }

  async #open(): Promise<void> {
    this.#jsm ??= await jetstreamManager(this.#nc, { timeout: 1000, checkAPI: false });
    const jsm = await jetstreamManager(this.#nc, {
      timeout: CONSUMER_CREATE_TIMEOUT_MS,
      checkAPI: false,
    });
    const { stream } = this.#options;
    const start = this.#lastSeq;
    const make = () =>
      jsm.consumers.add(stream, {
        name: `${this.#options.consumerPrefix}_${nuid.next()}`,
        ack_policy: AckPolicy.None,
        ...(start > 0
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start + 1 }
          : { deliver_policy: DeliverPolicy.All }),
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: nanos(INACTIVE_MS),
      });
    const clustered = this.#nc.info?.cluster !== undefined;
    const avoid = clustered ? await metaLeader(this.#nc) : undefined;
    const drop = (name: string) => jsm.consumers.delete(stream, name).then(() => {}, () => {});
    const place = () =>
      placeConsumer(make, { count: clustered ? PLACEMENTS_AT_ONCE : 1, avoid, drop });
    let placed = await place();
    const dropped = [placed.rest];
    for (let i = 0; avoid !== undefined && i < PLACEMENT_TRIES_MAX; i++) {
      if (placed.info.cluster?.leader !== avoid) break;
      dropped.push(drop(placed.info.name));
      placed = await place();
      dropped.push(placed.rest);
    }
    this.#dropping = Promise.all(dropped).then(() => {});
    const info = placed.info;
    if (this.#stopped) {
      jsm.consumers.delete(stream, info.name).catch(() => {});
      return;
    }
    const js = jetstream(this.#nc, { timeout: CONSUMER_CREATE_TIMEOUT_MS });
    const consumer = await js.consumers.get(stream, info.name);
    this.#consumer = consumer;
    this.#consumerName = info.name;
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
    const { maxBytes, maxMessages } = this.#options;
    this.#messages = await consumer.consume({
      ...(maxBytes === undefined ? { max_messages: maxMessages } : { max_bytes: maxBytes }),
      // Bound: after a reconnect nats.js pulls again at once (see the module's comment).
      bind: true,
      callback: (m) =>
        gaps.push({ seq: m.seq, subject: m.subject, data: m.data, headers: m.headers }),
    });
  }

  /** The stream's first message of the filter at or after `seq`, from its leader (null: none). */
  async #read(seq: number): Promise<SequencedMessage | null> {
    const query = { seq, next_by_subj: this.#options.filter };
    const m = await retryJetStream(
      `read ${this.#options.stream} at ${seq}`,
      () => this.#jsm!.streams.getMessage(this.#options.stream, query),
      { repeatable: true },
    );
    return m ? { seq: m.seq, subject: m.subject, data: m.data, headers: m.header } : null;
  }

  /** Delivers a message of the stream, in order. */
  #take(m: SequencedMessage): void {
    this.#lastSeq = m.seq;
    this.#lastDeliveryMs = Date.now();
    this.#stalledSinceMs = undefined;
    try {
      this.#deliver(m);
    } catch (err) {
      // A throwing callback would stop the consumer for good.
      console.error(
        `stream ${this.#options.stream}: delivering ${m.seq} failed: ${(err as Error).message}`,
      );
    }
  }

  /**
   * After a reconnect from server `lost`: opens another consumer when the server no longer has
   * this one. One that lived on `lost` is gone with it (it is kept in memory, on one node). One
   * elsewhere whose info is refused or unanswered is kept: a cluster electing its meta leader
   * does either, while the consumer's own node answers its pulls, and a consumer made now would
   * wait for the election; if it is gone after all, the watchdog finds it stalled.
   */
  async #reopenIfGone(lost: string | undefined): Promise<void> {
    const consumer = this.#consumer;
    if (this.#stopped || this.#opening || !consumer) return;
    if (this.#node !== undefined && this.#node === lost) {
      this.#reopen();
      return;
    }
    try {
      await consumer.info();
    } catch (err) {
      if (electionError(err) !== undefined && this.#node !== undefined) return;
      // Not found (its server restarted): another one.
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
          const ms = Math.min(REOPEN_BACKOFF_MS_MAX, REOPEN_BACKOFF_MS_MIN * 2 ** attempt);
          await new Promise((r) => setTimeout(r, ms));
        }
      }
    })().finally(() => (this.#opening = undefined));
  }

  async #close(): Promise<void> {
    const messages = this.#messages;
    const name = this.#consumer === undefined ? undefined : this.#consumerName;
    this.#messages = undefined;
    this.#consumer = undefined;
    this.#gaps?.end();
    this.#gaps = undefined;
    if (!messages) return;
    // Closing asks the server; a server that went away would make it wait, and one the
    // connection is not on now cannot answer (its consumer goes with it or at its threshold).
    const closing = messages.close().catch(() => {});
    if (!this.#connected || this.#nc.isClosed()) return;
    await within(closing, CLOSE_WAIT_MS);
    // A consumer left behind is kept by the server until its inactivity threshold: every
    // partition a host gives up, every reopen, would leave one on the stream for minutes. Its
    // server may be gone (then so is the consumer, or the threshold ends it): best effort.
    if (name !== undefined && this.#jsm !== undefined && !this.#nc.isClosed()) {
      await within(this.#jsm.consumers.delete(this.#options.stream, name), CLOSE_WAIT_MS);
    }
  }

  /**
   * Makes the consumer again elsewhere when the meta leader moved to its node since, unless a
   * replica of the stream is down or behind (a node lost, not back): the move stops deliveries
   * while the consumer is made again, and buys nothing then, since a second node's loss would
   * leave no quorum (as the data leaders are kept, leader_placement.ts).
   */
  async #replace(): Promise<void> {
    if (!this.#nc.info?.cluster || this.#opening || this.#node === undefined) return;
    if ((await metaLeader(this.#nc)) !== this.#node) return;
    this.#jsm ??= await jetstreamManager(this.#nc, { timeout: 1000, checkAPI: false });
    const info = await this.#jsm.streams.info(this.#options.stream).catch(() => undefined);
    if (!info || info.cluster?.replicas?.some((r) => r.offline || !r.current)) return;
    this.#reopen();
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
    if (Date.now() - this.#lastDeliveryMs < this.#options.stallMs) return;
    this.#checking = true;
    try {
      this.#jsm ??= await jetstreamManager(this.#nc, { timeout: 1000, checkAPI: false });
      const info = await this.#jsm.streams.info(this.#options.stream);
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
      // Disconnected: the reconnect reopens.
    } finally {
      this.#checking = false;
    }
  }
}

/** Waits for `p` (its failure ignored) at most `ms`, leaving no timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise<void>((r) => (timer = setTimeout(r, ms))),
  ]).finally(() => clearTimeout(timer));
}
