/**
 * The envelope every troupe message travels in: one msgpack map
 * `{ v, id, type, src, ts, seq?, corr?, cause?, body }`. Decoding validates every field once, at
 * the edge, and throws a ProtocolError that names the field and the value.
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { readMsgpack, UnsupportedMsgpack } from "./_frame_codec.ts";
import { readFrameEnvelope } from "./_read_frame_envelope.ts";
import { writeEnvelope, writeValue, writeValueView } from "./_value_writer.ts";

/** The protocol version this code speaks. */
export const PROTOCOL_VERSION = 1;

/** The default cap on one message's size: 1 MiB. */
export const MESSAGE_BYTES_MAX_DEFAULT = 1 << 20;

/** A decoded message. `ts` is event time in integer microseconds since the Unix epoch. */
export interface Envelope<Body = unknown> {
  v: number;
  id: string;
  type: string;
  src: string;
  ts: number;
  seq?: number;
  corr?: string;
  cause?: string;
  body: Body;
}

/** What a producer supplies; the version is filled in. */
export type EnvelopeInit<Body = unknown> = Omit<Envelope<Body>, "v">;

/** Limits applied when decoding. */
export interface DecodeLimits {
  /** Messages over this many bytes are rejected as oversize before they are parsed. */
  messageBytesMax?: number;
}

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/** Encodes an envelope. The returned bytes are a fresh buffer the caller owns. */
export function encodeEnvelope<Body>(init: EnvelopeInit<Body>): Uint8Array {
  return writeEnvelope(PROTOCOL_VERSION, init, init.body) ?? encoder.encode(envelopeMap(init));
}

const EVENT_OWN_FIELDS: ReadonlySet<string> = new Set(["type", "ts"]);

/**
 * Encodes an envelope whose body is `event` less its `type` and `ts` fields (which are the
 * envelope's own): what a host publishes for each event a machine emits. The same bytes as
 * `encodeEnvelope` with that body, without copying the event.
 */
export function encodeEventEnvelope(
  meta: Omit<EnvelopeInit, "body">,
  eventObject: object,
): Uint8Array {
  const event = eventObject as Record<string, unknown>;
  const bytes = writeEnvelope(PROTOCOL_VERSION, meta, event, EVENT_OWN_FIELDS);
  if (bytes) return bytes;
  const body: Record<string, unknown> = {};
  for (const k of Object.keys(event)) if (!EVENT_OWN_FIELDS.has(k)) body[k] = event[k];
  return encoder.encode(envelopeMap({ ...meta, body }));
}

function envelopeMap<Body>(init: EnvelopeInit<Body>): Record<string, unknown> {
  const map: Record<string, unknown> = {
    v: PROTOCOL_VERSION,
    id: init.id,
    type: init.type,
    src: init.src,
    ts: init.ts,
    body: init.body,
  };
  if (init.seq !== undefined) map.seq = init.seq;
  if (init.corr !== undefined) map.corr = init.corr;
  if (init.cause !== undefined) map.cause = init.cause;
  return map;
}

/** Encodes any msgpack value with troupe's settings (undefined fields omitted). */
export function encodeValue(value: unknown): Uint8Array {
  return writeValue(value) ?? encoder.encode(value);
}

/**
 * `encodeValue`'s bytes, which may be a view of a buffer the next encode writes over: for a
 * caller that copies them at once (into a buffer it reuses), so that none is allocated for them.
 */
export function encodeValueView(value: unknown): Uint8Array {
  return writeValueView(value) ?? encoder.encode(value);
}

/**
 * Decodes msgpack bytes, turning any decoder failure into a ProtocolError("decode"). `bin` values
 * are views of `bytes`.
 */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    return readMsgpack(bytes);
  } catch (err) {
    if (!(err instanceof UnsupportedMsgpack)) throw err;
  }
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new ProtocolError(
      "decode",
      `Cannot decode ${bytes.byteLength} bytes as msgpack: ${(err as Error).message}`,
      { field: "message", value: bytes, cause: err },
    );
  }
}

