/**
 * The journal's record of one input to an actor instance. A record is what the instance consumed,
 * exactly: the raw message bytes as received (re-validated on replay, so a record never bypasses
 * the edge), its subject, and the position it had in its source (the JetStream stream sequence of
 * a feed message, or 0 for core NATS and in-process inputs, which are never redelivered).
 *
 * Layout (little-endian): u8 kind, f64 source position, u16 subject length, subject (UTF-8),
 * payload. The payload of `init` and `skip` records is msgpack.
 */

/** What an input record holds. */
export type InputKind = "frame" | "ctl" | "tick" | "init" | "skip";

const KIND_CODES: Record<InputKind, number> = { frame: 1, ctl: 2, tick: 3, init: 4, skip: 5 };
const KINDS: InputKind[] = ["frame", "frame", "ctl", "tick", "init", "skip"];

/** A decoded input record. `payload` is a view into the record's bytes. */
export interface InputRecord {
  kind: InputKind;
  srcPos: number;
  subject: string;
  payload: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Subjects' UTF-8 bytes: a host sees the same few subjects over and over. */
const subjectBytesCache = new Map<string, Uint8Array>();
const SUBJECT_CACHE_MAX = 65_536;

function subjectBytes(subject: string): Uint8Array {
  let bytes = subjectBytesCache.get(subject);
  if (bytes === undefined) {
    bytes = utf8.encode(subject);
    if (subjectBytesCache.size >= SUBJECT_CACHE_MAX) subjectBytesCache.clear();
    subjectBytesCache.set(subject, bytes);
  }
  return bytes;
}

/** Encodes an input record. */
export function encodeInputRecord(record: InputRecord): Uint8Array {
  const header = inputRecordHeader(record);
  const out = new Uint8Array(header.byteLength + record.payload.byteLength);
  out.set(header, 0);
  out.set(record.payload, header.byteLength);
  return out;
}

/**
 * An input record as two parts, its header and its payload (the message bytes, not copied): what
 * the host hands the journal, which writes both into its buffer. The header may be shared with
 * other records: read it, never change it.
 */
export function encodeInputRecordParts(record: InputRecord): [Uint8Array, Uint8Array] {
  return [inputRecordHeader(record), record.payload];
}

/**
 * Headers of frames without a source position (core NATS, in-process), by subject: the same bytes
 * for every frame of a channel, made once. Shared: the journals copy what they are given.
 */
const frameHeaderCache = new Map<string, Uint8Array>();

function inputRecordHeader(record: InputRecord): Uint8Array {
  if (record.srcPos === 0 && record.kind === "frame") {
    let header = frameHeaderCache.get(record.subject);
    if (header === undefined) {
      header = makeHeader(record);
      if (frameHeaderCache.size >= SUBJECT_CACHE_MAX) frameHeaderCache.clear();
      frameHeaderCache.set(record.subject, header);
    }
    return header;
  }
  return makeHeader(record);
}

function makeHeader(record: InputRecord): Uint8Array {
  const subject = subjectBytes(record.subject);
  const n = subject.byteLength;
  const out = new Uint8Array(11 + n);
  const view = new DataView(out.buffer);
  out[0] = KIND_CODES[record.kind];
  view.setFloat64(1, record.srcPos, true);
  view.setUint16(9, n, true);
  out.set(subject, 11);
  return out;
}

/** Decodes an input record; throws on bytes that are not one. */
export function decodeInputRecord(bytes: Uint8Array): InputRecord {
  if (bytes.byteLength < 11) {
    throw new Error(`Input record of ${bytes.byteLength} bytes is shorter than its 11-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = KINDS[bytes[0]!];
  if (kind === undefined || bytes[0] === 0) {
    throw new Error(`Input record has unknown kind code ${bytes[0]}`);
  }
  const subjectLength = view.getUint16(9, true);
  if (11 + subjectLength > bytes.byteLength) {
    throw new Error(`Input record's subject of ${subjectLength} bytes runs past its end`);
  }
  return {
    kind,
    srcPos: view.getFloat64(1, true),
    subject: utf8d.decode(bytes.subarray(11, 11 + subjectLength)),
    payload: bytes.subarray(11 + subjectLength),
  };
}
