/**
 * Where channels' source labels are kept between the metrics receiver, which writes a channel's
 * labels when it admits the channel, and the alert sender, which reads them for the channel's
 * alerts (protocol/prometheus/channel_labels.ts). On NATS it is the JetStream key-value bucket
 * `troupe_channel_labels`, durable (file storage) and bounded in bytes; the reader watches it, so
 * a lookup is a map read and the sender, which builds alerts synchronously, never waits. On the
 * in-process bus of a lone `troupe up` the receiver and the sender share one map per bus (nothing
 * there outlives the process anyway).
 */
import { type KV, Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Bus } from "../../protocol/mod.ts";
import {
  CHANNEL_LABELS_BUCKET,
  CHANNEL_LABELS_BUCKET_BYTES,
  channelLabelsKey,
  decodeChannelLabels,
  encodeChannelLabels,
  type Label,
} from "../../protocol/prometheus/mod.ts";
import { NatsBus } from "../runtime/mod.ts";
import { retryJetStream, streamAckOf, StreamFollower } from "../runtime/transport/mod.ts";

/** Channels whose labels a reader keeps, at most (the oldest are forgotten first). */
export const CHANNEL_LABELS_KEPT_MAX = 100_000;
/** The longest a reader waits for the bucket's values when it opens, ms. */
const LOAD_MS_MAX = 5_000;

