/**
 * A column of float64 values on the wire: msgpack `bin` of 8-byte little-endian values, viewed in
 * place where the bytes allow it and copied once where they do not.
 */
import { ProtocolError } from "./protocol_error.ts";
import { float64Copy } from "./_frame_codec.ts";

/** Whether this machine stores float64 values little-endian, as the wire does. */
export const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** The 8-byte little-endian values of `a` as bytes (a view of it on a little-endian machine). */
export function float64Bytes(a: Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i]!, true);
  return out;
}

/** Views (or, when misaligned, copies once) a bin of 8-byte little-endian values. */
export function float64Column(bin: Uint8Array, field: string): Float64Array {
  if (bin.byteLength % 8 !== 0) {
    throw new ProtocolError(
      "field",
      `Message field "${field}" must be bin of 8-byte values, got ${bin.byteLength} bytes`,
      { field, value: bin },
    );
  }
  const n = bin.byteLength / 8;
  if (!LITTLE_ENDIAN) {
    const out = new Float64Array(n);
    const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  }
  if (bin.byteOffset % 8 === 0) return new Float64Array(bin.buffer, bin.byteOffset, n);
  return float64Copy(bin);
}
