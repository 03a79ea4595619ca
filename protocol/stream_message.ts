/**
 * The stream gateway's wire protocol (`/stream` on the collab server, see docs/findings.md): every
 * message either way is one binary WebSocket message holding one msgpack map, read with this
 * folder's msgpack reader and map check (decodeValue, requireMap). Client requests carry `op`,
 * server replies carry `t`. Each message type has an encoder and a checked decoder: a malformed
 * message is a `StreamProtocolError` naming the field and the value. The `msg` frame, the hot path,
 * has its own writer and reader (stream_msg.ts), and so has the `batch` frame that carries several
 * server messages in one WebSocket message (stream_batch.ts). Which subjects a subscription may
 * reach, and how its filter applies, is the gateway's (collab/stream/stream_pattern.ts,
 * collab/stream/stream_filter.ts).
 */
import { Encoder } from "@msgpack/msgpack";
import { decodeValue, requireMap } from "./envelope.ts";
import { checkHistoryRequest, type HistoryRequest } from "./history.ts";
import { ProtocolError } from "./protocol_error.ts";
import { readStreamMsg, type StreamMsg } from "./stream_msg.ts";
import { readStreamBatch } from "./stream_batch.ts";

// One, reused: `encode()` builds a new encoder per call, which a gateway sending thousands of
// frames a second feels.
const encoder = new Encoder();
const encode = (value: unknown) => encoder.encode(value);

/** What a subscriber does when it falls behind: drop and send one `gap`, or be closed (4008). */
export type SlowPolicy = "gap" | "close";

/** Bounds of a subscription request. */
export const STREAM_LIMITS = {
  /** Subject patterns per subscription. */
  subjects_max: 32,
  /** Channel globs per subscription. */
  channels_max: 256,
  /** Characters of one pattern or glob. */
  pattern_chars_max: 256,
  /** Subscriptions per socket. */
  subs_per_socket_max: 64,
} as const;

/**
 * The newest protocol version. Version 1 (no `v` field) knows `ok`, `err`, `msg`, `gap` and `pong`;
 * a subscription that asks for `v: 2` is also told when it goes live (`live`) and when it falls
 * behind (`lag`), which a client needs to resume several subscriptions exactly. A gateway sends
 * `live` and `lag` only to a subscription that asked for version 2, so an old client never sees
 * them; an old gateway ignores `v`.
 */
export const STREAM_PROTOCOL_VERSION = 2;

/** `{op: "sub"}`: subscribe to `subjects` (optionally only `channels`), resuming after `since`. */
export interface StreamSubRequest {
  op: "sub";
  id: number;
  /** Protocol version (absent: 1). */
  v?: number;
  subjects: string[];
  channels?: string[];
  since?: number;
  /**
   * At most this many of the held messages that match, the newest, before going live: a fresh
   * page's snapshot of recent state rather than the whole buffer replayed (with `since`, the later
   * start of the two). A resume sends no `last`: it wants everything after its cursor.
   */
  last?: number;
  slow?: SlowPolicy;
}

/** A client's request. */
export type StreamClientMessage =
  | StreamSubRequest
  | { op: "unsub"; id: number }
  | { op: "ping"; id: number }
  | HistoryAsk;

/**
 * `{op: "history"}`: the WebSocket form of `GET /history` (the same request and answer, on the
 * socket the page already has). `id` is the client's own, answered by `{t: "history", id}`.
 */
export interface HistoryAsk {
  op: "history";
  id: number;
  request: HistoryRequest;
}

/** `{t: "history"}`: a history answer, `data` the encoded HistoryResponse, or `error` why not. */
export type StreamHistory =
  | { t: "history"; id: number; data: Uint8Array }
  | { t: "history"; id: number; error: string };

/** `{t: "gap"}`: `missed` messages with seq in `[from, to]` will not come. */
export interface StreamGap {
  t: "gap";
  sub: number;
  missed: number;
  from: number;
  to: number;
}

/**
 * `{t: "live"}` (version 2): subscription `sub` has been sent (or, where an earlier subscription of
 * the socket owns a message, has had sent under that one) every message up to `seq`, and from now
 * on every message is sent as it arrives, so each later frame the socket receives, whatever its
 * subscription, moves this subscription's cursor to that frame's seq.
 */
export interface StreamLive {
  t: "live";
  sub: number;
  seq: number;
}

/**
 * `{t: "lag"}` (version 2): subscription `sub` fell behind (its socket was full) after `seq`: it is
 * caught up from the buffer, and its cursor moves with its own frames only until the next `live`.
 */
