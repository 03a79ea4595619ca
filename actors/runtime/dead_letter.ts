/**
 * Dead letters: what could not be decoded or applied goes to `troupe.dlq.<reason>` with the raw
 * bytes, the subject it came on and a message that names the field and the value, so nothing is
 * silently lost and an operator can see, replay or discard it.
 */
import {
  type Bus,
  decodeValue,
  dlqSubject,
  encodeEnvelope,
  isValidName,
  ProtocolError,
} from "../../protocol/mod.ts";
import { InputRejectedError } from "./input_rejected_error.ts";

/** The body of a dead letter. */
export interface DeadLetter {
  /** The subject the message arrived on. */
  subject: string;
  reason: string;
  error: string;
  field?: string;
  /** The actor instance it failed in, for `apply` failures. */
  actor?: string;
  raw: Uint8Array;
}

/** The envelope type of a dead letter. */
export const DEAD_LETTER_TYPE = "dead_letter";

/** The dead-letter reason of an error: the ProtocolError's or InputRejectedError's, or `apply`. */
export function reasonOf(err: unknown): string {
  if (err instanceof ProtocolError || err instanceof InputRejectedError) return err.reason;
  return "apply";
}

/** The dead letter of a message that failed with `err` (in `actor`, for apply failures). */
export function deadLetterOf(
  msg: { subject: string; data: Uint8Array },
  err: unknown,
  actor?: string,
): DeadLetter {
  const letter: DeadLetter = {
    subject: msg.subject,
    reason: reasonOf(err),
    error: (err as Error).message ?? String(err),
    raw: msg.data,
  };
  if (err instanceof ProtocolError && err.field !== undefined) letter.field = err.field;
  if (actor !== undefined) letter.actor = actor;
  return letter;
}

/** Publishes a dead letter. `id` must be unique; `ts` in microseconds. */
export function publishDeadLetter(
  bus: Bus,
  letter: DeadLetter,
  meta: { id: string; src: string; ts: number },
): void {
  const reason = isValidName(letter.reason) ? letter.reason : "other";
  const body: DeadLetter = { ...letter, reason };
  bus.publish(dlqSubject(reason), encodeEnvelope({ ...meta, type: DEAD_LETTER_TYPE, body }));
}

/** Decodes a dead letter's body (for tools and tests). */
export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  const env = decodeValue(bytes) as { body?: DeadLetter };
  if (!env || typeof env !== "object" || !env.body) throw new Error("Not a dead letter");
  return env.body;
}