/** Decodes and validates an envelope; the body is returned as decoded, unvalidated. */
export function decodeEnvelope(bytes: Uint8Array, limits: DecodeLimits = {}): Envelope {
  const max = limits.messageBytesMax ?? MESSAGE_BYTES_MAX_DEFAULT;
  if (bytes.byteLength > max) {
    throw new ProtocolError(
      "oversize",
      `Message of ${bytes.byteLength} bytes is over the limit of ${max} bytes`,
      { field: "message", value: bytes.byteLength },
    );
  }
  // A sample frame as troupe writes it, read without the general reader's maps.
  const frame = readFrameEnvelope(bytes, PROTOCOL_VERSION);
  if (frame !== undefined) return frame;
  const m = requireMap(decodeValue(bytes), "Message");
  if (m.v !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      "version",
      `Message has protocol version ${describeValue(m.v)}, this host speaks ${PROTOCOL_VERSION}`,
      { field: "v", value: m.v },
    );
  }
  const env: Envelope = {
    v: PROTOCOL_VERSION,
    id: requireString(m, "id"),
    type: requireString(m, "type"),
    src: requireString(m, "src"),
    ts: requireInteger(m, "ts"),
    body: m.body,
  };
  if (!("body" in m)) {
    throw new ProtocolError("field", `Message field "body" is missing`, { field: "body" });
  }
  if (m.seq !== undefined) env.seq = requireInteger(m, "seq");
  if (m.corr !== undefined) env.corr = requireString(m, "corr");
  if (m.cause !== undefined) env.cause = requireString(m, "cause");
  return env;
}

/**
 * A decoded value as a msgpack map's fields, or a ProtocolError("decode") naming `what` and the
 * value: `Message must be a msgpack map, got [1,2]`.
 */
export function requireMap(raw: unknown, what: string): Record<string, unknown> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || raw instanceof Uint8Array) {
    throw new ProtocolError("decode", `${what} must be a msgpack map, got ${describeValue(raw)}`, {
      field: "message",
      value: raw,
    });
  }
  return raw as Record<string, unknown>;
}

/**
 * Decodes a versioned wire map (a lease, a host's presence): its fields, whose `v` must be
 * `version`, or a ProtocolError naming `what` and the value.
 */
export function decodeVersionedMap(
  bytes: Uint8Array,
  what: string,
  version: number,
): Record<string, unknown> {
  const m = requireMap(decodeValue(bytes), `Cannot decode ${what}: the value`);
  if (m.v !== version) {
    throw new ProtocolError(
      "version",
      `Cannot decode ${what}: field "v" must be ${version}, got ${describeValue(m.v)}`,
      { field: "v", value: m.v },
    );
  }
  return m;
}

/** Reads a required string field of a decoded map, or throws naming it. */
export function requireString(m: Record<string, unknown>, field: string, where = ""): string {
  const value = m[field];
  if (typeof value === "string") return value;
  throw missingOrWrong(field, where, value, "a string");
}

/** Reads a required safe-integer field of a decoded map, or throws naming it. */
export function requireInteger(m: Record<string, unknown>, field: string, where = ""): number {
  const value = m[field];
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "bigint") {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw missingOrWrong(field, where, value, "an integer");
}

/** Reads a required bin field of a decoded map, or throws naming it. */
export function requireBin(m: Record<string, unknown>, field: string, where = ""): Uint8Array {
  const value = m[field];
  if (value instanceof Uint8Array) return value;
  throw missingOrWrong(field, where, value, "bin");
}

function missingOrWrong(field: string, where: string, value: unknown, expected: string) {
  const name = where ? `${where}.${field}` : field;
  if (value === undefined) {
    return new ProtocolError("field", `Message field "${name}" is missing`, { field: name });
  }
  const reason = typeof value === "number" && Number.isNaN(value) ? "value" : "field";
  return new ProtocolError(
    reason,
    `Message field "${name}" must be ${expected}, got ${describeValue(value)}`,
    { field: name, value },
  );
}
