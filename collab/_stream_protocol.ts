/**
 * The stream gateway's wire protocol (`/stream` on the collab server, see the README's "Live
 * findings: the stream gateway and `troupe watch`"): every message either way is one binary
 * WebSocket message holding one msgpack map, read with protocol/'s msgpack reader and map check
 * (decodeValue, requireMap). Client requests carry `op`, server replies carry `t`. Each message
 * type has an encoder and a checked decoder: a malformed message is a `StreamProtocolError` naming
 * the field and the value. Pure TypeScript with no `node:` import, so it bundles for the browser.
 */
import { Encoder } from "@msgpack/msgpack";
import {
  areaPattern,
  checkHistoryRequest,
  decodeValue,
  type HistoryRequest,
  ProtocolError,
  requireMap,
  scanPattern,
  subjectMatches,
} from "../protocol/mod.ts";

/** What a subscriber does when it falls behind: drop and send one `gap`, or be closed (4008). */
export type SlowPolicy = "gap" | "close";

/** The subject patterns a subscription may reach into (each pattern must lie inside one). */
export const STREAM_PREFIXES: readonly string[] = [
  areaPattern("out"),
  areaPattern("dlq"),
  areaPattern("sys"),
  scanPattern("results"),
];

// One, reused: `encode()` builds a new encoder per call, which a gateway sending thousands of
// frames a second feels.
const encoder = new Encoder();
const encode = (value: unknown) => encoder.encode(value);

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
export interface SubRequest {
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
export type ClientMessage =
  | SubRequest
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

/** `{t: "msg"}`: one NATS message, numbered by the gateway. */
export interface StreamMsg {
  t: "msg";
  seq: number;
  sub: number;
  subject: string;
  data: Uint8Array;
}

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

/** A server's message. */
export type ServerMessage =
  | { t: "ok"; id: number; seq: number; oldest: number }
  | { t: "err"; id: number; reason: string }
  | StreamMsg
  | StreamGap
  | StreamLive
  | StreamLag
  | { t: "pong"; id: number }
  | StreamHistory;

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
export function encodeClientMessage(m: ClientMessage): Uint8Array {
  return encode(checkClientMessage(m as unknown as Record<string, unknown>));
}

/** Decodes and checks a client request. */
export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  return checkClientMessage(decodeMap(bytes, "client"));
}

/** Encodes a server message. */
export function encodeServerMessage(m: ServerMessage): Uint8Array {
  return encode(m);
}

const textEncoder = new TextEncoder();
const MSG_HEAD = encode({ t: "msg" }).subarray(1); // `t: "msg"` without its map header

/**
 * Encodes `{t: "msg", seq, sub, subject, data}` directly (the gateway's hot path: one call per
 * message and subscription id, where @msgpack/msgpack's `encode` allocates an encoder each time).
 * What it writes is plain msgpack; `decodeServerMessage` reads it.
 */
export function encodeMsgFrame(
  seq: number,
  sub: number,
  subject: string,
  data: Uint8Array,
): Uint8Array {
  const subjectBytes = textEncoder.encode(subject);
  const size = 1 + MSG_HEAD.length + 4 + 9 + 4 + 9 + 8 + 5 + subjectBytes.length + 5 + 5 +
    data.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = 0x85; // fixmap of 5
  out.set(MSG_HEAD, at);
  at += MSG_HEAD.length;
  const key = (k: string) => {
    out[at++] = 0xa0 | k.length;
    for (let i = 0; i < k.length; i++) out[at++] = k.charCodeAt(i);
  };
  const uint = (x: number) => {
    if (x < 0x80) out[at++] = x;
    else if (x <= 0xffffffff) {
      out[at++] = 0xce;
      view.setUint32(at, x);
      at += 4;
    } else {
      out[at++] = 0xcf;
      view.setBigUint64(at, BigInt(x));
      at += 8;
    }
  };
  key("seq");
  uint(seq);
  key("sub");
  uint(sub);
  key("subject");
  const n = subjectBytes.length;
  if (n < 32) out[at++] = 0xa0 | n;
  else if (n < 256) (out[at++] = 0xd9), (out[at++] = n);
  else (out[at++] = 0xda), view.setUint16(at, n), (at += 2);
  out.set(subjectBytes, at);
  at += n;
  key("data");
  out[at++] = 0xc6; // bin 32
  view.setUint32(at, data.length);
  at += 4;
  out.set(data, at);
  at += data.length;
  return out.subarray(0, at);
}

