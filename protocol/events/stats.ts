/**
 * The stats event: a channel's running summary the stats actor publishes on
 * `troupe.out.stats.<channel>` every `every_samples` samples, stamped with the time of the sample
 * that completed it.
 */
import { encodeEventEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { BodyReader } from "./_body_reader.ts";
import { requireEventType } from "./_event_type.ts";

/** The envelope type of a stats event. */
export const STATS_TYPE = "stats";

/** The body of a stats event. */
export interface StatsBody {
  channel: string;
  /** Samples summarised. */
  count: number;
  mean: number;
  variance: number;
  min: number;
  max: number;
  /** Samples per second of event time. */
  rate_per_s: number;
}

/** A stats event as a machine emits it: the body with its type and time (µs). */
export type StatsEvent = { type: typeof STATS_TYPE; ts: number } & StatsBody;

/** The event a machine emits, its fields in wire order. */
export function statsEvent(ts: number, b: StatsBody): StatsEvent {
  return {
    type: STATS_TYPE,
    ts,
    channel: b.channel,
    count: b.count,
    mean: b.mean,
    variance: b.variance,
    min: b.min,
    max: b.max,
    rate_per_s: b.rate_per_s,
  };
}

/** Encodes a stats event's envelope: the bytes a host publishes. */
export function encodeStats(meta: Omit<EnvelopeInit, "type" | "body">, b: StatsBody): Uint8Array {
  return encodeEventEnvelope({ ...meta, type: STATS_TYPE }, statsEvent(meta.ts, b));
}

/** Reads a stats body, checking every field. */
export function decodeStatsBody(body: unknown, where = "stats event"): StatsBody {
  const r = new BodyReader(body, where);
  return {
    channel: r.name("channel"),
    count: r.count("count"),
    mean: r.num("mean"),
    variance: r.num("variance"),
    min: r.num("min"),
    max: r.num("max"),
    rate_per_s: r.num("rate_per_s"),
  };
}

/** The body of a stats envelope (a ProtocolError if it is another type or a bad body). */
export function statsOf(env: Envelope): StatsBody {
  requireEventType(env, STATS_TYPE);
  return decodeStatsBody(env.body);
}
