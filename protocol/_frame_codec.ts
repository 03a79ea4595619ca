/**
 * The hot path of the wire: a msgpack writer for sample frame messages that sizes its output
 * exactly and copies each column once, and a msgpack reader for envelopes that returns `bin`
 * values as views of the input (no copy). Both speak plain msgpack: what the writer produces any
 * msgpack decoder reads, and the reader reads what any encoder produces, handing anything it does
 * not know (extension types) to the general decoder.
 */
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { allocBytes } from "./_alloc_bytes.ts";
import { nativeUtf8Length, writeUtf8 } from "./utf8_write.ts";

export { allocBytes, float64Copy, reusingBytes } from "./_alloc_bytes.ts";

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: true });

/**
 * Strings from this many characters are measured and written by the runtime's encoder: a call
 * out costs about what a loop over 20 to 30 characters does, and the encoder goes through a long
 * one (an output's id, a channel's name) several times faster than `charCodeAt` does, most of all
 * a string made by concatenation, which each `charCodeAt` reads through its pieces' indirection.
 */
const NATIVE_CHARS_MIN = 32;
/** Where a long string is encoded to be measured (3 bytes a UTF-16 unit at most). */
const measured = new Uint8Array(3 * 1024);

/**
 * The UTF-8 length of a string; ASCII strings shorter than `NATIVE_CHARS_MIN` or longer than
 * `measured` holds are counted without encoding them.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n >= NATIVE_CHARS_MIN) {
    const native = nativeUtf8Length(s);
    if (native !== undefined) return native;
    if (3 * n <= measured.length) return utf8.encodeInto(s, measured).written;
  }
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) return utf8.encode(s).length;
  }
  return n;
}

export function strHeaderBytes(n: number): number {
  return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

function binHeaderBytes(n: number): number {
  return n < 256 ? 2 : n < 65536 ? 3 : 5;
}

function intBytes(x: number): number {
  if (x >= 0) return x < 128 ? 1 : x < 256 ? 2 : x < 65536 ? 3 : x < 4294967296 ? 5 : 9;
  return x >= -32 ? 1 : x >= -128 ? 2 : x >= -32768 ? 3 : x >= -2147483648 ? 5 : 9;
}

/**
 * Float64Arrays of at most this many values are written value by value (float64Width); V8 keeps
 * typed arrays of up to 64 bytes inside their object.
 */
const FLOAT64_WRITTEN_MAX = 8;
/** Strings given as bytes up to this long (a message's keys) are copied byte by byte (`str`). */
const STR_COPIED_MAX = 16;
/** Whether this machine stores a float64 little-endian (its bytes are then the wire's). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** Writes msgpack into a buffer of known size. */
export class MsgpackWriter {
  readonly bytes: Uint8Array;
  pos = 0;

  /**
   * A writer of `size` bytes. It writes numbers byte by byte (putU16, putU32, putF64LE), not
   * through a DataView: a view made for every message (an output's, each channel's sample at
   * fleet size) cost more than the few numbers it writes.
   */
  constructor(size: number) {
    this.bytes = allocBytes(size);
  }

  /** The encoded size of a string given as UTF-8 bytes. */
  static strSize(s: Uint8Array): number {
    return strHeaderBytes(s.length) + s.length;
  }

  /** The encoded size of a string. */
  static textSize(s: string): number {
    const n = utf8Length(s);
    return strHeaderBytes(n) + n;
  }

  /** The encoded size of a bin. */
  static binSize(n: number): number {
    return binHeaderBytes(n) + n;
  }

  /** The encoded size of a safe integer. */
  static intSize(x: number): number {
    return intBytes(x);
  }

