/**
 * The anomaly event: what the anomaly actor publishes on `troupe.out.anomaly.<channel>` when an
 * incident opens (one event per incident), with the sample that opened it and its prediction band.
 * The envelope's `ts` is the sample's time; the body carries the rest.
 */
import { encodeEventEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { BodyReader } from "./_body_reader.ts";
import { requireEventType } from "./_event_type.ts";

/** The envelope type of an anomaly event. */
export const ANOMALY_TYPE = "anomaly";

/** The body of an anomaly event. */
export interface AnomalyBody {
  channel: string;
  /** The sample's score in [0, 1]. */
  score: number;
  value: number;
  /** The expected value and its prediction band. */
  expected: number;
  lower: number;
  upper: number;
}

/** An anomaly event as a machine emits it: the body with its type and time (µs). */
export type AnomalyEvent = { type: typeof ANOMALY_TYPE; ts: number } & AnomalyBody;

/** The event a machine emits, its fields in wire order. */
export function anomalyEvent(ts: number, b: AnomalyBody): AnomalyEvent {
  return {
    type: ANOMALY_TYPE,
    ts,
    channel: b.channel,
    score: b.score,
    value: b.value,
    expected: b.expected,
    lower: b.lower,
    upper: b.upper,
  };
}

/** Encodes an anomaly event's envelope: the bytes a host publishes. */
export function encodeAnomaly(
  meta: Omit<EnvelopeInit, "type" | "body">,
  b: AnomalyBody,
): Uint8Array {
  return encodeEventEnvelope({ ...meta, type: ANOMALY_TYPE }, anomalyEvent(meta.ts, b));
}

/** Reads an anomaly body, checking every field (a ProtocolError names the field and the value). */
export function decodeAnomalyBody(body: unknown, where = "anomaly event"): AnomalyBody {
  const r = new BodyReader(body, where);
  return {
    channel: r.name("channel"),
    score: r.num("score"),
    value: r.num("value"),
    expected: r.num("expected"),
    lower: r.num("lower"),
    upper: r.num("upper"),
  };
}

/** The body of an anomaly envelope (a ProtocolError if it is another type or a bad body). */
export function anomalyOf(env: Envelope): AnomalyBody {
  requireEventType(env, ANOMALY_TYPE);
  return decodeAnomalyBody(env.body);
}