export interface StreamLag {
  t: "lag";
  sub: number;
  seq: number;
}

/**
 * `{t: "batch"}`: the server messages of one WebSocket message, in the order sent (only to a
 * socket that asked for batches: stream_batch.ts). A batch holds no batch.
 */
export interface StreamBatch {
  t: "batch";
  messages: StreamSingleMessage[];
}

/** A server's message other than a batch. */
export type StreamSingleMessage =
  | { t: "ok"; id: number; seq: number; oldest: number }
  | { t: "err"; id: number; reason: string }
  | StreamMsg
  | StreamGap
  | StreamLive
  | StreamLag
  | { t: "pong"; id: number }
  | StreamHistory;

/** A server's message. */
export type StreamServerMessage = StreamSingleMessage | StreamBatch;

/** Close codes of `/stream`. */
export const STREAM_CLOSE = {
  slow_consumer: 4008,
  /** More client messages a second than the gateway takes from one socket. */
  rate_limited: 4029,
  token_expired: 4401,
  unsupported: 1003,
  malformed: 1007,
  too_large: 1009,
} as const;

/** A message that breaks the protocol; `field` and `value` say where and what. */
export class StreamProtocolError extends Error {
  override name = "StreamProtocolError";
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, message: string) {
    super(message);
    this.field = field;
    this.value = value;
  }
}

/** Encodes a client request (checked first: an invalid one throws before anything is sent). */
export function encodeStreamClientMessage(m: StreamClientMessage): Uint8Array {
  return encode(checkStreamClientMessage(m as unknown as Record<string, unknown>));
}

/** Decodes and checks a client request. */
export function decodeStreamClientMessage(bytes: Uint8Array): StreamClientMessage {
  return checkStreamClientMessage(decodeMap(bytes, "client"));
}

/** Encodes a server message other than a batch (stream_batch.ts writes those). */
export function encodeStreamServerMessage(m: StreamSingleMessage): Uint8Array {
  return encode(m);
}

/** Decodes and checks a server message (a batch with each of its messages). */
export function decodeStreamServerMessage(bytes: Uint8Array): StreamServerMessage {
  const fast = readStreamMsg(bytes);
  if (fast) return fast;
  const batch = readStreamBatch(bytes);
  if (batch) return { t: "batch", messages: batch.map(decodeSingle) };
  const m = decodeMap(bytes, "server");
  if (m.t === "batch") {
    const inner = m.m;
    if (!Array.isArray(inner) || !inner.every((x) => x instanceof Uint8Array)) {
      throw streamFieldError("m", inner, "must be an array of bin (each a server message)");
    }
    return { t: "batch", messages: inner.map(decodeSingle) };
  }
  return checkSingle(m);
}

/** A message inside a batch: any server message but a batch. */
function decodeSingle(bytes: Uint8Array): StreamSingleMessage {
  const fast = readStreamMsg(bytes);
  if (fast) return fast;
  const m = decodeMap(bytes, "server");
  if (m.t === "batch") throw streamFieldError("t", m.t, "must not be a batch inside a batch");
  return checkSingle(m);
}

function checkSingle(m: Record<string, unknown>): StreamSingleMessage {
  switch (m.t) {
    case "ok":
      return { t: "ok", id: uint(m, "id"), seq: uint(m, "seq"), oldest: uint(m, "oldest") };
    case "err":
      return { t: "err", id: uint(m, "id"), reason: str(m, "reason") };
    case "msg": {
      const data = m.data;
      if (!(data instanceof Uint8Array)) throw streamFieldError("data", data, "must be bin");
      return {
        t: "msg",
        seq: uint(m, "seq"),
        sub: uint(m, "sub"),
        subject: str(m, "subject"),
        data,
      };
    }
    case "gap":
      return {
        t: "gap",
        sub: uint(m, "sub"),
        missed: uint(m, "missed"),
        from: uint(m, "from"),
        to: uint(m, "to"),
      };
    case "live":
    case "lag":
      return { t: m.t, sub: uint(m, "sub"), seq: uint(m, "seq") };
    case "pong":
      return { t: "pong", id: uint(m, "id") };
    case "history": {
      const id = uint(m, "id");
      if (m.data instanceof Uint8Array) return { t: "history", id, data: m.data };
      return { t: "history", id, error: str(m, "error") };
    }
    default:
      throw streamFieldError(
        "t",
        m.t,
        'must be "ok", "err", "msg", "gap", "live", "lag", "pong", "history" or "batch"',
      );
  }
}

