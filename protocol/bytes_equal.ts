/**
 * Byte equality, written once: the journal's duplicate and name checks, the simulator's
 * invariants and the replay's comparison all ask whether two payloads hold the same bytes.
 */

/** Below this many bytes a plain loop is cheaper than making word views. */
const WORDS_FROM_BYTES = 64;

/**
 * Whether `a` and `b` hold the same bytes (the same view is equal at once). Large payloads that
 * start 4-byte aligned (a frame journaled or logged in the simulator) are compared a 32-bit word
 * at a time: the simulator compares every journaled frame, and Buffer.compare, its memcmp, is not
 * in a browser or in every runtime's globals.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.byteLength;
  if (n !== b.byteLength) return false;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  if (n < WORDS_FROM_BYTES || ((a.byteOffset | b.byteOffset) & 3) !== 0) {
    return bytesEqualAt(a, b, 0);
  }
  const words = n >>> 2;
  const wa = new Uint32Array(a.buffer, a.byteOffset, words);
  const wb = new Uint32Array(b.buffer, b.byteOffset, words);
  for (let i = 0; i < words; i++) if (wa[i] !== wb[i]) return false;
  for (let i = words << 2; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `buf[at, at + a.length)` holds the bytes of `a` (false when `buf` ends before). */
export function bytesEqualAt(a: Uint8Array, buf: Uint8Array, at: number): boolean {
  if (at < 0 || at + a.length > buf.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[at + i]) return false;
  return true;
}