  /** A string with a header of exactly `width` bytes (1 fixstr, 2 str8, 3 str16, 5 str32). */
  textWidth(s: string, width: number): void {
    const n = s.length; // ASCII only: callers check with utf8Length(s) === s.length
    this.strHeader(n, width);
    const b = this.bytes;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A non-negative integer in exactly `width` bytes (1, 2, 3, 5 or 9). */
  uintWidth(x: number, width: number): void {
    const b = this.bytes;
    if (width === 1) b[this.pos++] = x;
    else if (width === 2) {
      b[this.pos++] = 0xcc;
      b[this.pos++] = x;
    } else if (width === 3) {
      b[this.pos++] = 0xcd;
      putU16(b, this.pos, x);
      this.pos += 2;
    } else if (width === 5) {
      b[this.pos++] = 0xce;
      putU32(b, this.pos, x);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xcf;
      putU32(b, this.pos, Math.floor(x / 4294967296));
      putU32(b, this.pos + 4, x >>> 0);
      this.pos += 8;
    }
  }

  /** A bin with a header of exactly `width` bytes (2 bin8, 3 bin16, 5 bin32). */
  binWidth(data: Uint8Array, width: number): void {
    this.#binHeader(data.length, width);
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /**
   * A bin of the 8-byte little-endian values of `a`, with a header of exactly `width` bytes (as
   * binWidth of their bytes). A short array's values are written one by one: V8 keeps a typed
   * array of a few values inside its object, and a view of its `buffer` first moves them out to
   * a buffer of their own, which costs far more than writing them.
   */
  float64Width(a: Float64Array, width: number): void {
    if (a.length > FLOAT64_WRITTEN_MAX && LITTLE_ENDIAN_HOST) {
      this.binWidth(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), width);
      return;
    }
    this.#binHeader(a.length * 8, width);
    const b = this.bytes;
    for (let i = 0; i < a.length; i++) putF64LE(b, this.pos + i * 8, a[i]!);
    this.pos += a.length * 8;
  }

  /** A bin of the 8-byte little-endian values of `a` (as `bin` of their bytes). */
  float64(a: Float64Array): void {
    this.float64Width(a, binHeaderBytes(a.byteLength));
  }

  #binHeader(n: number, width: number): void {
    const b = this.bytes;
    if (width === 2) {
      b[this.pos++] = 0xc4;
      b[this.pos++] = n;
    } else if (width === 3) {
      b[this.pos++] = 0xc5;
      putU16(b, this.pos, n);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xc6;
      putU32(b, this.pos, n);
      this.pos += 4;
    }
  }

  mapHeader(n: number): void {
    if (n >= 16) throw new RangeError(`map of ${n} entries is not supported here`);
    this.bytes[this.pos++] = 0x80 | n;
  }

  /** A string given as its UTF-8 bytes; `width`: its header's bytes (as textWidth). */
  str(s: Uint8Array, width = strHeaderBytes(s.length)): void {
    const n = s.length;
    this.strHeader(n, width);
    if (n > STR_COPIED_MAX) {
      this.bytes.set(s, this.pos);
      this.pos += n;
      return;
    }
    // A key of a few bytes: copied here, cheaper than the call `set` is.
    const b = this.bytes;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s[i]!;
    this.pos = p;
  }

  /**
   * Writes a string: a short ASCII one directly, anything else through TextEncoder, in place. The
   * writer was sized for the string's UTF-8 bytes, so the room after a header fits them.
   */
  text(s: string): void {
    const n = s.length;
    if (n >= NATIVE_CHARS_MIN) {
      // Written after the header an ASCII string takes; one of more bytes moves to its own.
      const at = strHeaderBytes(n);
      const written = writeUtf8(s, this.bytes, this.pos + at);
      const width = strHeaderBytes(written);
      if (width !== at) {
        this.bytes.copyWithin(this.pos + width, this.pos + at, this.pos + at + written);
      }
      this.strHeader(written, width);
      this.pos += written;
      return;
    }
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) this.textWidth(s, strHeaderBytes(n));
    else this.str(utf8.encode(s));
  }

  /** A str header for `n` bytes, `width` bytes wide (1 fixstr, 2 str8, 3 str16, 5 str32). */
  strHeader(n: number, width = strHeaderBytes(n)): void {
    const b = this.bytes;
    if (width === 1) b[this.pos++] = 0xa0 | n;
    else if (width === 2) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = n;
    } else if (width === 3) {
      b[this.pos++] = 0xda;
      putU16(b, this.pos, n);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      putU32(b, this.pos, n);
      this.pos += 4;
    }
  }

  bin(data: Uint8Array): void {
    this.binWidth(data, binHeaderBytes(data.length));
  }

  int(x: number): void {
    this.pos = putInt(this.bytes, this.pos, x);
  }
}

