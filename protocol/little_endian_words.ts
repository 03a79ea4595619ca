/**
 * Typed arrays written to and read from little-endian bytes, as saved states and snapshots hold
 * them: one copy of the bytes on a little-endian machine (every machine troupe runs on today),
 * a value at a time through a DataView elsewhere. The bytes are the same either way, to the bit.
 */
import { LITTLE_ENDIAN } from "./float64_column.ts";

/** The typed arrays of 2-, 4- and 8-byte values these read and write. */
export type Words = Float64Array | Int32Array | Uint32Array | Uint16Array;

/**
 * Writes the first `n` values of `a` (`a.length` when not given; zeros for any past its end,
 * left as `out` holds them) into `out` at byte `at`, little-endian; returns the byte after them.
 */
export function writeWords(out: Uint8Array, at: number, a: Words, n = a.length): number {
  const size = a.BYTES_PER_ELEMENT, kept = Math.min(n, a.length);
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, kept * size), at);
  } else {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let i = 0; i < kept; i++) setWord(view, at + i * size, a, a[i]!);
  }
  return at + n * size;
}

/** `n` little-endian values read from `bytes` at byte `at` into a fresh array of `Type`. */
export function readWords<T extends Words>(
  Type: { new (n: number): T; BYTES_PER_ELEMENT: number },
  bytes: Uint8Array,
  at: number,
  n: number,
): T {
  const out = new Type(n), size = Type.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + n * size));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = getWord(view, at + i * size, out);
  return out;
}

/**
 * Reads `n` little-endian values from `bytes` at byte `at` into the start of `out` (which must
 * hold them): a load that keeps the values makes its array once, rather than a temporary to copy
 * from.
 */
export function readWordsInto(out: Words, bytes: Uint8Array, at: number, n: number): void {
  const size = out.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer, out.byteOffset, n * size).set(bytes.subarray(at, at + n * size));
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = getWord(view, at + i * size, out);
}

/** What `borrowFloat64s` copies into where the bytes cannot be read in place. */
let scratch = new Float64Array(0);

/**
 * `n` little-endian float64s of `bytes` from byte `at`, lent: a view of the bytes themselves where
 * they lie on an 8-byte boundary of a little-endian machine, else a copy in one array shared by
 * every caller on the thread. Valid until the next call, and not to be written: for a load that
 * reads a saved state whole and copies out what it keeps, so that a restore of 100,000 instances
 * does not make (and leave to the collector) a temporary array for each.
 */
export function borrowFloat64s(bytes: Uint8Array, at: number, n: number): Float64Array {
  const offset = bytes.byteOffset + at;
  if (LITTLE_ENDIAN && offset % 8 === 0) return new Float64Array(bytes.buffer, offset, n);
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  const out = scratch.subarray(0, n);
  readWordsInto(out, bytes, at, n);
  return out;
}

function setWord(view: DataView, at: number, a: Words, v: number): void {
  if (a instanceof Float64Array) view.setFloat64(at, v, true);
  else if (a instanceof Int32Array) view.setInt32(at, v, true);
  else if (a instanceof Uint16Array) view.setUint16(at, v, true);
  else view.setUint32(at, v, true);
}

function getWord(view: DataView, at: number, a: Words): number {
  if (a instanceof Float64Array) return view.getFloat64(at, true);
  if (a instanceof Int32Array) return view.getInt32(at, true);
  if (a instanceof Uint16Array) return view.getUint16(at, true);
  return view.getUint32(at, true);
}
