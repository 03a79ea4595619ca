/**
 * The system notices about an actor instance a host publishes: `actor_restarted` on
 * `troupe.sys.actor.restarted` (running again from its snapshot and journal after a failure) and
 * `actor_stopped` on `troupe.sys.actor.stopped` (stopped after repeated failures). `stream` is the
 * instance, `<kind>/<key>`.
 */
import { encodeEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { describeValue, ProtocolError } from "../protocol_error.ts";
import { BodyReader } from "./_body_reader.ts";

/** The envelope type of an actor's restart notice. */
export const ACTOR_RESTARTED_TYPE = "actor_restarted";
/** The envelope type of an actor's stop notice. */
export const ACTOR_STOPPED_TYPE = "actor_stopped";

/** The body of `actor_stopped`. */
export interface ActorStoppedBody {
  stream: string;
  error: string;
}

/** The body of `actor_restarted`. */
export interface ActorRestartedBody {
  stream: string;
  error: string;
  /** Failures so far in the supervision window, and the backoff before the restart. */
  failures: number;
  delay_ms: number;
}

/** A notice about an actor, told apart by its type. */
export type ActorNotice =
  | { type: typeof ACTOR_STOPPED_TYPE; body: ActorStoppedBody }
  | { type: typeof ACTOR_RESTARTED_TYPE; body: ActorRestartedBody };

type Meta = Omit<EnvelopeInit, "type" | "body">;

/** Encodes an `actor_stopped` notice. */
export function encodeActorStopped(meta: Meta, b: ActorStoppedBody): Uint8Array {
  return encodeEnvelope({
    ...meta,
    type: ACTOR_STOPPED_TYPE,
    body: { stream: b.stream, error: b.error },
  });
}

/** Encodes an `actor_restarted` notice. */
export function encodeActorRestarted(meta: Meta, b: ActorRestartedBody): Uint8Array {
  return encodeEnvelope({
    ...meta,
    type: ACTOR_RESTARTED_TYPE,
    body: { stream: b.stream, error: b.error, failures: b.failures, delay_ms: b.delay_ms },
  });
}

/** The notice of an envelope of either type, every field checked (a ProtocolError otherwise). */
export function actorNoticeOf(env: Envelope): ActorNotice {
  const r = new BodyReader(env.body, `${env.type} event`);
  if (env.type === ACTOR_STOPPED_TYPE) {
    return { type: env.type, body: { stream: r.str("stream"), error: r.str("error") } };
  }
  if (env.type === ACTOR_RESTARTED_TYPE) {
    return {
      type: env.type,
      body: {
        stream: r.str("stream"),
        error: r.str("error"),
        failures: r.count("failures"),
        delay_ms: r.num("delay_ms"),
      },
    };
  }
  throw new ProtocolError(
    "value",
    `Cannot decode actor notice: field "type" must be ${ACTOR_STOPPED_TYPE} or ` +
      `${ACTOR_RESTARTED_TYPE}, got ${describeValue(env.type)}`,
    { field: "type", value: env.type },
  );
}
