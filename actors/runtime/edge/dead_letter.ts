/**
 * Dead letters: what could not be decoded or applied goes to `troupe.dlq.<reason>` with the raw
 * bytes, the subject it came on and a message that names the field and the value, so nothing is
 * silently lost and an operator can see, replay or discard it.
 */
import {
  type Bus,
  type DeadLetter,
  deadLetterBodyOf,
  decodeEnvelope,
  dlqSubject,
  encodeDeadLetter,
  isValidName,
  ProtocolError,
} from "../../../protocol/mod.ts";
import { InputRejectedError } from "../instances/mod.ts";

export { DEAD_LETTER_TYPE, type DeadLetter } from "../../../protocol/mod.ts";

/** The dead-letter reason of an error: the ProtocolError's or InputRejectedError's, or `apply`. */
export function reasonOf(err: unknown): string {
  if (err instanceof ProtocolError || err instanceof InputRejectedError) return err.reason;
  return "apply";
}

/** The dead letter of the message `msg` that failed with `err` (in `actor`, if given). */
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
  bus.publish(dlqSubject(reason), encodeDeadLetter(meta, { ...letter, reason }));
}

/** Decodes a dead letter's body (for tools and tests). */
export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  return deadLetterBodyOf(decodeEnvelope(bytes));
}
