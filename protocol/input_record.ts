/**
 * The journal's record of one input to an actor instance. A record is what the instance consumed,
 * exactly: the raw message bytes as received (re-validated on replay, so a record never bypasses
 * the edge), its subject, and the position it had in its source (the JetStream stream sequence of
 * a feed message, or 0 for core NATS and in-process inputs, which are never redelivered).
 *
 * Layout (little-endian): u8 kind, f64 source position, u16 subject length, subject (UTF-8),
 * payload. The payload of an `init` record is msgpack; of a `skip` record, the f64 position it
 * skips; of a `void` record, the f64 first and last positions it voids; of an `admit` record
 * (subject: the channel) nothing; of a `dead` record, the reason; of a `seed` record (history
 * loaded from outside the bus, see `Host.seed`), an envelope whose body the kind's `seed` reads.
 *
 * A frame whose times are evenly spaced (every `t[i]` is exactly `t[0] + i * dt`, as with metrics
 * and bars) can be recorded without its time column, half of its bytes: kind code 6, then after
 * the subject u32 `at` (where the column's n * 8 bytes stood in the payload), u32 n, f64 t[0],
 * f64 dt, then the payload less the column. Decoding puts the column back, byte for byte, so the
 * payload read back is the one received.
 */

import { encodeEnvelope } from "./envelope.ts";
import { writeValue } from "./_value_writer.ts";
import { allocBytes } from "./_frame_codec.ts";
import { keptUtf8 } from "./_kept_bytes.ts";
import { describeValue, ProtocolError, type ProtocolReason } from "./protocol_error.ts";

/** What an input record holds. `admit`, `dead` and `attempt` are a host's edge decisions (a
 *  channel admitted; the input at `srcPos` on `subject` dead-lettered, the reason as UTF-8
 *  payload; a journaled input recovery is about to apply again, see attempt_record.ts), kept in
 *  the host's own stream (see edge_decisions.ts), never in an instance's. */
export type InputKind =
  | "frame"
  | "ctl"
  | "tick"
  | "init"
  | "skip"
  | "admit"
  | "dead"
  | "seed"
  | "void"
  | "attempt";

const KIND_CODES: Record<InputKind, number> = {
  frame: 1,
  ctl: 2,
  tick: 3,
  init: 4,
  skip: 5,
  admit: 7,
  dead: 8,
  seed: 9,
  void: 10,
  attempt: 11,
};
const KINDS: InputKind[] = [
  "frame",
  "frame",
  "ctl",
  "tick",
  "init",
  "skip",
  "frame",
  "admit",
  "dead",
  "seed",
  "void",
  "attempt",
];
/** The kind code of a frame recorded without its evenly spaced time column. */
export const REGULAR_FRAME_CODE = 6;
/** Frames shorter than this keep their time column: too little to gain. */
const REGULAR_SAMPLES_MIN = 8;

/** A decoded input record. `payload` is a view into the record's bytes. */
export interface InputRecord {
  kind: InputKind;
  srcPos: number;
  subject: string;
  payload: Uint8Array;
}

const utf8d = new TextDecoder();

/** Subjects' UTF-8 bytes: a host sees the same subjects over and over. */
const subjectBytesCache = new Map<string, Uint8Array>();
/**
 * Subjects cached at most. A host sees one feed subject a channel it holds, each of them every
 * scrape interval, and a cache cleared when full that is smaller than that set misses every
 * subject of every round: it must hold more than a host's channels. A host's default channel
 * limit is its memory budget over a channel's cost (actors/runtime/host/channel_budget.ts):
 * ~52,000 on a 24 GiB machine, ~500,000 on 256 GiB; 2^20 is above both, and still a bound for a
 * stream of ever new subjects (its entries then ~250 MB, against the 1M channels' ~50 GB).
 */
const SUBJECT_CACHE_MAX = 1 << 20;
/** A subject's length is a u16. */
const SUBJECT_BYTES_MAX = 0xffff;

