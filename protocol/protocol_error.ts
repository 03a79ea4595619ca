/**
 * The error raised where bytes become values and something is wrong with them. It carries a
 * machine-readable `reason` (which becomes the dead-letter subject `troupe.dlq.<reason>`), the
 * field at fault and the offending value, so a dead letter can say exactly what was wrong.
 */

/** Why a message was rejected; each reason is a token of the dead-letter subject. */
export type ProtocolReason =
  | "decode" // not msgpack, or not a map
  | "version" // protocol version we do not speak
  | "field" // a field missing or of the wrong type
  | "value" // a field of the right type with a bad value (NaN, negative count, bad channel name)
  | "order" // non-monotone time within a frame
  | "oversize" // over a configured limit
  | "apply"; // decoded fine, but an actor failed on it repeatedly

/** A message or name that breaks the protocol, naming the field and the value. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
  readonly reason: ProtocolReason;
  readonly field: string | undefined;
  readonly value: unknown;

  constructor(
    reason: ProtocolReason,
    message: string,
    options: { field?: string; value?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.field = options.field;
    this.value = options.value;
  }
}

/** Renders a value for an error message: short, and never throwing. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? value.slice(0, 77) + "..." : value);
  }
  if (value instanceof Uint8Array) return `bin of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (typeof value === "object") return "map";
  return typeof value;
}