const textDecoder = new TextDecoder();

/**
 * Reads a `msg` frame laid out exactly as `encodeMsgFrame` writes it (a client reads thousands a
 * second, and the generic decoder was the larger part of its time); anything else, undefined,
 * for the generic decoder.
 */
function readMsgFrame(b: Uint8Array): StreamMsg | undefined {
  if (b.length < 32 || b[0] !== 0x85) return undefined;
  for (let i = 0; i < MSG_HEAD.length; i++) if (b[1 + i] !== MSG_HEAD[i]) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 1 + MSG_HEAD.length;
  const key = (k: string) => {
    if (b[at] !== (0xa0 | k.length)) return false;
    for (let i = 0; i < k.length; i++) if (b[at + 1 + i] !== k.charCodeAt(i)) return false;
    at += 1 + k.length;
    return true;
  };
  const uint = () => {
    const x = b[at]!;
    if (x < 0x80) return (at += 1), x;
    if (x === 0xce && at + 5 <= b.length) return (at += 5), view.getUint32(at - 4);
    if (x === 0xcf && at + 9 <= b.length) return (at += 9), Number(view.getBigUint64(at - 8));
    return -1;
  };
  if (!key("seq")) return undefined;
  const seq = uint();
  if (seq < 0 || !key("sub")) return undefined;
  const sub = uint();
  if (sub < 0 || !key("subject")) return undefined;
  let n = -1;
  const tag = b[at]!;
  if ((tag & 0xe0) === 0xa0) (n = tag & 0x1f), (at += 1);
  else if (tag === 0xd9) (n = b[at + 1]!), (at += 2);
  else if (tag === 0xda && at + 3 <= b.length) (n = view.getUint16(at + 1)), (at += 3);
  if (n < 0 || at + n > b.length) return undefined;
  const subject = textDecoder.decode(b.subarray(at, at + n));
  at += n;
  if (!key("data") || b[at] !== 0xc6 || at + 5 > b.length) return undefined;
  const len = view.getUint32(at + 1);
  at += 5;
  if (at + len !== b.length) return undefined;
  return { t: "msg", seq, sub, subject, data: b.subarray(at, at + len) };
}

/** Decodes and checks a server message. */
export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  const fast = readMsgFrame(bytes);
  if (fast) return fast;
  const m = decodeMap(bytes, "server");
  switch (m.t) {
    case "ok":
      return { t: "ok", id: uint(m, "id"), seq: uint(m, "seq"), oldest: uint(m, "oldest") };
    case "err":
      return { t: "err", id: uint(m, "id"), reason: str(m, "reason") };
    case "msg": {
      const data = m.data;
      if (!(data instanceof Uint8Array)) throw bad("data", data, "must be bin");
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
      throw bad("t", m.t, 'must be "ok", "err", "msg", "gap", "live", "lag", "pong" or "history"');
  }
}

/**
 * Throws unless every subject matching `pattern` is inside one of STREAM_PREFIXES (so a pattern
 * can narrow a prefix, never widen it): `troupe.out.anomaly.*` is in, `troupe.>` and
 * `troupe.feed.x.y` are not.
 */
export function checkStreamPattern(pattern: unknown, field = "subjects"): string {
  if (
    typeof pattern !== "string" || pattern === "" ||
    pattern.length > STREAM_LIMITS.pattern_chars_max
  ) {
    throw bad(
      field,
      pattern,
      `must be a subject pattern of 1 to ${STREAM_LIMITS.pattern_chars_max} chars`,
    );
  }
  const tokens = pattern.split(".");
  const tokenOk = (t: string, i: number) =>
    t === "*" || (t === ">" && i === tokens.length - 1) || /^[A-Za-z0-9_-]{1,64}$/.test(t);
  if (!tokens.every(tokenOk)) {
    throw bad(
      field,
      pattern,
      "is not a NATS subject pattern (tokens of A-Z a-z 0-9 _ -, * or a last >)",
    );
  }
  if (!STREAM_PREFIXES.some((prefix) => patternWithin(tokens, prefix.split(".")))) {
    throw bad(field, pattern, `is outside the relayed subjects (${STREAM_PREFIXES.join(", ")})`);
  }
  return pattern;
}

