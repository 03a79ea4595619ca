/**
 * Byte equality, written once: the journal's duplicate and name checks, the simulator's
 * invariants and the replay's comparison all ask whether two payloads hold the same bytes.
 */

/** Whether `a` and `b` hold the same bytes (the same view is equal at once). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  return bytesEqualAt(a, b, 0);
}

/** Whether `buf[at, at + a.length)` holds the bytes of `a` (false when `buf` ends before). */
export function bytesEqualAt(a: Uint8Array, buf: Uint8Array, at: number): boolean {
  if (at < 0 || at + a.length > buf.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[at + i]) return false;
  return true;
}
