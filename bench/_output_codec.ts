/**
 * `troupe bench codec`'s output figures: what a host does for each output of a channel's sample at
 * fleet size, an anomaly columns message of one sample encoded (`encodeColumns`), against
 * `@msgpack/msgpack`'s `encode` of the same message as a plain object. The channels are named as
 * metric series are (a name and its labels), 1,000 of them in turn, and each message's id, source
 * and cause are made as a host makes them: the input's id is the request's and the channel's, the
 * output's id that and the kind's (`outputId`), the source the instance's stream. And the same
 * message as a host writes it for an input of a feed batch, its strings copied from the input's
 * message as the feed edge wrote it (`encodeOutputColumns`), against `encodeColumns`.
 */
import { encode } from "@msgpack/msgpack";
import {
  encodeColumns,
  encodeFramePlaced,
  encodeOutputColumns,
  outputId,
  PROTOCOL_VERSION,
} from "../protocol/mod.ts";
import { nowMs } from "./_bench.ts";

const CHANNELS = 1_000;
const KIND = "anomaly";

/** Written by the timed loops so that their work cannot be optimised away. */
let sink = 0;

/** The channels' names, shaped as a node exporter's series. */
function channelNames(): string[] {
  const names: string[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const host = String(i % 50).padStart(5, "0");
    names.push(`node_network_receive_bytes_total.device_eth${i % 4}.instance_host-${host}_9100`);
  }
  return names;
}

/** One sample's columns, as the anomaly kind outputs them. */
const T = new Float64Array([1_700_000_000_000_000]);
const COLUMNS = {
  score: new Float64Array([0.12]),
  expected: new Float64Array([1234.5]),
  spread: new Float64Array([56.25]),
  value: new Float64Array([1240]),
};

/** The timed loops of both encoders over the same messages. */
export function outputMessages() {
  const names = channelNames();
  const streams = names.map((c) => `${KIND}/${c}`);
  const message = (i: number) => {
    const c = i % CHANNELS;
    const cause = `prom-${1_000_000 + (i >> 10)}/${names[c]}`;
    return { c, cause, id: outputId(cause, KIND, names[c]!, "c") };
  };
  const troupeOne = (i: number) => {
    const { c, cause, id } = message(i);
    const bytes = encodeColumns(
      { channel: names[c]!, seq0: i, t: T, columns: COLUMNS },
      { id, src: streams[c]!, cause },
    );
    return bytes.length;
  };
  const generalOne = (i: number) => {
    const { c, cause, id } = message(i);
    const bytes = encode({
      v: PROTOCOL_VERSION,
      id,
      type: "columns",
      src: streams[c]!,
      ts: T[0]!,
      cause,
      body: {
        channel: names[c]!,
        seq0: i,
        t: bin(T),
        columns: {
          score: bin(COLUMNS.score),
          expected: bin(COLUMNS.expected),
          spread: bin(COLUMNS.spread),
          value: bin(COLUMNS.value),
        },
      },
    });
    return bytes.length;
  };
  // Each channel's input as the feed edge writes it, in a request of 1,024 inputs.
  const input = (i: number) => {
    const c = i % CHANNELS;
    const id = `prom-${1_000_000 + (i >> 10)}/${names[c]}`;
    return encodeFramePlaced({ channel: names[c]!, seq0: 0, t: T, v: COLUMNS.value }, {
      id,
      src: "prom",
    });
  };
  const inputs = Array.from({ length: CHANNELS }, (_, i) => input(i));
  const copiedOne = (i: number) => {
    const c = i % CHANNELS;
    const written = inputs[c]!;
    const frame = { channel: names[c]!, seq0: i, t: T, columns: COLUMNS };
    return encodeOutputColumns(KIND, frame, written.bytes, written).length;
  };
  return {
    bytes: troupeOne(0),
    timeCopied: (ms: number) => timed(copiedOne, ms),
    timeTroupe: (ms: number) => timed(troupeOne, ms),
    timeGeneral: (ms: number) => timed(generalOne, ms),
  };
}

/** A column's bytes, as the wire carries it. */
function bin(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Calls of `one` per second over `ms` milliseconds. */
function timed(one: (i: number) => number, ms: number): number {
  let rounds = 0;
  const t0 = nowMs();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < 64; k++) sink += one(rounds++);
    t = nowMs();
  }
  return (rounds * 1000) / (t - t0);
}