/**
 * The UTF-8 bytes a record of `subject` holds, checked (at most a u16 of them), made once a
 * subject: for a caller that keeps them (encodeInputRecordParts' `subject`) rather than have
 * them looked up by the subject for every record.
 */
export function subjectBytes(subject: string): Uint8Array {
  let bytes = subjectBytesCache.get(subject);
  if (bytes === undefined) {
    if (typeof subject !== "string") throw encodeError("subject", subject, "must be a string");
    bytes = keptUtf8(subject);
    if (bytes.byteLength > SUBJECT_BYTES_MAX) {
      throw encodeError(
        "subject",
        subject,
        `must be at most ${SUBJECT_BYTES_MAX} UTF-8 bytes, got ${bytes.byteLength}`,
        "oversize",
      );
    }
    if (subjectBytesCache.size >= SUBJECT_CACHE_MAX) subjectBytesCache.clear();
    subjectBytesCache.set(subject, bytes);
  }
  return bytes;
}

/** Encodes an input record. */
export function encodeInputRecord(record: InputRecord): Uint8Array {
  const header = inputRecordHeader(record);
  const out = allocBytes(header.byteLength + record.payload.byteLength);
  out.set(header, 0);
  out.set(record.payload, header.byteLength);
  return out;
}

/**
 * Where a frame's time column lies in its payload, and its values (see `encodeInputRecordParts`).
 */
export interface TimeColumn {
  /** The offset in the payload of the column's first byte (n little-endian f64). */
  at: number;
  t: Float64Array;
}

/**
 * An input record as parts, its header and its payload (the message bytes, not copied): what the
 * host hands the journal, which writes them into its buffer. Given the frame's time column and
 * evenly spaced times, the payload's parts leave the column out (see the layout above). The
 * header may be shared with other records: read it, never change it. `subject`: the record's
 * subject's bytes as `subjectBytes` gave them, where the caller keeps them.
 */
export function encodeInputRecordParts(
  record: InputRecord,
  times?: TimeColumn,
  subject?: Uint8Array,
): Uint8Array[] {
  if (times && record.kind === "frame") {
    const { at, t } = times;
    const n = t.length;
    const payload = record.payload;
    if (n >= REGULAR_SAMPLES_MIN && at >= 0 && at + n * 8 <= payload.byteLength && isRegular(t)) {
      const head = makeHeader(record, REGULAR_FRAME_CODE, 24, subject);
      const p = head.byteLength - 24;
      putU32(head, p, at);
      putU32(head, p + 4, n);
      putF64(head, p + 8, t[0]!);
      putF64(head, p + 16, t[1]! - t[0]!);
      return [head, payload.subarray(0, at), payload.subarray(at + n * 8)];
    }
  }
  return [inputRecordHeader(record, subject), record.payload];
}

/**
 * Whether `t[i] === t[0] + i * dt` exactly for every i (dt = t[1] - t[0]), the formula decoding
 * uses, so the values come back with the same bits. Only for `t[0] > 0` and `dt >= 0`, where every
 * value is positive: 0 and -0 compare equal but differ in their bits.
 */
function isRegular(t: Float64Array): boolean {
  const t0 = t[0]!, dt = t[1]! - t[0]!;
  if (!(t0 > 0 && dt >= 0)) return false;
  const n = t.length;
  let i = 1;
  // Four samples a branch: a branch per sample makes this loop branch-bound on long frames.
  for (; i + 3 < n; i += 4) {
    if (
      t[i] !== t0 + i * dt || t[i + 1] !== t0 + (i + 1) * dt ||
      t[i + 2] !== t0 + (i + 2) * dt || t[i + 3] !== t0 + (i + 3) * dt
    ) return false;
  }
  for (; i < n; i++) if (t[i] !== t0 + i * dt) return false;
  return true;
}

/**
 * Headers of frames without a source position (core NATS, in-process), by subject: the same bytes
 * for every frame of a channel, made once. Shared: the journals copy what they are given.
 */
const frameHeaderCache = new Map<string, Uint8Array>();