function checkStreamClientMessage(m: Record<string, unknown>): StreamClientMessage {
  switch (m.op) {
    case "sub":
      return checkSub(m);
    case "unsub":
      return { op: "unsub", id: uint(m, "id") };
    case "ping":
      return { op: "ping", id: uint(m, "id") };
    case "history":
      return { op: "history", id: uint(m, "id"), request: historyRequestOf(m.request) };
    default:
      throw streamFieldError("op", m.op, 'must be "sub", "unsub", "ping" or "history"');
  }
}

/** A history request inside a client message, checked as `GET /history` checks its query. */
function historyRequestOf(raw: unknown): HistoryRequest {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw streamFieldError("request", raw, "must be a map: channel, t0_us, t1_us, points_max");
  }
  try {
    const { channel, t0_us, t1_us, points_max } = raw as HistoryRequest;
    return checkHistoryRequest({ channel, t0_us, t1_us, points_max });
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw streamFieldError("request", raw, `is not a history request (${err.message})`);
  }
}

function checkSub(m: Record<string, unknown>): StreamSubRequest {
  const id = uint(m, "id");
  const subjects = m.subjects;
  if (
    !Array.isArray(subjects) || subjects.length === 0 ||
    subjects.length > STREAM_LIMITS.subjects_max
  ) {
    throw streamFieldError(
      "subjects",
      subjects,
      `must be an array of 1 to ${STREAM_LIMITS.subjects_max} patterns`,
    );
  }
  const out: StreamSubRequest = {
    op: "sub",
    id,
    ...(m.v === undefined || m.v === null ? {} : { v: version(m) }),
    subjects: subjects.map((s) => {
      // Only the shape here: a pattern outside the relayed prefixes is refused by the gateway
      // with an `err` (the socket stays open), not as a malformed message.
      if (typeof s !== "string") throw streamFieldError("subjects", s, "must hold strings");
      return s;
    }),
  };
  if (m.channels !== undefined && m.channels !== null) {
    const ch = m.channels;
    if (!Array.isArray(ch) || ch.length > STREAM_LIMITS.channels_max) {
      throw streamFieldError(
        "channels",
        ch,
        `must be an array of at most ${STREAM_LIMITS.channels_max} globs`,
      );
    }
    out.channels = ch.map((g) => {
      if (typeof g !== "string" || g === "" || g.length > STREAM_LIMITS.pattern_chars_max) {
        throw streamFieldError("channels", g, "must hold non-empty strings");
      }
      return g;
    });
  }
  if (m.since !== undefined && m.since !== null) out.since = uint(m, "since");
  if (m.last !== undefined && m.last !== null) out.last = uint(m, "last");
  if (m.slow !== undefined && m.slow !== null) {
    if (m.slow !== "gap" && m.slow !== "close") {
      throw streamFieldError("slow", m.slow, 'must be "gap" or "close"');
    }
    out.slow = m.slow;
  }
  return out;
}

function version(m: Record<string, unknown>): number {
  const v = uint(m, "v");
  if (v < 1 || v > STREAM_PROTOCOL_VERSION) {
    throw streamFieldError(
      "v",
      v,
      `must be a protocol version from 1 to ${STREAM_PROTOCOL_VERSION}`,
    );
  }
  return v;
}

/** A message's map, read and checked as every wire map is (protocol/envelope.ts). */
function decodeMap(bytes: Uint8Array, side: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = decodeValue(bytes);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw streamFieldError(
      "message",
      `${bytes.length} bytes`,
      `is not msgpack (${err.message})`,
      side,
    );
  }
  try {
    return requireMap(value, `Cannot read ${side} message: field "message"`);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw new StreamProtocolError("message", value, err.message);
  }
}

function uint(m: Record<string, unknown>, field: string): number {
  const v = m[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw streamFieldError(field, v, "must be an unsigned integer");
  }
  return v;
}

function str(m: Record<string, unknown>, field: string): string {
  const v = m[field];
  if (typeof v !== "string") throw streamFieldError(field, v, "must be a string");
  return v;
}

/**
 * The error of a stream message whose `field` holds `value`, which `what` says is wrong: the one
 * form every check of the protocol (and the gateway's own, collab/stream/stream_pattern.ts) throws.
 */
export function streamFieldError(
  field: string,
  value: unknown,
  what: string,
  side = "stream",
): StreamProtocolError {
  return new StreamProtocolError(
    field,
    value,
    `Cannot read ${side} message: field "${field}" ${what}, got ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? value.slice(0, 80) + "…" : value);
  }
  if (value === undefined) return "nothing";
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? s.slice(0, 80) + "…" : s;
  } catch {
    return String(value);
  }
}
