/**
 * Small byte strings a process keeps for long (a host's subjects and journal stream names, one or
 * more a channel), carved from slabs of their own. An ArrayBuffer of its own costs a small string
 * more than its bytes (the buffer object, its backing store and the allocator's header); carved,
 * it costs a view. The slabs are not the frame codec's (`allocBytes`): its regions live for a
 * message, and one kept string would hold a whole slab of spent messages alive. Kept strings are
 * never freed one by one: a slab goes when no view of it is left (its cache cleared, its streams
 * gone).
 */

const utf8 = new TextEncoder();

/** A slab's bytes: a few hundred subjects or names. */
const SLAB_BYTES = 16 * 1024;
/** Strings longer than this get an array of their own. */
const CARVED_MAX = SLAB_BYTES / 16;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** `text`'s UTF-8 bytes, kept: read them, never change them. */
export function keptUtf8(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  const n = bytes.byteLength;
  if (n > CARVED_MAX) return bytes;
  const out = carve(n);
  out.set(bytes);
  return out;
}

/**
 * A kept copy of `buf[at, at + n)` (read it, never change it): a name's bytes met in a file
 * read whole, which a view of would keep alive. Copied a byte at a time: a name is tens of bytes,
 * fewer than a view made to copy them through costs.
 */
export function keptCopy(buf: Uint8Array, at: number, n: number): Uint8Array {
  const out = n > CARVED_MAX ? new Uint8Array(n) : carve(n);
  for (let i = 0; i < n; i++) out[i] = buf[at + i]!;
  return out;
}

/** `n` bytes carved from the slab (a new one when it is full). */
function carve(n: number): Uint8Array {
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  used += n;
  return out;
}
