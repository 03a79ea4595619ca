/**
 * A msgpack writer for the plain values troupe sends in envelopes (objects, arrays, strings,
 * numbers, booleans, null, byte arrays), producing exactly the bytes @msgpack/msgpack's Encoder
 * produces with `ignoreUndefined` (smallest headers, safe integers as ints, other numbers as
 * float64, object keys in insertion order, undefined fields left out, typed arrays as bin of their
 * bytes), at a fraction of its cost on small messages: one pass into a reused scratch buffer and
 * one copy out. A value it does not handle (Map, Date, bigint, class instances, symbols, cycles
 * past the depth limit) makes `writeValue` return undefined, and the caller uses the general
 * encoder.
 */
import { allocBytes, putInt } from "./_frame_codec.ts";
import { writeUtf8 } from "./utf8_write.ts";

const DEPTH_MAX = 100;
const utf8 = new TextEncoder();

let scratch = new Uint8Array(4096);
let view = new DataView(scratch.buffer);
let pos = 0;

/**
 * The encodings of objects frozen for good (`freezeEncoded`), copied in whole wherever the writer
 * meets the same object again rather than encoded field by field.
 */
const frozenEncodings = new WeakMap<object, Uint8Array>();

/**
 * Freezes `value` and every object and array in it, and keeps its encoding: from then on the
 * writer copies those bytes wherever it meets this very object. For a value many messages hold
 * unchanged, such as a kind's configuration, which every snapshot of each of its instances holds
 * twice (the instance's and its machine context's): otherwise the same few hundred bytes
 * encoded field by field for every snapshot. A value the writer does not handle is frozen, not
 * kept. Returns `value`.
 */
export function freezeEncoded<T extends object>(value: T): T {
  deepFreeze(value, 0);
  const bytes = writeValue(value);
  if (bytes !== undefined) frozenEncodings.set(value, bytes.slice());
  return value;
}

function deepFreeze(value: object, depth: number): void {
  if (depth > DEPTH_MAX || ArrayBuffer.isView(value)) return;
  Object.freeze(value);
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === "object" && v !== null) deepFreeze(v, depth + 1);
  }
}

/**
 * A string given as its UTF-8 bytes, in pieces one after another, written as a msgpack str: for
 * a string its maker has as bytes already (a feed batch's channel names). Only this writer knows
 * it: a value holding one must be written here (writeEnvelope, writeValue), not by the general
 * encoder.
 */
export class EncodedString {
  readonly pieces: readonly Uint8Array[];
  constructor(pieces: readonly Uint8Array[]) {
    this.pieces = pieces;
  }
}

/** Thrown inside the writer to give the value back to the general encoder. */
const UNSUPPORTED = Symbol("unsupported");

