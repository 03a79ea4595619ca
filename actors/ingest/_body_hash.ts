/**
 * A request body's hash, the id a receiver gives what it journals from the request: the same bytes
 * sent again (a retry) give the same id, so the hosts apply them once.
 */

/** The two words of the last body hashed (int32 each: see `hashWords`). */
const HASHED = new Int32Array(2);

/**
 * Two 32-bit hashes of `bytes`, four bytes at a time, as 16 hex digits: a retry's id is its first
 * try's.
 */
export function bodyHash(bytes: Uint8Array): string {
  hashWords(bytes);
  return hex8(HASHED[0]!) + hex8(HASHED[1]!);
}

/**
 * The hashes into `HASHED`, apart from their formatting and in int32 arithmetic only. A request's
 * body is hashed in one call, so V8 optimizes this function in the middle of its loop; code after
 * the loop that asked for an unsigned 32-bit number (which int32 cannot hold) would send the
 * optimized code back to the interpreter at each call's end, and each next body would be hashed
 * there.
 */
function hashWords(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength, whole = n & ~3;
  let a = 0x811c9dc5 | 0, b = 0x01000193 ^ n;
  for (let i = 0; i < whole; i += 4) {
    const x = view.getInt32(i, true);
    a = Math.imul(a ^ x, 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b ^ x, 0x5bd1e995);
    b ^= b >>> 13;
  }
  for (let i = whole; i < n; i++) {
    const x = view.getUint8(i);
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x5bd1e995);
  }
  HASHED[0] = a;
  HASHED[1] = b;
}

/** An int32's 32 bits as 8 hex digits. */
function hex8(word: number): string {
  return (word >>> 0).toString(16).padStart(8, "0");
}