/** Writes the 16 low bits of `x` at `b[at]`, big-endian (msgpack's order). */
function putU16(b: Uint8Array, at: number, x: number): void {
  b[at] = x >>> 8;
  b[at + 1] = x;
}

/** Writes the 32 low bits of `x` at `b[at]`, big-endian. */
function putU32(b: Uint8Array, at: number, x: number): void {
  b[at] = x >>> 24;
  b[at + 1] = x >>> 16;
  b[at + 2] = x >>> 8;
  b[at + 3] = x;
}

/** A float64 and its bytes in this machine's order, for putF64LE. */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/** Writes the float64 `x` at `b[at]`, little-endian. */
function putF64LE(b: Uint8Array, at: number, x: number): void {
  F64[0] = x;
  if (LITTLE_ENDIAN_HOST) { for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[i]!; }
  else for (let i = 0; i < 8; i++) b[at + i] = F64_BYTES[7 - i]!;
}

/**
 * Writes the safe integer `x` at `b[at]` in msgpack's smallest integer form (as @msgpack/msgpack
 * does) and returns the position after it. `b` must have 9 bytes of room.
 */
export function putInt(b: Uint8Array, at: number, x: number): number {
  if (x >= 0) {
    if (x < 128) b[at++] = x;
    else if (x < 256) {
      b[at++] = 0xcc;
      b[at++] = x;
    } else if (x < 65536) {
      b[at++] = 0xcd;
      putU16(b, at, x);
      at += 2;
    } else if (x < 4294967296) {
      b[at++] = 0xce;
      putU32(b, at, x);
      at += 4;
    } else {
      b[at++] = 0xcf;
      putU32(b, at, Math.floor(x / 4294967296));
      putU32(b, at + 4, x >>> 0);
      at += 8;
    }
  } else if (x >= -32) b[at++] = x & 0xff;
  else if (x >= -128) {
    b[at++] = 0xd0;
    b[at++] = x & 0xff;
  } else if (x >= -32768) {
    b[at++] = 0xd1;
    putU16(b, at, x);
    at += 2;
  } else if (x >= -2147483648) {
    b[at++] = 0xd2;
    putU32(b, at, x);
    at += 4;
  } else {
    b[at++] = 0xd3;
    // Two's complement of a safe negative integer, high word first.
    const hi = Math.floor(x / 4294967296);
    putU32(b, at, hi);
    putU32(b, at + 4, x - hi * 4294967296);
    at += 8;
  }
  return at;
}

/** The header widths a string of `n` bytes may be written with. */
export function strWidths(n: number): readonly number[] {
  return n < 32 ? STR_W1 : n < 256 ? STR_W2 : n < 65536 ? STR_W3 : STR_W5;
}
const STR_W1 = [1, 2, 3, 5], STR_W2 = [2, 3, 5], STR_W3 = [3, 5], STR_W5 = [5];

/** The widths a non-negative integer may be written in. */
export function uintWidths(x: number): readonly number[] {
  if (x >= 4294967296) return UINT_W9;
  return x < 128 ? UINT_W1 : x < 256 ? UINT_W2 : x < 65536 ? UINT_W3 : UINT_W5;
}
const UINT_W1 = [1, 2, 3, 5, 9], UINT_W2 = [2, 3, 5, 9], UINT_W3 = [3, 5, 9], UINT_W5 = [5, 9];
const UINT_W9 = [9];