function inputRecordHeader(record: InputRecord, subject?: Uint8Array): Uint8Array {
  if (record.srcPos === 0 && record.kind === "frame") {
    let header = frameHeaderCache.get(record.subject);
    if (header === undefined) {
      // A buffer of its own: kept for the channel's life, it must not hold a slab of others.
      header = makeHeader(record).slice();
      if (frameHeaderCache.size >= SUBJECT_CACHE_MAX) frameHeaderCache.clear();
      frameHeaderCache.set(record.subject, header);
    }
    return header;
  }
  return makeHeader(record, KIND_CODES[record.kind], 0, subject);
}

/**
 * A record's head (kind `code`, source position, subject) with `extra` bytes left after it;
 * `subject`, the subject's bytes, where the caller has them.
 */
function makeHeader(
  record: InputRecord,
  code = KIND_CODES[record.kind],
  extra = 0,
  subject = subjectBytes(record.subject),
): Uint8Array {
  if (code === undefined) {
    throw encodeError("kind", record.kind, `must be one of ${Object.keys(KIND_CODES).join(", ")}`);
  }
  // Source positions are stream sequences or 0: whole, and exact in an f64.
  if (!(Number.isSafeInteger(record.srcPos) && record.srcPos >= 0)) {
    throw encodeError("srcPos", record.srcPos, "must be a whole number >= 0");
  }
  if (!(record.payload instanceof Uint8Array)) {
    throw encodeError("payload", record.payload, "must be bytes");
  }
  const n = subject.byteLength;
  // Carved from the codec's slab, not an ArrayBuffer of its own: a remote-write subject makes a
  // header past V8's 64 bytes for arrays on its heap, and an ArrayBuffer made per input costs more
  // than its bytes (at 100,000 channels, every one is counted towards the external memory that
  // starts the old generation's markings). Written through the scratch view, not a DataView.
  const out = allocBytes(11 + n + extra);
  out[0] = code;
  putF64(out, 1, record.srcPos);
  out[9] = n & 0xff;
  out[10] = n >>> 8;
  out.set(subject, 11);
  return out;
}

/** Decodes an input record; throws a ProtocolError naming the field on bytes that are not one. */
export function decodeInputRecord(bytes: Uint8Array): InputRecord {
  if (bytes.byteLength < 11) {
    throw decodeError("header", bytes, "must be 11 bytes: the record is shorter than its header");
  }
  const kind = KINDS[bytes[0]!];
  if (kind === undefined || bytes[0] === 0) {
    throw decodeError("kind", bytes[0], "is an unknown kind code");
  }
  const subjectLength = bytes[9]! | (bytes[10]! << 8);
  if (11 + subjectLength > bytes.byteLength) {
    throw decodeError(
      "subject",
      subjectLength,
      `runs past the record's end (${bytes.byteLength} bytes): its length`,
    );
  }
  const p = 11 + subjectLength;
  return {
    kind,
    srcPos: getF64(bytes, 1),
    subject: utf8d.decode(bytes.subarray(11, p)),
    payload: bytes[0] === REGULAR_FRAME_CODE ? restoreTimes(bytes, p) : bytes.subarray(p),
  };
}

/**
 * Decodes an input record that holds none of `bytes`, for bytes that may change or be reused
 * after (a journal's read buffers): the subject is a string and a regular frame's payload is
 * rebuilt with its time column, so only another kind's payload, a view of `bytes`, is copied,
 * not the whole record.
 */
export function decodeInputRecordCopy(bytes: Uint8Array): InputRecord {
  const record = decodeInputRecord(bytes);
  if (record.payload.buffer === bytes.buffer) record.payload = record.payload.slice();
  return record;
}

/** The first record of an instance's stream: its starting configuration, as an envelope. */
export function encodeInitRecord(
  stream: string,
  init: { src: string; config: unknown },
): Uint8Array {
  const payload = encodeEnvelope({
    id: `${stream}:init`,
    type: "init",
    src: init.src,
    ts: 0,
    body: init.config,
  });
  return encodeInputRecord({ kind: "init", srcPos: 0, subject: stream, payload });
}

