/**
 * The few protocol-buffer wire rules remote write and OTLP need: varints, 64-bit fixed values,
 * length-delimited fields and skipping the fields a reader does not know. A reader holds a
 * position in one byte array; a message inside it is read by bounds, never copied.
 */
import { ProtocolError } from "../protocol_error.ts";

/** Wire types. */
export const VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** For an error's text: bytes that are not UTF-8 shown with U+FFFD in their place. */
const lenient = new TextDecoder("utf-8");

/** A cursor over protobuf bytes, naming `what` (the message's path) in its errors. */
export class ProtoReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  end: number;

  constructor(bytes: Uint8Array, pos = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
    this.end = end;
  }

  fail(where: string, message: string, value?: unknown): never {
    throw new ProtocolError("decode", `Cannot decode ${where}: ${message}`, {
      field: where,
      value,
    });
  }

  /**
   * An unsigned varint as a number (exact to 2^53); a 10-byte one, a negative int64, is read as
   * its signed value (exact to -2^53: a negative time keeps its value, not a rounding of 2^64).
   */
  varint(where: string): number {
    // Up to 9 bytes here (any time in ms, any length); the 10th, and every fault, in longVarint,
    // so that this stays short enough for V8 to inline where it is called.
    const b = this.bytes, end = this.end;
    let pos = this.pos, x = 0, mul = 1;
    for (let i = 0; i < 9 && pos < end; i++) {
      const c = b[pos++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.pos = pos;
        return x;
      }
      mul *= 128;
    }
    return this.#longVarint(where);
  }

  /** A varint of 10 bytes (a negative int64), or the fault of one cut short or longer. */
  #longVarint(where: string): number {
    const b = this.bytes;
    const start = this.pos;
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail(where, "a varint is cut short", this.pos);
      const c = b[this.pos++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) return i === 9 ? signed64(b, start) : x;
      mul *= 128;
    }
    return this.fail(where, "a varint is longer than 10 bytes", this.pos);
  }

  /**
   * A field's key: its number and wire type (0 at the end). A key of one byte (fields 1 to 15),
   * as nearly every key is, is read here; a longer one as any varint.
   */
  key(where: string): number {
    const pos = this.pos;
    if (pos < this.end) {
      const c = this.bytes[pos]!;
      if (c < 0x80) {
        this.pos = pos + 1;
        return c;
      }
    }
    return this.varint(where);
  }

  /**
   * The bounds of a length-delimited field's bytes, checked against its message's. A length of
   * one byte (under 128) is read here, a longer one as any varint.
   */
  len(where: string): number {
    let n: number;
    const pos = this.pos;
    const c = pos < this.end ? this.bytes[pos]! : 0x80;
    if (c < 0x80) {
      n = c;
      this.pos = pos + 1;
    } else n = this.varint(where);
    const start = this.pos;
    if (n > this.end - start) this.#runsPast(where, n);
    this.pos = start + n;
    return start;
  }

  /**
   * Fails for a field of `n` bytes that runs past its message's end. The message is made here,
   * not in `len`: one made of numbers there has V8 box the numbers it reads.
   */
  #runsPast(where: string, n: number): never {
    return this.fail(where, `a field of ${n} bytes runs past the end of its message`, n);
  }

  double(where: string): number {
    if (this.pos + 8 > this.end) this.fail(where, "a double is cut short", this.pos);
    const x = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }

  fixed64(where: string): number {
    if (this.pos + 8 > this.end) this.fail(where, "a fixed64 is cut short", this.pos);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getInt32(this.pos + 4, true);
    this.pos += 8;
    return hi * 2 ** 32 + lo;
  }

  string(where: string, start: number, end: number): string {
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch {
      const shown = lenient.decode(this.bytes.subarray(start, Math.min(end, start + 100)));
      return this.fail(where, `a string is not UTF-8: ${JSON.stringify(shown)}`, end - start);
    }
  }

  /** Skips a field of wire type `type`. */
  skip(type: number, where: string): void {
    if (type === VARINT) this.varint(where);
    else if (type === FIXED64) {
      if (this.pos + 8 > this.end) this.fail(where, "a fixed64 is cut short", this.pos);
      this.pos += 8;
    } else if (type === LEN) this.len(where);
    else if (type === FIXED32) {
      if (this.pos + 4 > this.end) this.fail(where, "a fixed32 is cut short", this.pos);
      this.pos += 4;
    } else this.fail(where, `wire type ${type} is not one protobuf has (or a group)`, type);
  }
}

/** The 10-byte varint at `bytes[at..]` as a signed int64 (a rare, slower path). */
function signed64(bytes: Uint8Array, at: number): number {
  let u = 0n;
  for (let i = 9; i >= 0; i--) u = (u << 7n) | BigInt(bytes[at + i]! & 0x7f);
  return Number(BigInt.asIntN(64, u));
}

/** A growing protobuf writer (for encoders: tests, benchmarks and the OTLP answers). */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  pos = 0;

  #room(n: number): void {
    if (this.pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  varint(x: number): void {
    this.#room(10);
    if (x < 0) { // int64 two's complement: ten bytes
      let u = BigInt.asUintN(64, BigInt(x));
      for (let i = 0; i < 9; i++) {
        this.#buf[this.pos++] = Number(u & 0x7fn) | 0x80;
        u >>= 7n;
      }
      this.#buf[this.pos++] = Number(u);
      return;
    }
    while (x >= 0x80) {
      this.#buf[this.pos++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    this.#buf[this.pos++] = x;
  }

  key(field: number, type: number): void {
    this.varint(field * 8 + type);
  }

  double(field: number, x: number): void {
    this.key(field, FIXED64);
    this.#room(8);
    this.#view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  fixed64(field: number, x: number): void {
    this.key(field, FIXED64);
    this.#room(8);
    this.#view.setUint32(this.pos, x % 2 ** 32, true);
    this.#view.setUint32(this.pos + 4, Math.floor(x / 2 ** 32), true);
    this.pos += 8;
  }

  /** A 64-bit fixed field from its two 32-bit words (exact, where a double is not). */
  words64(field: number, hi: number, lo: number): void {
    this.key(field, FIXED64);
    this.#room(8);
    this.#view.setUint32(this.pos, lo, true);
    this.#view.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  bytes(field: number, b: Uint8Array): void {
    this.key(field, LEN);
    this.varint(b.length);
    this.#room(b.length);
    this.#buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  /** Writes a nested message that `write` fills. */
  message(field: number, write: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    write(inner);
    this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.pos);
  }
}