/** The header widths a bin of `n` bytes may be written with. */
export function binWidths(n: number): readonly number[] {
  return n < 256 ? BIN_W2 : n < 65536 ? BIN_W3 : BIN_W5;
}
const BIN_W2 = [2, 3, 5], BIN_W3 = [3, 5], BIN_W5 = [5];

/** UTF-8 bytes of a string. */
export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

/** Thrown by the reader for input it leaves to the general decoder (extension types). */
export class UnsupportedMsgpack extends Error {
  override name = "UnsupportedMsgpack";
}

/**
 * Reads one msgpack value from `bytes`, requiring it to span all of them. Maps become plain
 * objects, `bin` becomes a view of `bytes`, 64-bit integers become numbers.
 */
export function readMsgpack(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const value = r.value(0);
  if (r.pos !== bytes.length) {
    throw new ProtocolError(
      "decode",
      `Cannot decode ${bytes.length} bytes as msgpack: ${
        bytes.length - r.pos
      } bytes left over after the value`,
      { field: "message", value: bytes },
    );
  }
  return value;
}

const DEPTH_MAX = 64;
const STRING_CACHE_SIZE = 1024;
const stringCache: Array<string | undefined> = new Array(STRING_CACHE_SIZE);
/** Strings shorter than this are made from their char codes when they are ASCII. */
const ASCII_CODES_MAX = 64;
/**
 * Scratch char codes for `#ascii`, one array per length: setting an array's `length` each call
 * goes through V8's runtime, a call on every string a frame reads.
 */
const asciiCodes: number[][] = [];

/** The msgpack reader `readMsgpack` uses: a value at `pos` of `b`, and the position after it. */
export class Reader {
  readonly b: Uint8Array;
  /** Made for the first float read: integers are read from the bytes (no view a message). */
  #view: DataView | undefined;
  pos = 0;

  constructor(b: Uint8Array) {
    this.b = b;
  }

