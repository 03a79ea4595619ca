/**
 * A channel's source labels: the labels of the series a metrics receiver made the channel from,
 * as Prometheus (or an OpenTelemetry exporter) sent them, so that an alert on the channel carries
 * `job`, `instance` and the rest. They travel in the JetStream key-value bucket
 * `troupe_channel_labels`, key the channel's name (a channel name is a valid key), written by the
 * receiver when it admits a new channel and read by the alert sender; file storage, one revision
 * per key, bounded in bytes (when full, a new key is refused: the receiver counts it and the
 * channel's alerts go without its labels). The value is one msgpack map
 * `{ v, channel, labels: [[name, value], ...] }`, labels sorted by name.
 *
 * The collab server hands the dashboard every channel's labels at once (`GET /channels`, to group
 * and filter its cards by them): one msgpack map `{ v, channels: [[channel, [[name, value], ...]],
 * ...] }` (`encodeChannelLabelsList`).
 */
import { decodeVersionedMap, encodeValue } from "../envelope.ts";
import { describeValue, ProtocolError } from "../protocol_error.ts";
import { isValidName } from "../subjects.ts";
import type { Label } from "./remote_write.ts";

/** The bucket of channels' source labels. */
export const CHANNEL_LABELS_BUCKET = "troupe_channel_labels";
/** The value's encoding version. */
export const CHANNEL_LABELS_VERSION = 1;
/** Labels a channel keeps, at most (the receiver's own limit per series is at most this). */
export const CHANNEL_LABELS_MAX = 64;
/** Characters of a label's name or value, at most. */
export const CHANNEL_LABEL_CHARS_MAX = 2048;
/** The bucket's bytes at most (some hundred thousand channels): past it new keys are refused. */
export const CHANNEL_LABELS_BUCKET_BYTES = 64 * 1024 * 1024;

/** A channel and the labels of the series it was made from. */
export interface ChannelLabels {
  channel: string;
  labels: Label[];
}

/** The bucket key of `channel`'s labels: its name (A-Z a-z 0-9 _ -, a valid key). */
export function channelLabelsKey(channel: string): string {
  if (!isValidName(channel)) throw bad("channel", "a channel name (A-Z a-z 0-9 _ -)", channel);
  return channel;
}

/** Encodes `c`; labels are sorted by name, so one label set is always the same bytes. */
export function encodeChannelLabels(c: ChannelLabels): Uint8Array {
  check(c);
  const labels = [...c.labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return encodeValue({
    v: CHANNEL_LABELS_VERSION,
    channel: c.channel,
    labels: labels.map((l) => [l.name, l.value]),
  });
}

/** Decodes a value of the bucket; throws a ProtocolError naming the field and the value. */
export function decodeChannelLabels(bytes: Uint8Array, where = "channel labels"): ChannelLabels {
  const o = decodeVersionedMap(bytes, where, CHANNEL_LABELS_VERSION);
  if (!Array.isArray(o.labels)) throw bad("labels", "an array", o.labels, where);
  if (o.labels.length > CHANNEL_LABELS_MAX) {
    throw bad("labels", `at most ${CHANNEL_LABELS_MAX} labels`, o.labels.length, where);
  }
  const labels = o.labels.map((pair: unknown, i: number) => {
    if (
      !Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" ||
      typeof pair[1] !== "string"
    ) {
      throw bad(`labels[${i}]`, "a [name, value] pair of strings", pair, where);
    }
    return { name: pair[0], value: pair[1] };
  });
  const c = { channel: o.channel as string, labels };
  check(c, where);
  return c;
}

/** Channels a list of channels' labels holds, at most (as many as a reader keeps). */
export const CHANNEL_LABELS_LIST_MAX = 100_000;

/** Encodes a list of channels and their labels (`GET /channels`), each checked as one value. */
export function encodeChannelLabelsList(list: readonly ChannelLabels[]): Uint8Array {
  if (list.length > CHANNEL_LABELS_LIST_MAX) {
    throw bad("channels", `at most ${CHANNEL_LABELS_LIST_MAX} channels`, list.length);
  }
  for (const c of list) check(c);
  return encodeValue({
    v: CHANNEL_LABELS_VERSION,
    channels: list.map((c) => [c.channel, c.labels.map((l) => [l.name, l.value])]),
  });
}

/** Decodes a list of channels' labels; throws a ProtocolError naming the field and the value. */
export function decodeChannelLabelsList(
  bytes: Uint8Array,
  where = "channel labels list",
): ChannelLabels[] {
  const o = decodeVersionedMap(bytes, where, CHANNEL_LABELS_VERSION);
  if (!Array.isArray(o.channels)) throw bad("channels", "an array", o.channels, where);
  if (o.channels.length > CHANNEL_LABELS_LIST_MAX) {
    throw bad("channels", `at most ${CHANNEL_LABELS_LIST_MAX} channels`, o.channels.length, where);
  }
  return o.channels.map((entry: unknown, i: number) => {
    if (!Array.isArray(entry) || entry.length !== 2 || !Array.isArray(entry[1])) {
      throw bad(`channels[${i}]`, "a [channel, labels] pair", entry, where);
    }
    const labels = (entry[1] as unknown[]).map((pair, k) => {
      if (
        !Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" ||
        typeof pair[1] !== "string"
      ) {
        throw bad(`channels[${i}].labels[${k}]`, "a [name, value] pair of strings", pair, where);
      }
      return { name: pair[0], value: pair[1] };
    });
    const c = { channel: entry[0] as string, labels };
    check(c, `${where}: channels[${i}]`);
    return c;
  });
}

function check(c: ChannelLabels, where = "channel labels"): void {
  if (typeof c.channel !== "string" || !isValidName(c.channel)) {
    throw bad("channel", "a channel name (A-Z a-z 0-9 _ -)", c.channel, where);
  }
  if (c.labels.length > CHANNEL_LABELS_MAX) {
    throw bad("labels", `at most ${CHANNEL_LABELS_MAX} labels`, c.labels.length, where);
  }
  c.labels.forEach((l, i) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l.name) || l.name.length > CHANNEL_LABEL_CHARS_MAX) {
      throw bad(`labels[${i}].name`, "a label name ([a-zA-Z_][a-zA-Z0-9_]*)", l.name, where);
    }
    if (l.value.length > CHANNEL_LABEL_CHARS_MAX) {
      throw bad(
        `labels[${i}].value`,
        `at most ${CHANNEL_LABEL_CHARS_MAX} characters`,
        l.value.length,
        where,
      );
    }
  });
}

function bad(field: string, want: string, value: unknown, where = "channel labels") {
  return new ProtocolError(
    "value",
    `Invalid ${where}: field "${field}" must be ${want}, got ${describeValue(value)}`,
    { field, value },
  );
}
