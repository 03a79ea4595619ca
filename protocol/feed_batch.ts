/**
 * A feed batch: the samples of many channels in one message, as a remote-write or OTLP request
 * brings them (one or a few samples for each of thousands of series). The receiver publishes a
 * request as one batch on the feed stream, so a request is journaled by one stream message, not
 * one per series; a host splits the batch into one frame per channel at its edge, so the actors
 * see the frames they always see. Subject: `troupe.feed.<feed>` (a feed's frames are
 * `troupe.feed.<feed>.<channel>`, so the one fewer token tells them apart).
 *
 * Body: `{ channels, n, t, v }`: the channel names in order, joined by "," into one string (a
 * channel name has no comma; one string is written much faster than thousands), `n` the samples
 * of each as 4-byte little-endian counts, and `t` (µs since the epoch) and `v` as 8-byte
 * little-endian columns, the channels' samples one after another. Values are carried as bytes,
 * bit for bit: a Prometheus stale marker (a NaN with its own payload) arrives as it was sent.
 */
import {
  decodeEnvelope,
  type DecodeLimits,
  PROTOCOL_VERSION,
  requireBin,
  requireMap,
} from "./envelope.ts";
import { EncodedString, writeEnvelope } from "./_value_writer.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { FRAME_SAMPLES_MAX_DEFAULT } from "./sample_frame.ts";
import { float64Bytes, float64Column } from "./float64_column.ts";
import { checkName, isValidName, SUBJECT_ROOT } from "./subjects.ts";

/** The envelope type of a feed batch. */
export const BATCH_TYPE = "batch";

/** Channels in one batch at most. */
export const BATCH_CHANNELS_MAX = 100_000;

/** A feed batch's content. */
export interface FeedBatch {
  channels: string[];
  /** Samples of each channel, in `channels`' order. */
  n: Uint32Array;
  t: Float64Array;
  v: Float64Array;
  /**
   * The bytes of `channels` joined by ",", in pieces one after another, when the batch's maker
   * has them (a receiver keeps its channels' names as bytes): written as they are, not joined
   * and encoded again. They must be those names: the encoder does not read them against
   * `channels`.
   */
  names?: readonly Uint8Array[];
}

/** What a batch message carries beside its content. */
export interface FeedBatchMeta {
  id: string;
  src: string;
  ts: number;
}

/** `troupe.feed.<feed>`: the subject of a feed's batches. */
export function feedBatchSubject(feed: string): string {
  return `${SUBJECT_ROOT}.feed.${checkName(feed, "feed")}`;
}

const FEED_PREFIX = `${SUBJECT_ROOT}.feed.`;

/** The feed of a batch subject `troupe.feed.<feed>`, or undefined for any other subject. */
export function feedOfBatchSubject(subject: string): string | undefined {
  // Asked of every feed message: a channel's subject is told apart without a string made.
  if (!subject.startsWith(FEED_PREFIX) || subject.includes(".", FEED_PREFIX.length)) {
    return undefined;
  }
  return subject.slice(FEED_PREFIX.length);
}

/** Options of encodeFeedBatch. */
export interface EncodeFeedBatchOptions {
  /**
   * The channel names are known valid (made by seriesChannel, which only makes valid names), so
   * they are not tested again: a receiver's batch holds thousands, and each test is a pattern's.
   */
  namesChecked?: boolean;
}

/** Encodes a feed batch message. */
export function encodeFeedBatch(
  batch: FeedBatch,
  meta: FeedBatchMeta,
  options: EncodeFeedBatchOptions = {},
): Uint8Array {
  checkCounts(batch);
  for (let i = 0; i < batch.channels.length && options.namesChecked !== true; i++) {
    if (!isValidName(batch.channels[i])) checkName(batch.channels[i], `channel channels[${i}]`);
  }
  const n = new Uint8Array(batch.n.length * 4);
  const view = new DataView(n.buffer);
  for (let i = 0; i < batch.n.length; i++) view.setUint32(i * 4, batch.n[i]!, true);
  const body = {
    channels: batch.names === undefined ? batch.channels.join(",") : new EncodedString(batch.names),
    n,
    t: float64Bytes(batch.t),
    v: float64Bytes(batch.v),
  };
  // Every value of the body is one the value writer takes (EncodedString only it knows).
  return writeEnvelope(PROTOCOL_VERSION, { ...meta, type: BATCH_TYPE }, body)!;
}

