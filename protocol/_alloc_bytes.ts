/**
 * Fresh byte arrays for messages and saved states: carved from a shared slab, as Node pools small
 * Buffers, or, inside `reusingBytes`, from one region every such call reuses. What the frame
 * codec, the value writer and the kernels' saves write into.
 */
const SLAB_BYTES = 256 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
/** The whole slab as bytes, made once a slab: a copy into it needs no view of its own. */
let slabBytes = new Uint8Array(slab);
let slabUsed = 0;

/** The offset of `n` fresh bytes carved from the slab (n at most SLAB_BYTES / 8). */
function carve(n: number): number {
  if (slabUsed + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabBytes = new Uint8Array(slab);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += (n + 7) & ~7;
  return at;
}

/** The region `reusingBytes` carves from, reused by every call of it, and how much it used. */
let reused = new ArrayBuffer(SLAB_BYTES);
let reusedUsed = 0;
let reusing = false;

/** The offset of `n` bytes carved from the reused region (a larger one made when it is full). */
function carveReused(n: number): number {
  if (reusedUsed + n > reused.byteLength) {
    // What this call carved before stays in the region it was carved from.
    reused = new ArrayBuffer(Math.max(2 * reused.byteLength, n + 8));
    reusedUsed = 0;
  }
  const at = reusedUsed;
  reusedUsed += (n + 7) & ~7;
  return at;
}

/**
 * Runs `fn` with `allocBytes` and `float64Copy` carving from one region that every call of this
 * reuses: what they make inside is good only until the next call begins. For bytes copied out at
 * once and then dropped, such as a stopping host's snapshots, each encoded into its batch as it
 * is taken: at fleet size those are a host's whole state within seconds, and fresh buffers of
 * that much would have V8 mark the whole heap again every 64 MB of them (its rule for memory
 * outside the heap). Nothing `fn` makes may be kept past the next call.
 */
export function reusingBytes<T>(fn: () => T): T {
  if (reusing) return fn();
  reusedUsed = 0;
  reusing = true;
  try {
    return fn();
  } finally {
    reusing = false;
  }
}

/**
 * A fresh, 8-byte aligned byte array. Small arrays are carved from a shared slab, the way Node
 * pools small Buffers: allocating an ArrayBuffer per message costs more than filling it. A region
 * is never handed out twice (the slab is never reused, only replaced), so a message's bytes are
 * its own for as long as anything refers to them; inside `reusingBytes`, until its next call.
 */
export function allocBytes(n: number): Uint8Array {
  if (reusing) {
    const at = carveReused(n);
    return new Uint8Array(reused, at, n);
  }
  if (n > SLAB_BYTES / 8) return new Uint8Array(n);
  const at = carve(n); // first: it may replace the slab
  return new Uint8Array(slab, at, n);
}

/**
 * A fresh Float64Array holding the bytes of `bin` (a whole number of 8-byte values, in the
 * machine's order), carved from the slab like `allocBytes`: one typed array made, where a byte
 * array to carve and a view of it to copy through would make three (for a misaligned column).
 */
export function float64Copy(bin: Uint8Array): Float64Array {
  const n = bin.byteLength;
  if (reusing) {
    const at = carveReused(n);
    new Uint8Array(reused, at, n).set(bin);
    return new Float64Array(reused, at, n / 8);
  }
  if (n > SLAB_BYTES / 8) {
    const out = new Float64Array(n / 8);
    new Uint8Array(out.buffer).set(bin);
    return out;
  }
  const at = carve(n); // first: it may replace the slab
  slabBytes.set(bin, at);
  return new Float64Array(slab, at, n / 8);
}
