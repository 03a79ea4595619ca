/**
 * Reading one field of a lib0-encoded collab message (peer messages, catch-up answers), so that
 * lib0's own errors (the bytes end early, a length past the end) come out naming the message and
 * the field.
 */
import { MalformedMessageError } from "./malformed_message_error.ts";

/** Reads `field` of `what` with `f`; what lib0 throws becomes a MalformedMessageError naming it. */
export function readField<T>(what: string, field: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new MalformedMessageError(
      `Cannot decode ${what}: field "${field}" cannot be read (${(err as Error).message})`,
    );
  }
}
