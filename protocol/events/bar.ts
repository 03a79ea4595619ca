/**
 * The bar event: a closed OHLCV bar the bars actor publishes on `troupe.out.bars.<channel>`. The
 * envelope's `ts` is the bar's end (when it closed in event time); `t` is its start (µs).
 */
import { encodeEventEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { BodyReader } from "./_body_reader.ts";
import { requireEventType } from "./_event_type.ts";

/** The envelope type of a bar event. */
export const BAR_TYPE = "bar";

/** The body of a bar event. */
export interface BarBody {
  channel: string;
  /** The bar size as configured (`1m`). */
  bar: string;
  /** The bar's start, µs since the epoch. */
  t: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Samples in the bar (tick volume). */
  count: number;
  /** Sum of the samples' values (traded volume, on a volume channel). */
  sum: number;
}

/** A bar event as a machine emits it: the body with its type and time (µs). */
export type BarEvent = { type: typeof BAR_TYPE; ts: number } & BarBody;

/** The event a machine emits, its fields in wire order. */
export function barEvent(ts: number, b: BarBody): BarEvent {
  return {
    type: BAR_TYPE,
    ts,
    channel: b.channel,
    bar: b.bar,
    t: b.t,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    count: b.count,
    sum: b.sum,
  };
}

/** Encodes a bar event's envelope: the bytes a host publishes. */
export function encodeBar(meta: Omit<EnvelopeInit, "type" | "body">, b: BarBody): Uint8Array {
  return encodeEventEnvelope({ ...meta, type: BAR_TYPE }, barEvent(meta.ts, b));
}

/** Reads a bar body, checking every field. */
export function decodeBarBody(body: unknown, where = "bar event"): BarBody {
  const r = new BodyReader(body, where);
  return {
    channel: r.name("channel"),
    bar: r.str("bar"),
    t: r.int("t"),
    open: r.num("open"),
    high: r.num("high"),
    low: r.num("low"),
    close: r.num("close"),
    count: r.count("count"),
    sum: r.num("sum"),
  };
}

/** The body of a bar envelope (a ProtocolError if it is another type or a bad body). */
export function barOf(env: Envelope): BarBody {
  requireEventType(env, BAR_TYPE);
  return decodeBarBody(env.body);
}