/**
 * Decodes a feed batch message: its envelope and content, the channel names checked, the counts
 * summing to the columns' length; times and values are not judged here (each channel's frame is,
 * when the batch is split).
 */
export function decodeFeedBatch(
  bytes: Uint8Array,
  limits: DecodeLimits = {},
): { meta: FeedBatchMeta; batch: FeedBatch } {
  const env = decodeEnvelope(bytes, limits);
  if (env.type !== BATCH_TYPE) {
    throw new ProtocolError(
      "field",
      `Cannot decode a feed batch: its type must be "${BATCH_TYPE}", got ${
        describeValue(env.type)
      }`,
      { field: "type", value: env.type },
    );
  }
  const body = requireMap(env.body, "Feed batch body");
  const raw = body.channels;
  if (typeof raw !== "string" || raw.length > BATCH_CHANNELS_MAX * 65) {
    throw new ProtocolError(
      "field",
      `Cannot decode a feed batch: body.channels must be a string of at most ` +
        `${BATCH_CHANNELS_MAX} names joined by ",", got ${describeValue(raw)}`,
      { field: "body.channels", value: raw },
    );
  }
  const channels = raw === "" ? [] : raw.split(",");
  for (let i = 0; i < channels.length; i++) {
    if (!isValidName(channels[i])) checkName(channels[i], `channel body.channels[${i}]`);
  }
  const nBin = requireBin(body, "n", "body");
  if (nBin.byteLength !== channels.length * 4) {
    throw new ProtocolError(
      "field",
      `Cannot decode a feed batch: body.n must hold 4 bytes for each of ${channels.length} ` +
        `channels, got ${nBin.byteLength} bytes`,
      { field: "body.n", value: nBin.byteLength },
    );
  }
  const view = new DataView(nBin.buffer, nBin.byteOffset, nBin.byteLength);
  const n = new Uint32Array(channels.length);
  for (let i = 0; i < n.length; i++) n[i] = view.getUint32(i * 4, true);
  const batch: FeedBatch = {
    channels,
    n,
    t: float64Column(requireBin(body, "t", "body"), "body.t"),
    v: float64Column(requireBin(body, "v", "body"), "body.v"),
  };
  checkCounts(batch);
  return { meta: { id: env.id, src: env.src, ts: env.ts }, batch };
}

function checkCounts(batch: FeedBatch): void {
  if (batch.n.length !== batch.channels.length) {
    throw new ProtocolError(
      "field",
      `Feed batch has ${batch.channels.length} channels but ${batch.n.length} counts`,
      { field: "body.n", value: batch.n.length },
    );
  }
  let total = 0;
  for (let i = 0; i < batch.n.length; i++) {
    const k = batch.n[i]!;
    if (k > FRAME_SAMPLES_MAX_DEFAULT) {
      throw new ProtocolError(
        "oversize",
        `Feed batch: body.n[${i}] = ${k} samples for "${batch.channels[i]}", over the limit of ` +
          `${FRAME_SAMPLES_MAX_DEFAULT}`,
        { field: `body.n[${i}]`, value: k },
      );
    }
    total += k;
  }
  if (total !== batch.t.length || total !== batch.v.length) {
    throw new ProtocolError(
      "field",
      `Feed batch counts sum to ${total} samples but body.t has ${batch.t.length} and body.v ` +
        `${batch.v.length}`,
      { field: "body.t", value: batch.t.length },
    );
  }
}
