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
