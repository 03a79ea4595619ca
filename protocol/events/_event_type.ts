/** The check every `<kind>Of(envelope)` makes first: the envelope is of the kind it reads. */
import type { Envelope } from "../envelope.ts";
import { describeValue, ProtocolError } from "../protocol_error.ts";

/** Throws a ProtocolError unless `env` is of type `type`. */
export function requireEventType(env: Envelope, type: string): void {
  if (env.type === type) return;
  throw new ProtocolError(
    "value",
    `Cannot decode ${type} event: field "type" must be "${type}", got ${describeValue(env.type)}`,
    { field: "type", value: env.type },
  );
}