/**
 * Encodes the init records of many instances started with one configuration, the bytes
 * `encodeInitRecord` gives, with the configuration encoded once: the envelope's body is its last
 * field, so each record is the envelope with a nil body and the configuration's bytes in the
 * nil's place. The configuration must not change in place while the encoder is used (a host's
 * configurations are replaced, never changed).
 */
export function initRecordEncoder(
  init: { src: string; config: unknown },
): (stream: string) => Uint8Array {
  // Without a configuration the envelope has no body field at all.
  const body = init.config === undefined ? undefined : writeValue(init.config);
  if (body === undefined) return (stream) => encodeInitRecord(stream, init);
  return (stream) => {
    const head = encodeEnvelope({
      id: `${stream}:init`,
      type: "init",
      src: init.src,
      ts: 0,
      body: null,
    });
    const payload = new Uint8Array(head.length - 1 + body.length);
    payload.set(head.subarray(0, head.length - 1));
    payload.set(body, head.length - 1);
    return encodeInputRecord({ kind: "init", srcPos: 0, subject: stream, payload });
  };
}

/** A seed for instance `stream`: an envelope of type "seed" holding `body` (see `Host.seed`). */
export function seedRecord(
  stream: string,
  seed: { id: string; src: string; body: unknown },
): InputRecord {
  const payload = encodeEnvelope({
    id: seed.id,
    type: "seed",
    src: seed.src,
    ts: 0,
    body: seed.body,
  });
  return { kind: "seed", srcPos: 0, subject: stream, payload };
}

/**
 * A record saying that the input journaled at `pos` was skipped as poison (it failed its instance
 * repeatedly): it keeps the skipped input's subject and source position, and `pos` as its payload.
 */
export function encodeSkipRecord(pos: number, skipped: InputRecord): Uint8Array {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setFloat64(0, pos, true);
  return encodeInputRecord({
    kind: "skip",
    srcPos: skipped.srcPos,
    subject: skipped.subject,
    payload,
  });
}

/** The journal position a skip record names (see `encodeSkipRecord`). */
export function skippedPosition(record: InputRecord): number {
  if (record.kind !== "skip" || record.payload.byteLength < 8) {
    throw decodeError(
      "kind",
      record.kind,
      `with ${record.payload.byteLength} payload bytes is not a skip record`,
    );
  }
  return getF64(record.payload, 0);
}

/**
 * A record saying that the stream's positions `from` to `to` are void: consumed, never applied.
 * Recovery writes one after a hole in the journal (damage, a deleted message) whose inputs the
 * input gives back: the records after the hole are voided, and every input from the hole on is
 * applied again, in order, at positions past this record (see recovery.ts).
 */
export function encodeVoidRecord(stream: string, from: number, to: number): Uint8Array {
  const payload = new Uint8Array(16);
  const view = new DataView(payload.buffer);
  view.setFloat64(0, from, true);
  view.setFloat64(8, to, true);
  return encodeInputRecord({ kind: "void", srcPos: 0, subject: stream, payload });
}

/** The positions a void record voids (see `encodeVoidRecord`). */
export function voidedRange(record: InputRecord): { from: number; to: number } {
  if (record.kind !== "void" || record.payload.byteLength < 16) {
    throw decodeError(
      "kind",
      record.kind,
      `with ${record.payload.byteLength} payload bytes is not a void record`,
    );
  }
  return { from: getF64(record.payload, 0), to: getF64(record.payload, 8) };
}

// Fields read and written through a scratch buffer: a DataView over a record's own small buffer
// made V8 move that buffer off its heap, per record.
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

function getF64(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) scratch[i] = bytes[at + i]!;
  return scratchView.getFloat64(0, true);
}

function putF64(bytes: Uint8Array, at: number, x: number): void {
  scratchView.setFloat64(0, x, true);
  for (let i = 0; i < 8; i++) bytes[at + i] = scratch[i]!;
}

function putU32(bytes: Uint8Array, at: number, x: number): void {
  bytes[at] = x & 0xff;
  bytes[at + 1] = (x >>> 8) & 0xff;
  bytes[at + 2] = (x >>> 16) & 0xff;
  bytes[at + 3] = x >>> 24;
}