function ensure(n: number): void {
  if (pos + n <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < pos + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(scratch.subarray(0, pos));
  scratch = next;
  view = new DataView(next.buffer);
}

/** Encodes `value`, or returns undefined when it holds something only the general encoder knows. */
export function writeValue(value: unknown): Uint8Array | undefined {
  const view = writeValueView(value);
  if (view === undefined) return undefined;
  const out = allocBytes(view.length);
  out.set(view);
  return out;
}

/**
 * `writeValue`'s bytes as a view of the writer's scratch buffer, not copied out: good until the
 * next value is written, for a caller that copies them at once into a buffer of its own.
 */
export function writeValueView(value: unknown): Uint8Array | undefined {
  pos = 0;
  try {
    any(value, 0);
  } catch (err) {
    if (err === UNSUPPORTED) return undefined;
    throw err;
  }
  return scratch.subarray(0, pos);
}

/**
 * A value too large to build as objects first (a journal's index of 400,000 streams, each a row
 * of four), written piece by piece in the writer's msgpack: `begin`, then each map's or array's
 * header followed by its entries, strings and numbers, in order, then `end` for the bytes, a view
 * of the writer's buffer good until the next value is written (as `writeValueView`'s).
 */
export const valuePieces = {
  begin(): void {
    pos = 0;
  },
  map(entries: number): void {
    header(entries, 0x80, 16, 0, 0xde, 0xdf);
  },
  array(items: number): void {
    header(items, 0x90, 16, 0, 0xdc, 0xdd);
  },
  string(s: string): void {
    string(s);
  },
  number(x: number): void {
    number(x);
  },
  end(): Uint8Array {
    return scratch.subarray(0, pos);
  },
};

function any(value: unknown, depth: number): void {
  if (depth > DEPTH_MAX) throw UNSUPPORTED;
  switch (typeof value) {
    case "number":
      return number(value);
    case "string":
      return string(value);
    case "boolean":
      ensure(1);
      scratch[pos++] = value ? 0xc3 : 0xc2;
      return;
    case "undefined":
      ensure(1);
      scratch[pos++] = 0xc0;
      return;
    case "object":
      if (value === null) {
        ensure(1);
        scratch[pos++] = 0xc0;
        return;
      }
      if (Array.isArray(value)) return array(value, depth);
      if (ArrayBuffer.isView(value)) {
        return bin(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      }
      if (value instanceof ArrayBuffer) return bin(new Uint8Array(value));
      {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          // Looked for among class instances only: a plain object pays nothing for it.
          if (value instanceof EncodedString) return encodedString(value.pieces);
          throw UNSUPPORTED;
        }
      }
      return object(value as Record<string, unknown>, depth);
    default:
      throw UNSUPPORTED;
  }
}

function number(x: number): void {
  ensure(9);
  if (Number.isSafeInteger(x)) {
    pos = putInt(scratch, pos, x);
    return;
  }
  scratch[pos++] = 0xcb;
  view.setFloat64(pos, x);
  pos += 8;
}

function header(n: number, fix: number, fixMax: number, t8: number, t16: number, t32: number) {
  ensure(5);
  const b = scratch;
  if (n < fixMax) b[pos++] = fix | n;
  else if (t8 !== 0 && n < 256) {
    b[pos++] = t8;
    b[pos++] = n;
  } else if (n < 65536) {
    b[pos++] = t16;
    view.setUint16(pos, n);
    pos += 2;
  } else {
    b[pos++] = t32;
    view.setUint32(pos, n);
    pos += 4;
  }
}

/**
 * Strings from this many characters are encoded natively (ids, channel names, a feed batch's
 * channel names of tens of kilobytes); shorter ones (field names, kinds) cost less written here
 * than a call out (the frame codec's `NATIVE_CHARS_MIN` says why).
 */
const NATIVE_CHARS_MIN = 32;

function string(s: string): void {
  const n = s.length;
  // Short ASCII strings (field names, kinds) are written directly; anything else is encoded.
  if (n < NATIVE_CHARS_MIN) {
    ensure(1 + n);
    const start = pos;
    scratch[pos++] = 0xa0 | n;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        pos = start;
        return utf8String(s);
      }
      scratch[pos++] = c;
    }
    return;
  }
  // A longer string is encoded natively in place, after the header it takes if it is ASCII; a
  // longer header (more bytes than characters) then moves the bytes on.
  const room = headerBytes(n);
  ensure(5 + 3 * n);
  const written = writeUtf8(s, scratch, pos + room);
  const width = headerBytes(written);
  if (width !== room) scratch.copyWithin(pos + width, pos + room, pos + room + written);
  header(written, 0xa0, 32, 0xd9, 0xda, 0xdb);
  pos += written;
}

