/**
 * Feed input from JetStream: frames published on `troupe.feed.>` are kept by the stream
 * `TROUPE_FEED`, and a host reads them in order with an ephemeral consumer that starts just past
 * the highest stream sequence its journal holds. The journal is the acknowledgement: nothing the
 * stream stored is lost while the host is down, and after a crash the host resumes exactly where
 * its durable journal ends (instances ignore what they already applied, by stream sequence).
 *
 * The stream is read through a loss of a server or of the cluster's meta leader as every stream
 * troupe follows is (stream_follower.ts): a consumer lost with its server is made again just past
 * the last sequence delivered, as soon as the connection comes back or when the stream holds
 * messages past that sequence but none arrived for a while (while it is stalled so, `health()`
 * says so), and is kept off the meta leader's node. Opening the stream and the consumer waits out
 * a cluster's leader election (jetstream_retry.ts).
 */
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type BusMessage, SUBJECT_ROOT } from "../../../protocol/mod.ts";
import type { InputSource } from "./input_source.ts";
import { retryJetStream, StreamFollower } from "../transport/mod.ts";
import { isStreamNotFound } from "../journal/jetstream/mod.ts";

/** The stream that keeps feed frames. */
export const FEED_STREAM = "TROUPE_FEED";
/** How long the feed stream keeps a frame unless told: an hour. */
const FEED_MAX_AGE_MS = 3_600_000;
/** How many bytes the feed stream keeps unless told: 1 GiB. */
const FEED_MAX_BYTES = 1 << 30;

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
  let info;
  try {
    info = await jsm.streams.info(name);
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
      max_age: (options.maxAgeMs ?? FEED_MAX_AGE_MS) * 1_000_000,
      max_bytes: options.maxBytes ?? FEED_MAX_BYTES,
      num_replicas: options.replicas ?? 1,
    });
    return;
  }
  // Limits given are the operator's: a stream made before with others takes them (the last
  // process to start with a setting wins, so every host and receiver should carry the same).
  const max_age = options.maxAgeMs === undefined
    ? info.config.max_age
    : options.maxAgeMs * 1_000_000;
  const max_bytes = options.maxBytes ?? info.config.max_bytes;
  if (info.config.max_age !== max_age || info.config.max_bytes !== max_bytes) {
    await jsm.streams.update(name, { ...info.config, max_age, max_bytes });
  }
}

/** Every subject of the feed stream. */
const FEED_FILTER = `${SUBJECT_ROOT}.feed.>`;

/**
 * The bytes of feed a host pulls at once, at least. A host steps each sample as its message is
 * delivered, on its main thread, and the server's answer to the connection's ping waits in the
 * socket behind what was pulled before it: nats.js calls a connection stale, and makes it again,
 * once 2 pings (`maxPingOut`) a ping interval apart (10 s, transport/nats_bus.ts) go unanswered.
 * So a pull must be well under 20 s of steps. Counted in messages it is not bounded in time: a
 * remote-write batch is 2,000 series (60 to 100 bytes a sample), a market message a few samples.
 * In bytes it is: 2 MiB is a few seconds of steps at a host's cost a sample
 * (docs/channel_cost.md), and still thousands of small messages a pull.
 */
export const FEED_PULL_BYTES_MIN = 2 << 20;

/**
 * The bytes a feed pull asks for: `FEED_PULL_BYTES_MIN`, or twice the server's largest message
 * when that is more (a pull that cannot hold a message never delivers it).
 */
export function feedPullBytes(maxPayload: number | undefined): number {
  return Math.max(FEED_PULL_BYTES_MIN, 2 * (maxPayload ?? 0));
}

/** An InputSource reading the feed stream with an ephemeral consumer, reopened when it stalls. */
export function jetStreamInput(nc: NatsConnection, options: FeedStreamOptions = {}): InputSource {
  return new JetStreamInput(nc, options);
}

class JetStreamInput implements InputSource {
  readonly #nc: NatsConnection;
  readonly #stream: string;
  readonly #options: FeedStreamOptions;
  readonly #follower: StreamFollower;

  constructor(nc: NatsConnection, options: FeedStreamOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#stream = options.stream ?? FEED_STREAM;
    this.#follower = new StreamFollower(nc, {
      stream: this.#stream,
      filter: FEED_FILTER,
      consumerPrefix: "troupe_in",
      stallMs: options.stallMs ?? 2000,
      maxBytes: feedPullBytes(nc.info?.max_payload),
    });
  }

  async start(deliver: (msg: BusMessage, srcPos: number) => void, resumeAfter: number) {
    await ensureFeedStream(this.#nc, this.#options);
    await this.#follower.start(
      (m) =>
        deliver({ subject: m.subject, data: m.data, headers: undefined, reply: undefined }, m.seq),
      resumeAfter,
    );
  }

  stop(): Promise<void> {
    return this.#follower.stop();
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

  /** The last sequence the stream holds now (one read, no retry: a state capture waits on it). */
  async lastPosition(): Promise<number> {
    // As the follower's own look at the stream: no API check, which needs more permissions.
    const jsm = await jetstreamManager(this.#nc, { timeout: 2000, checkAPI: false });
    return (await jsm.streams.info(this.#stream)).state.last_seq;
  }

  delivered(): number {
    return this.#follower.lastSeq;
  }

  health(): string | undefined {
    const stalled = this.#follower.health();
    return stalled === undefined ? undefined : `input stalled: ${stalled}`;
  }
}