  #need(n: number) {
    if (this.pos + n > this.b.length) {
      throw new ProtocolError(
        "decode",
        `Cannot decode ${this.b.length} bytes as msgpack: the value at byte ${this.pos} runs ` +
          `past the end`,
        { field: "message", value: this.b },
      );
    }
  }

  /** Reads a big-endian number of `n` bytes: unsigned, signed or float. */
  #read(n: 1 | 2 | 4 | 8, kind: "u" | "i" | "f"): number {
    this.#need(n);
    const b = this.b, p = this.pos;
    this.pos += n;
    if (kind === "f") {
      const v = this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
      return n === 4 ? v.getFloat32(p) : v.getFloat64(p);
    }
    if (n === 1) return kind === "u" ? b[p]! : (b[p]! << 24) >> 24;
    if (n === 2) {
      const x = (b[p]! << 8) | b[p + 1]!;
      return kind === "u" ? x : (x << 16) >> 16;
    }
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!; // signed
    if (n === 4) return kind === "u" ? hi >>> 0 : hi;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    return (kind === "u" ? hi >>> 0 : hi) * 4294967296 + lo;
  }

  value(depth: number): unknown {
    if (depth > DEPTH_MAX) {
      throw new ProtocolError("decode", `Cannot decode msgpack nested over ${DEPTH_MAX} levels`, {
        field: "message",
      });
    }
    this.#need(1);
    const t = this.b[this.pos++]!;
    if (t < 0x80) return t;
    if (t < 0x90) return this.map(t & 0x0f, depth);
    if (t < 0xa0) return this.array(t & 0x0f, depth);
    if (t < 0xc0) return this.str(t & 0x1f);
    if (t >= 0xe0) return t - 0x100;
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.#read(1, "u"));
      case 0xc5:
        return this.bin(this.#read(2, "u"));
      case 0xc6:
        return this.bin(this.#read(4, "u"));
      case 0xca:
        return this.#read(4, "f");
      case 0xcb:
        return this.#read(8, "f");
      case 0xcc:
        return this.#read(1, "u");
      case 0xcd:
        return this.#read(2, "u");
      case 0xce:
        return this.#read(4, "u");
      case 0xcf:
        return this.#read(8, "u");
      case 0xd0:
        return this.#read(1, "i");
      case 0xd1:
        return this.#read(2, "i");
      case 0xd2:
        return this.#read(4, "i");
      case 0xd3:
        return this.#read(8, "i");
      case 0xd9:
        return this.str(this.#read(1, "u"));
      case 0xda:
        return this.str(this.#read(2, "u"));
      case 0xdb:
        return this.str(this.#read(4, "u"));
      case 0xdc:
        return this.array(this.#read(2, "u"), depth);
      case 0xdd:
        return this.array(this.#read(4, "u"), depth);
      case 0xde:
        return this.map(this.#read(2, "u"), depth);
      case 0xdf:
        return this.map(this.#read(4, "u"), depth);
      case 0xc1:
        throw new ProtocolError(
          "decode",
          `Cannot decode msgpack: byte ${this.pos - 1} is 0xc1, which msgpack never uses`,
          { field: "message", value: this.b },
        );
      default:
        throw new UnsupportedMsgpack(`msgpack type 0x${t.toString(16)} at byte ${this.pos - 1}`);
    }
  }

  str(n: number): string {
    this.#need(n);
    const start = this.pos;
    this.pos += n;
    if (n <= 16) {
      // Field names and channels repeat from message to message: look them up, verified.
      const b = this.b;
      let h = n;
      for (let i = start; i < start + n; i++) h = (Math.imul(h, 31) + b[i]!) | 0;
      const slot = h & (STRING_CACHE_SIZE - 1);
      const cached = stringCache[slot];
      if (cached !== undefined && cached.length === n) {
        let same = true;
        for (let i = 0; i < n; i++) {
          if (cached.charCodeAt(i) !== b[start + i]) {
            same = false;
            break;
          }
        }
        if (same) return cached;
      }
      const s = this.#ascii(start, n);
      if (s === undefined) return this.#utf8(start, n);
      stringCache[slot] = s;
      return s;
    }
    // Short ASCII strings (ids) without the TextDecoder call.
    if (n < ASCII_CODES_MAX) return this.#ascii(start, n) ?? this.#utf8(start, n);
    return this.#utf8(start, n);
  }

  /**
   * The string of `n` ASCII bytes at `start`, or undefined when one is not ASCII. Made in one
   * call from the char codes, so it is a flat string: built with `+=` an id of 13 or more
   * characters was a chain of cons strings, flattened again by the first Set lookup (the input id
   * window) and the first write (the output's cause), ~4% of a latency run's host time.
   */
  #ascii(start: number, n: number): string | undefined {
    const b = this.b;
    const codes = asciiCodes[n] ??= new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      const c = b[start + i]!;
      if (c >= 0x80) return undefined;
      codes[i] = c;
    }
    return String.fromCharCode.apply(null, codes);
  }

  #utf8(start: number, n: number): string {
    try {
      return utf8d.decode(this.b.subarray(start, start + n));
    } catch {
      throw new ProtocolError(
        "decode",
        `Cannot decode msgpack: the string at byte ${start} is not UTF-8`,
        {
          field: "message",
          value: describeValue(this.b.subarray(start, start + n)),
        },
      );
    }
  }

  bin(n: number): Uint8Array {
    this.#need(n);
    this.pos += n;
    return this.b.subarray(this.pos - n, this.pos);
  }

  array(n: number, depth: number): unknown[] {
    this.#need(n); // every element takes at least one byte
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n: number, depth: number): Record<string, unknown> {
    this.#need(2 * n);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = this.value(depth + 1);
      if (typeof key !== "string" && typeof key !== "number") {
        throw new ProtocolError(
          "decode",
          `Cannot decode msgpack: a map key before byte ${this.pos} is ${
            describeValue(key)
          }, not a string`,
          { field: "message", value: key },
        );
      }
      const value = this.value(depth + 1);
      if (key === "__proto__") continue; // never let a message reach an object's prototype
      out[key] = value;
    }
    return out;
  }
}
