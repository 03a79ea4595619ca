/**
 * The anomaly event: what the anomaly actor publishes on `troupe.out.anomaly.<channel>` when an
 * incident opens (one event per incident, and one per restatement of its finding), with the
 * sample that opened it, its prediction band and the detector's view that scored it. The
 * envelope's `ts` is the sample's time; the body carries the rest.
 *
 * `view` came later (an optional field, after `upper`): an event recorded before it has none, and
 * decodes without it; `encodeAnomaly` writes it only when the body has one, so such an event is
 * written again to its own bytes, and `anomalyViewlessBytes` (current_event_bytes.ts) gives a
 * replayed event as a host published it before the field (replay --verify compares an old
 * recording with that).
 */
import { encodeEventEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { BodyReader } from "./_body_reader.ts";
import { requireEventType } from "./_event_type.ts";

/** The envelope type of an anomaly event. */
export const ANOMALY_TYPE = "anomaly";

/**
 * The detector's views that can score a sample (actors/anomaly/_views.ts): a level, a time-of-day
 * pattern, a slope, a move from one sample to the next (increment), each new to what the channel
 * has shown; a flat run; a jump rare among the channel's jumps; a sustained shift of level against
 * the hour of the week; a value beyond the range the channel has shown.
 */
export const ANOMALY_VIEWS = [
  "level",
  "time_of_day",
  "slope",
  "increment",
  "flat_run",
  "jump",
  "shift",
  "range",
] as const;

/** One of ANOMALY_VIEWS. */
export type AnomalyView = (typeof ANOMALY_VIEWS)[number];

/** The body of an anomaly event. */
export interface AnomalyBody {
  channel: string;
  /** The sample's score in [0, 1]. */
  score: number;
  value: number;
  /**
   * The expected value and the band the finding states: `band_sigmas` σ each side, σ the
   * channel's honest scale (docs/methods/anomaly.md, "A finding's σ"), what paging reads it by.
   */
  expected: number;
  lower: number;
  upper: number;
  /** The view that scored the sample; absent from events published before it was sent. */
  view?: AnomalyView;
  /**
   * Present (true) on an event that restates the open incident's finding at a stronger sample,
   * read against the expected value and σ its opening was read against: it joins that incident
   * and opens none (docs/methods/anomaly.md, "A finding restated").
   */
  restated?: true;
}

/** An anomaly event as a machine emits it: the body with its type and time (µs). */
export type AnomalyEvent = { type: typeof ANOMALY_TYPE; ts: number } & AnomalyBody;

/** The event a machine emits, its fields in wire order (`view` only when the body has one). */
export function anomalyEvent(ts: number, b: AnomalyBody): AnomalyEvent {
  const e: AnomalyEvent = {
    type: ANOMALY_TYPE,
    ts,
    channel: b.channel,
    score: b.score,
    value: b.value,
    expected: b.expected,
    lower: b.lower,
    upper: b.upper,
  };
  if (b.view !== undefined) e.view = b.view;
  if (b.restated === true) e.restated = true;
  return e;
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
  const b: AnomalyBody = {
    channel: r.name("channel"),
    score: r.num("score"),
    value: r.num("value"),
    expected: r.num("expected"),
    lower: r.num("lower"),
    upper: r.num("upper"),
  };
  if (r.has("view")) b.view = r.oneOf("view", ANOMALY_VIEWS);
  if (r.has("restated") && r.bool("restated")) b.restated = true;
  return b;
}

/** The body of an anomaly envelope (a ProtocolError if it is another type or a bad body). */
export function anomalyOf(env: Envelope): AnomalyBody {
  requireEventType(env, ANOMALY_TYPE);
  return decodeAnomalyBody(env.body);
}
