/**
 * Prometheus's stale marker: a NaN with the bits 0x7ff0000000000002, written when a series
 * disappears from its target. A NaN's payload survives a Float64Array and msgpack `bin` as bytes,
 * but not arithmetic nor always a JS number (an engine may make every NaN one), so it is read and
 * written as bits in typed arrays and carried as bytes, never as a number.
 */

/** The stale marker's bits, high and low 32-bit words. */
export const STALE_MARKER_HI = 0x7ff00000;
export const STALE_MARKER_LO = 0x00000002;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Little-endian everywhere troupe runs (checked here once rather than assumed).
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes the stale marker's bits into `a[i]` (a number cannot be trusted to keep a NaN's bits). */
export function setStaleMarker(a: Float64Array, i: number): void {
  const u = new Uint32Array(a.buffer, a.byteOffset + i * 8, 2);
  u[LE ? 1 : 0] = STALE_MARKER_HI;
  u[LE ? 0 : 1] = STALE_MARKER_LO;
}

/** Whether `a[i]` holds the stale marker's bits (read through a view of `a` kept per buffer). */
export function isStaleMarkerAt(a: Float64Array, i: number): boolean {
  let u = words.get(a.buffer);
  if (u === undefined) {
    u = new Uint32Array(a.buffer, 0, a.buffer.byteLength >>> 2);
    words.set(a.buffer, u);
  }
  const w = (a.byteOffset >>> 2) + i * 2;
  return u[w + (LE ? 1 : 0)] === STALE_MARKER_HI && u[w + (LE ? 0 : 1)] === STALE_MARKER_LO;
}

const words = new WeakMap<ArrayBufferLike, Uint32Array>();

/** Whether `x` is the stale marker, by its bits (if the engine kept them: see isStaleMarkerAt). */
export function isStaleMarker(x: number): boolean {
  if (x === x) return false;
  f64[0] = x;
  return u32[LE ? 1 : 0] === STALE_MARKER_HI && u32[LE ? 0 : 1] === STALE_MARKER_LO;
}