/** The bytes of the smallest str header for `n` bytes. */
function headerBytes(n: number): number {
  return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

function utf8String(s: string): void {
  const bytes = utf8.encode(s);
  header(bytes.length, 0xa0, 32, 0xd9, 0xda, 0xdb);
  ensure(bytes.length);
  scratch.set(bytes, pos);
  pos += bytes.length;
}

function encodedString(pieces: readonly Uint8Array[]): void {
  let n = 0;
  for (const p of pieces) n += p.length;
  header(n, 0xa0, 32, 0xd9, 0xda, 0xdb);
  ensure(n);
  for (const p of pieces) {
    scratch.set(p, pos);
    pos += p.length;
  }
}

function bin(bytes: Uint8Array): void {
  const n = bytes.length;
  ensure(5 + n);
  if (n < 256) {
    scratch[pos++] = 0xc4;
    scratch[pos++] = n;
  } else if (n < 65536) {
    scratch[pos++] = 0xc5;
    view.setUint16(pos, n);
    pos += 2;
  } else {
    scratch[pos++] = 0xc6;
    view.setUint32(pos, n);
    pos += 4;
  }
  scratch.set(bytes, pos);
  pos += n;
}

function array(a: unknown[], depth: number): void {
  header(a.length, 0x90, 16, 0, 0xdc, 0xdd);
  for (let i = 0; i < a.length; i++) any(a[i], depth + 1);
}

function object(o: Record<string, unknown>, depth: number, omit?: ReadonlySet<string>): void {
  const frozen = omit === undefined ? frozenEncodings.get(o) : undefined;
  if (frozen !== undefined) {
    ensure(frozen.length);
    scratch.set(frozen, pos);
    pos += frozen.length;
    return;
  }
  // One pass: a one-byte map header is written first and the entries after it; the rare map of
  // 16 or more entries moves them to make room for its longer header. for-in with the key as the
  // property name is V8's fast path (the enum cache), unlike a lookup by an arbitrary string.
  ensure(1);
  const start = pos++;
  let n = 0;
  for (const k in o) {
    const v = o[k];
    if (v === undefined || !Object.hasOwn(o, k) || (omit !== undefined && omit.has(k))) continue;
    string(k);
    any(v, depth + 1);
    n++;
  }
  if (n < 16) {
    scratch[start] = 0x80 | n;
    return;
  }
  const extra = n < 65536 ? 2 : 4;
  ensure(extra);
  scratch.copyWithin(start + 1 + extra, start + 1, pos);
  pos += extra;
  if (n < 65536) {
    scratch[start] = 0xde;
    view.setUint16(start + 1, n);
  } else {
    scratch[start] = 0xdf;
    view.setUint32(start + 1, n);
  }
}

function field(key: string, value: unknown): void {
  if (value === undefined) return;
  string(key);
  any(value, 1);
}

/** The fields of an envelope, as `encodeEnvelope` takes them. */
export interface EnvelopeFields {
  id: string;
  type: string;
  src: string;
  ts: number;
  seq?: number | undefined;
  corr?: string | undefined;
  cause?: string | undefined;
  body: unknown;
}

/**
 * Encodes the envelope map `{ v, id, type, src, ts, body, seq?, corr?, cause? }` (the field order
 * `encodeEnvelope` always used) from `f` and `body` without building it as an object first. With
 * `bodyOmit`, `body` must be a plain object and the named fields of it are left out (an actor's
 * emitted event is its own body, less `type` and `ts`). Returns undefined when a value needs the
 * general encoder.
 */
export function writeEnvelope(
  version: number,
  f: Omit<EnvelopeFields, "body">,
  body: unknown,
  bodyOmit?: ReadonlySet<string>,
): Uint8Array | undefined {
  pos = 0;
  try {
    const { id, type, src, ts, seq, corr, cause } = f;
    const n = (id !== undefined ? 1 : 0) + (type !== undefined ? 1 : 0) +
      (src !== undefined ? 1 : 0) + (ts !== undefined ? 1 : 0) + (body !== undefined ? 1 : 0) +
      (seq !== undefined ? 1 : 0) + (corr !== undefined ? 1 : 0) + (cause !== undefined ? 1 : 0);
    header(1 + n, 0x80, 16, 0, 0xde, 0xdf);
    string("v");
    number(version);
    field("id", id);
    field("type", type);
    field("src", src);
    field("ts", ts);
    if (body !== undefined) {
      string("body");
      if (bodyOmit) {
        if (typeof body !== "object" || body === null || Array.isArray(body)) throw UNSUPPORTED;
        const proto = Object.getPrototypeOf(body);
        if (proto !== Object.prototype && proto !== null) throw UNSUPPORTED;
        object(body as Record<string, unknown>, 1, bodyOmit);
      } else any(body, 1);
    }
    field("seq", seq);
    field("corr", corr);
    field("cause", cause);
  } catch (err) {
    if (err === UNSUPPORTED) return undefined;
    throw err;
  }
  const out = allocBytes(pos);
  out.set(scratch.subarray(0, pos));
  return out;
}
