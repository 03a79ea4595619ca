/**
 * The dead letter: what a host publishes on `troupe.dlq.<reason>` for a message it could not decode
 * or apply, with the raw bytes, the subject it came on and a message that names the field and the
 * value, so nothing is silently lost and an operator can see, replay or discard it.
 */
import { encodeEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { BodyReader } from "./_body_reader.ts";
import { requireEventType } from "./_event_type.ts";
import { describeValue, ProtocolError } from "../protocol_error.ts";

/** The envelope type of a dead letter. */
export const DEAD_LETTER_TYPE = "dead_letter";

/** The body of a dead letter. */
export interface DeadLetter {
  /** The subject the message arrived on. */
  subject: string;
  /** Why (the subject's last token): a ProtocolError's reason, or `apply`. */
  reason: string;
  error: string;
  /** The field at fault, when one is. */
  field?: string;
  /** The actor instance it failed in, for `apply` failures. */
  actor?: string;
  raw: Uint8Array;
}

/** Encodes a dead letter's envelope. */
export function encodeDeadLetter(
  meta: Omit<EnvelopeInit, "type" | "body">,
  d: DeadLetter,
): Uint8Array {
  const body: DeadLetter = { subject: d.subject, reason: d.reason, error: d.error, raw: d.raw };
  if (d.field !== undefined) body.field = d.field;
  if (d.actor !== undefined) body.actor = d.actor;
  return encodeEnvelope({ ...meta, type: DEAD_LETTER_TYPE, body });
}

/** The body of a dead-letter envelope, every field checked (a ProtocolError otherwise). */
export function deadLetterBodyOf(env: Envelope): DeadLetter {
  requireEventType(env, DEAD_LETTER_TYPE);
  const r = new BodyReader(env.body, "dead letter");
  const raw = (env.body as Record<string, unknown>).raw;
  if (!(raw instanceof Uint8Array)) {
    throw new ProtocolError(
      raw === undefined ? "field" : "value",
      `Cannot decode dead letter: field "raw" must be bin, got ${describeValue(raw)}`,
      { field: "raw", value: raw },
    );
  }
  const d: DeadLetter = {
    subject: r.str("subject"),
    reason: r.str("reason"),
    error: r.str("error"),
    raw,
  };
  const field = r.optStr("field"), actor = r.optStr("actor");
  if (field !== undefined) d.field = field;
  if (actor !== undefined) d.actor = actor;
  return d;
}