/** Whether every subject matched by `inner` is matched by `outer` (both split into tokens). */
function patternWithin(inner: string[], outer: string[]): boolean {
  for (let i = 0; i < outer.length; i++) {
    const o = outer[i]!;
    const t = inner[i];
    if (o === ">") return t !== undefined;
    if (t === undefined || t === ">") return false;
    if (o !== "*" && (t === "*" || t !== o)) return false;
  }
  return inner.length === outer.length;
}

/** A compiled subscription filter: its subject patterns and channel globs. */
export interface StreamFilter {
  subjects: readonly string[];
  /** Absent: every channel. */
  channels?: readonly RegExp[];
}

/** Compiles channel globs (`*` = any run of characters) to anchored regular expressions. */
export function compileChannelGlobs(globs: readonly string[]): RegExp[] {
  return globs.map((g) =>
    new RegExp(
      "^" + g.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$",
    )
  );
}

/** The channel of a subject: its last token (`troupe.out.<kind>.<key>` → key). */
export function subjectChannel(subject: string): string {
  return subject.slice(subject.lastIndexOf(".") + 1);
}

/** Whether `subject` passes `filter`. */
export function filterMatches(filter: StreamFilter, subject: string): boolean {
  if (!filter.subjects.some((p) => subjectMatches(p, subject))) return false;
  if (!filter.channels) return true;
  const channel = subjectChannel(subject);
  return filter.channels.some((re) => re.test(channel));
}

function checkClientMessage(m: Record<string, unknown>): ClientMessage {
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
      throw bad("op", m.op, 'must be "sub", "unsub", "ping" or "history"');
  }
}

/** A history request inside a client message, checked as `GET /history` checks its query. */
function historyRequestOf(raw: unknown): HistoryRequest {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw bad("request", raw, "must be a map: channel, t0_us, t1_us, points_max");
  }
  try {
    const { channel, t0_us, t1_us, points_max } = raw as HistoryRequest;
    return checkHistoryRequest({ channel, t0_us, t1_us, points_max });
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw bad("request", raw, `is not a history request (${err.message})`);
  }
}

function checkSub(m: Record<string, unknown>): SubRequest {
  const id = uint(m, "id");
  const subjects = m.subjects;
  if (
    !Array.isArray(subjects) || subjects.length === 0 ||
    subjects.length > STREAM_LIMITS.subjects_max
  ) {
    throw bad(
      "subjects",
      subjects,
      `must be an array of 1 to ${STREAM_LIMITS.subjects_max} patterns`,
    );
  }
  const out: SubRequest = {
    op: "sub",
    id,
    ...(m.v === undefined || m.v === null ? {} : { v: version(m) }),
    subjects: subjects.map((s) => {
      // Only the shape here: a pattern outside the relayed prefixes is refused by the gateway
      // with an `err` (the socket stays open), not as a malformed message.
      if (typeof s !== "string") throw bad("subjects", s, "must hold strings");
      return s;
    }),
  };
  if (m.channels !== undefined && m.channels !== null) {
    const ch = m.channels;
    if (!Array.isArray(ch) || ch.length > STREAM_LIMITS.channels_max) {
      throw bad("channels", ch, `must be an array of at most ${STREAM_LIMITS.channels_max} globs`);
    }
    out.channels = ch.map((g) => {
      if (typeof g !== "string" || g === "" || g.length > STREAM_LIMITS.pattern_chars_max) {
        throw bad("channels", g, "must hold non-empty strings");
      }
      return g;
    });
  }
  if (m.since !== undefined && m.since !== null) out.since = uint(m, "since");
  if (m.last !== undefined && m.last !== null) out.last = uint(m, "last");
  if (m.slow !== undefined && m.slow !== null) {
    if (m.slow !== "gap" && m.slow !== "close") {
      throw bad("slow", m.slow, 'must be "gap" or "close"');
    }
    out.slow = m.slow;
  }
  return out;
}

function version(m: Record<string, unknown>): number {
  const v = uint(m, "v");
  if (v < 1 || v > STREAM_PROTOCOL_VERSION) {
    throw bad("v", v, `must be a protocol version from 1 to ${STREAM_PROTOCOL_VERSION}`);
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
    throw bad("message", `${bytes.length} bytes`, `is not msgpack (${err.message})`, side);
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
    throw bad(field, v, "must be an unsigned integer");
  }
  return v;
}

function str(m: Record<string, unknown>, field: string): string {
  const v = m[field];
  if (typeof v !== "string") throw bad(field, v, "must be a string");
  return v;
}

function bad(field: string, value: unknown, what: string, side = "stream"): StreamProtocolError {
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
