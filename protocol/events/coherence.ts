/**
 * The coherence event: what the coherence actor publishes on `troupe.out.coherence.<group>` each
 * time the group changes phase (`normal`, `coherent`, `fragmented`), with the absorption ratio, its
 * standardized shift and the channels that load most on the first eigenvector.
 *
 * Body format 2 names the loadings `top_channels`, snake_case like the rest of the wire; format
 * 1, the older one, named them `topChannels`. `decodeCoherenceBody` reads both, so recordings
 * made in it still replay and verify.
 */
import { encodeEventEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { BodyReader } from "./_body_reader.ts";
import { requireEventType } from "./_event_type.ts";

/** The envelope type of a coherence event. */
export const COHERENCE_TYPE = "coherence";

/** A group's phases. */
export const COHERENCE_PHASES = ["normal", "coherent", "fragmented"] as const;

/** A group's phase. */
export type CoherencePhaseName = (typeof COHERENCE_PHASES)[number];

/** A channel's loading on the first eigenvector. */
export interface ChannelLoading {
  channel: string;
  loading: number;
}

/** The body of a coherence event (format 2). */
export interface CoherenceBody {
  group: string;
  /** The phase entered and the phase left. */
  state: CoherencePhaseName;
  from: CoherencePhaseName;
  /** The absorption ratio and its standardized shift. */
  ratio: number;
  shift: number;
  /** The channels that load most on the first eigenvector, strongest first. */
  top_channels: ChannelLoading[];
}

/** A coherence event as a machine emits it: the body with its type and time (µs). */
export type CoherenceEvent = { type: typeof COHERENCE_TYPE; ts: number } & CoherenceBody;

/** The event a machine emits, its fields in wire order. */
export function coherenceEvent(ts: number, b: CoherenceBody): CoherenceEvent {
  return {
    type: COHERENCE_TYPE,
    ts,
    group: b.group,
    state: b.state,
    from: b.from,
    ratio: b.ratio,
    shift: b.shift,
    top_channels: b.top_channels.map((l) => ({ channel: l.channel, loading: l.loading })),
  };
}

/** Encodes a coherence event's envelope (format 2): the bytes a host publishes. */
export function encodeCoherence(
  meta: Omit<EnvelopeInit, "type" | "body">,
  b: CoherenceBody,
): Uint8Array {
  return encodeEventEnvelope({ ...meta, type: COHERENCE_TYPE }, coherenceEvent(meta.ts, b));
}

/** The body format of a coherence body: 1 (`topChannels`, the older form) or 2. */
export function coherenceBodyFormat(body: unknown): 1 | 2 {
  return body !== null && typeof body === "object" &&
      (body as Record<string, unknown>).topChannels !== undefined
    ? 1
    : 2;
}

/** Reads a coherence body of either format, checking every field. */
export function decodeCoherenceBody(body: unknown, where = "coherence event"): CoherenceBody {
  const r = new BodyReader(body, where);
  const top = coherenceBodyFormat(body) === 1 ? "topChannels" : "top_channels";
  return {
    group: r.name("group"),
    state: r.oneOf("state", COHERENCE_PHASES),
    from: r.oneOf("from", COHERENCE_PHASES),
    ratio: r.num("ratio"),
    shift: r.num("shift"),
    top_channels: r.list(top, (l) => ({ channel: l.name("channel"), loading: l.num("loading") })),
  };
}

/** The body of a coherence envelope (a ProtocolError if it is another type or a bad body). */
export function coherenceOf(env: Envelope): CoherenceBody {
  requireEventType(env, COHERENCE_TYPE);
  return decodeCoherenceBody(env.body);
}