/** Channels' source labels, written by the receiver and read by the alert sender. */
export interface ChannelLabelsBook {
  /** Stores `channel`'s labels; resolves once they are stored (durably, on NATS). */
  put(channel: string, labels: readonly Label[]): Promise<void>;
  /** The labels known for `channel` (those stored before the reader opened, and since). */
  get(channel: string): readonly Label[] | undefined;
  /** Every channel known and its labels: the record of the channels receivers admitted. */
  entries(): Iterable<[string, readonly Label[]]>;
  /**
   * Calls `listener` with each channel whose labels this reader learns from now on (a value
   * another process wrote, once the watch brings it) until the book closes.
   */
  onLabels(listener: (channel: string) => void): void;
  /**
   * Asks the store itself for `channels`' labels, which the watch may not have brought yet (a
   * receiver stores a channel's labels before it journals the channel's samples, so what the
   * store lacks then is a channel without labels): those found are kept and told as the watch's
   * are. Resolves when every answer came (a lookup that fails is left to the watch).
   */
  ask(channels: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Milliseconds a put waits for the bucket's acknowledgement (nats.js's JetStream default). */
const LABELS_PUT_TIMEOUT_MS = 5_000;

/** Lookups one `ask` keeps in flight at once. */
const ASKS_IN_FLIGHT_MAX = 32;

/** A map bounded to CHANNEL_LABELS_KEPT_MAX entries. */
class LabelsMap {
  readonly map = new Map<string, readonly Label[]>();
  readonly listeners = new Set<(channel: string) => void>();
  set(channel: string, labels: readonly Label[]): void {
    this.map.delete(channel);
    this.map.set(channel, labels);
    if (this.map.size > CHANNEL_LABELS_KEPT_MAX) this.map.delete(this.map.keys().next().value!);
    for (const listener of this.listeners) listener(channel);
  }
}

const shared = new WeakMap<Bus, LabelsMap>();

/**
 * The book on `bus`: the bucket on NATS (its values loaded and then watched when `read` is true;
 * loaded once when it is "start", as a receiver reads the channels admitted before it started),
 * one map per bus otherwise. `replicas` applies when the bucket is created.
 */
export async function openChannelLabels(
  bus: Bus,
  options: { read: boolean | "start"; replicas?: number },
): Promise<ChannelLabelsBook> {
  if (!(bus instanceof NatsBus)) {
    let m = shared.get(bus);
    if (!m) shared.set(bus, m = new LabelsMap());
    const map = m;
    const mine = new Set<(channel: string) => void>();
    return {
      put: (channel, labels) => Promise.resolve(map.set(channelLabelsKey(channel), [...labels])),
      get: (channel) => map.map.get(channel),
      entries: () => map.map.entries(),
      onLabels: (listener) => {
        mine.add(listener);
        map.listeners.add(listener);
      },
      // One map for writers and readers: nothing is on its way.
      ask: () => Promise.resolve(),
      close: () => {
        for (const listener of mine) map.listeners.delete(listener);
        return Promise.resolve();
      },
    };
  }
  const kv = await retryJetStream(`open the channel labels bucket ${CHANNEL_LABELS_BUCKET}`, () =>
    // Repeatable: creating a bucket that exists with these settings opens it.
    new Kvm(bus.nc).create(CHANNEL_LABELS_BUCKET, {
      history: 1,
      max_bytes: CHANNEL_LABELS_BUCKET_BYTES,
      replicas: options.replicas ?? 1,
    }));
  const map = new LabelsMap();
  let stop = () => Promise.resolve();
  if (options.read !== false) stop = await watch(bus.nc, kv, map);
  if (options.read === "start") {
    await stop();
    stop = () => Promise.resolve();
  }
  return {
    async put(channel, labels) {
      // What `kv.put` sends, through the bus's requests rather than nats.js's (inbox_requests.ts).
      const answer = await bus.request(
        `$KV.${CHANNEL_LABELS_BUCKET}.${channelLabelsKey(channel)}`,
        encodeChannelLabels({ channel, labels: [...labels] }),
        { timeout: LABELS_PUT_TIMEOUT_MS },
      );
      streamAckOf(answer.data);
    },
    get: (channel) => map.map.get(channel),
    entries: () => map.map.entries(),
    onLabels: (listener) => void map.listeners.add(listener),
    ask: (channels) => askStore(kv, map, channels),
    close: () => stop(),
  };
}

/** Reads `channels`' values from the bucket into `map`. */
async function askStore(kv: KV, map: LabelsMap, channels: readonly string[]): Promise<void> {
  const unknown = channels.filter((c) => !map.map.has(c));
  for (let i = 0; i < unknown.length; i += ASKS_IN_FLIGHT_MAX) {
    await Promise.all(
      unknown.slice(i, i + ASKS_IN_FLIGHT_MAX).map(async (channel) => {
        try {
          const e = await kv.get(channelLabelsKey(channel));
          if (e === null || e.operation !== "PUT" || map.map.has(channel)) return;
          const c = decodeChannelLabels(e.value, `channel labels of key ${e.key}`);
          map.set(c.channel, c.labels);
        } catch {
          // Unreadable or unreachable: the watch still brings what comes.
        }
      }),
    );
  }
}

/**
 * Loads the bucket's values into `map` and keeps them up to date; returns how to stop. Not
 * nats.js's `kv.watch()`: its ordered push consumer, lost with its node or cut by a reconnect, was
 * made again only after two missed heartbeats (60 s) or a backoff once the meta leader was
 * elected; the bucket's stream is followed as the findings and the feed are (stream_follower.ts).
 */
async function watch(nc: NatsConnection, kv: KV, map: LabelsMap): Promise<() => Promise<void>> {
  const { values, streamInfo } = await kv.status();
  const end = streamInfo.state.last_seq;
  const prefix = `$KV.${CHANNEL_LABELS_BUCKET}.`;
  let loaded: () => void = () => {};
  const ready = new Promise<void>((resolve) => (loaded = resolve));
  if (values === 0) loaded();
  const follower = new StreamFollower(nc, {
    stream: `KV_${CHANNEL_LABELS_BUCKET}`,
    filter: `${prefix}>`,
    consumerPrefix: "troupe_labels",
  });
  await follower.start((m) => {
    const op = m.headers?.get("KV-Operation");
    if (op === "DEL" || op === "PURGE") map.map.delete(m.subject.slice(prefix.length));
    else {
      try {
        const c = decodeChannelLabels(m.data, `channel labels of key ${m.subject}`);
        map.set(c.channel, c.labels);
      } catch {
        // A value the receiver did not write: alerts of that channel go without its labels.
      }
    }
    if (m.seq >= end) loaded();
  }, 0);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([ready, new Promise((r) => (timer = setTimeout(r, LOAD_MS_MAX)))]);
  clearTimeout(timer);
  return () => follower.stop();
}