function getU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>>
    0;
}

/** The payload of a regular frame record (code 6, from `p`) with its time column put back. */
function restoreTimes(bytes: Uint8Array, p: number): Uint8Array {
  if (p + 24 > bytes.byteLength) {
    throw decodeError("times", bytes, "must hold at, n, t0 and dt: the regular frame is cut short");
  }
  const at = getU32(bytes, p), n = getU32(bytes, p + 4);
  const t0 = getF64(bytes, p + 8), dt = getF64(bytes, p + 16);
  const rest = bytes.subarray(p + 24);
  if (at > rest.byteLength) {
    throw decodeError(
      "at",
      at,
      `is a time column that lies past its payload of ${rest.byteLength}`,
    );
  }
  const out = new Uint8Array(rest.byteLength + n * 8);
  out.set(rest.subarray(0, at), 0);
  const col = new DataView(out.buffer, at, n * 8);
  col.setFloat64(0, t0, true);
  for (let i = 1; i < n; i++) col.setFloat64(i * 8, t0 + i * dt, true);
  out.set(rest.subarray(at), at + n * 8);
  return out;
}

// --- Reading a record in place: what the simulator's checks read of every journaled record,
// without decoding its subject or making views of it.

/** The bytes of a record's head before its subject: kind, source position, subject length. */
const HEAD_FIXED_BYTES = 11;

/**
 * The kind of input record `bytes`, read in place (a frame without its time column is a
 * `frame`). Bytes that are not an input record throw, as `decodeInputRecord` does.
 */
export function inputRecordKind(bytes: Uint8Array): InputKind {
  const n = bytes.byteLength;
  const kind = n >= HEAD_FIXED_BYTES ? KINDS[bytes[0]!] : undefined;
  if (
    kind === undefined || bytes[0] === 0 ||
    HEAD_FIXED_BYTES + (bytes[9]! | (bytes[10]! << 8)) > n
  ) {
    decodeInputRecord(bytes); // throws, naming what is wrong
    throw decodeError("kind", bytes[0], `cannot head an input record of ${n} bytes`);
  }
  return kind;
}

/** The source position of input record `bytes`, read in place (see `inputRecordKind`). */
export function inputRecordSourcePosition(bytes: Uint8Array): number {
  return getF64(bytes, 1);
}

/**
 * The length of the head of a frame record on `subject` with its time column (as
 * `encodeInputRecordParts` writes it without `times`): the bytes before the frame's.
 */
export function frameRecordHeadBytes(subject: string): number {
  return HEAD_FIXED_BYTES + subjectBytes(subject).byteLength;
}

/**
 * Whether `head` is the head of a frame record with its time column (the first part
 * `encodeInputRecordParts` gives without `times`), whole: its subject ends where it ends.
 */
export function isFrameRecordHead(head: Uint8Array): boolean {
  return head.byteLength >= HEAD_FIXED_BYTES && head[0] === KIND_CODES.frame &&
    HEAD_FIXED_BYTES + (head[9]! | (head[10]! << 8)) === head.byteLength;
}

/** Whether input record `bytes` is a `skip` record, read from its kind code alone. */
export function isSkipRecord(bytes: Uint8Array): boolean {
  return bytes[0] === KIND_CODES.skip;
}

/** Whether input record `bytes` is a `void` record, read from its kind code alone. */
export function isVoidRecord(bytes: Uint8Array): boolean {
  return bytes[0] === KIND_CODES.void;
}

function encodeError(
  field: string,
  value: unknown,
  what: string,
  reason: ProtocolReason = "field",
): ProtocolError {
  return new ProtocolError(
    reason,
    `Cannot encode input record: field "${field}" ${what}, got ${describeValue(value)}`,
    { field, value },
  );
}

function decodeError(field: string, value: unknown, what: string): ProtocolError {
  return new ProtocolError(
    "decode",
    `Cannot decode input record: field "${field}" ${what}, got ${describeValue(value)}`,
    { field, value },
  );
}
