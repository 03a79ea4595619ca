/**
 * An input id's fingerprint: 64 bits computed from the id's UTF-16 code units, which an actor
 * instance keeps for each input it applied recently in place of the id itself (its window of
 * applied ids, actors/runtime/instances/input_id_window.ts), and which snapshots and state
 * captures carry as the window's saved form: 8 bytes an id, oldest first, each the low then the
 * high half, little-endian. The function is part of that wire: a change to it makes every saved
 * window forget the ids it holds.
 *
 * Why 64 bits: two different ids with one fingerprint make the second input look applied, and it
 * is passed over. An id is looked up among at most 256, so the chance of that for one input is
 * about 256 / 2^64, 1.4e-17: a fleet applying 4 million inputs a second meets one in some 560
 * years. Ids are what producers send; one that can send a colliding id can send any input, so
 * the hash needs no key. It is two 32-bit lanes over two code units a step (each lane a
 * multiply, a rotate and an xor: every step a bijection of the lane's state, so ids of one length
 * that differ spread over all of it), each ended by the finalizer of MurmurHash3 (`fmix32`) with
 * the other lane and the length folded in.
 */
import { readWords } from "./little_endian_words.ts";
import { LITTLE_ENDIAN } from "./float64_column.ts";
import { allocBytes } from "./_frame_codec.ts";

/** Bytes a fingerprint takes in a saved window. */
export const FINGERPRINT_BYTES = 8;

/** The last id fingerprinted and its halves: an id looked up, then added, is hashed once. */
let lastId: string | undefined;
let lastLo = 0;
let lastHi = 0;

/** Writes `id`'s fingerprint to `out[at]` (its low half) and `out[at + 1]` (its high half). */
export function writeFingerprint(id: string, out: Int32Array, at: number): void {
  if (id !== lastId) fingerprint(id);
  out[at] = lastLo;
  out[at + 1] = lastHi;
}

/** Computes `id`'s fingerprint into `lastLo` and `lastHi`. */
function fingerprint(id: string): void {
  const n = id.length;
  let a = 0x2f8a_3c61 ^ n, b = 0x6d1f_9e47 ^ Math.imul(n, 0x9e37_79b1);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = id.charCodeAt(i) | (id.charCodeAt(i + 1) << 16);
    a = Math.imul(a ^ k, 0x9e37_79b1);
    a = (a << 13) | (a >>> 19);
    b = Math.imul(b ^ k, 0x85eb_ca77);
    b = (b << 17) | (b >>> 15);
  }
  if (i < n) {
    const k = id.charCodeAt(i);
    a = Math.imul(a ^ k, 0x9e37_79b1);
    b = Math.imul(b ^ k, 0x85eb_ca77);
  }
  a = fmix32(a ^ Math.imul(b, 0xc2b2_ae35));
  b = fmix32(b ^ Math.imul(a, 0x27d4_eb2f));
  lastId = id;
  lastLo = a;
  lastHi = b;
}

/** MurmurHash3's 32-bit finalizer: every input bit reaches every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h;
}

/** A saved window's bytes from its fingerprints (`fps`: low and high halves, two an id). */
export function saveFingerprints(fps: Int32Array): Uint8Array {
  const n = fps.length / 2;
  return saveFingerprintRing(fps, 0, n, n);
}

/**
 * A saved window's bytes from a ring of fingerprints (`fps`, two halves an id): `n` ids, oldest
 * first, from id slot `first`, the ring wrapping at `slots` ids. Written into the bytes in place,
 * not ordered into an array first: that would be one more small array a snapshot, and copying
 * out of it makes the runtime give it a buffer of its own.
 */
export function saveFingerprintRing(
  fps: Int32Array,
  first: number,
  n: number,
  slots: number,
): Uint8Array {
  const bytes = allocBytes(n * FINGERPRINT_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0, at = first; k < n; k++, at = at + 1 === slots ? 0 : at + 1) {
    view.setInt32(k * 8, fps[2 * at]!, true);
    view.setInt32(k * 8 + 4, fps[2 * at + 1]!, true);
  }
  return bytes;
}

/**
 * Reads id `i` of a saved window (`view`: a view of its bytes) into `out[at]` (its low half) and
 * `out[at + 1]` (its high half): a restore reads the ids where they lie, with no array made for
 * them.
 */
export function readSavedFingerprint(view: DataView, i: number, out: Int32Array, at: number): void {
  out[at] = view.getInt32(i * FINGERPRINT_BYTES, true);
  out[at + 1] = view.getInt32(i * FINGERPRINT_BYTES + 4, true);
}

/**
 * The fingerprints a saved window holds, two halves an id, oldest first: from its bytes, or from
 * the ids themselves (a window saved before fingerprints); `undefined` for anything else. From
 * bytes, it may be a view of them (on a little-endian machine, where they are 4-byte aligned: a
 * restore of 100,000 windows makes no array of its own for each): read it before they change.
 */
export function fingerprintsOf(saved: unknown): Int32Array | undefined {
  if (saved instanceof Uint8Array) {
    if (saved.byteLength % FINGERPRINT_BYTES !== 0) return undefined;
    if (LITTLE_ENDIAN && saved.byteOffset % 4 === 0) {
      return new Int32Array(saved.buffer, saved.byteOffset, saved.byteLength / 4);
    }
    return readWords(Int32Array, saved, 0, saved.byteLength / 4);
  }
  if (!Array.isArray(saved) || !saved.every((id) => typeof id === "string")) return undefined;
  const fps = new Int32Array(saved.length * 2);
  saved.forEach((id: string, i) => writeFingerprint(id, fps, i * 2));
  return fps;
}

/** A saved window's bytes, its ids given as strings (for a window built from them). */
export function savedIds(ids: readonly string[]): Uint8Array {
  return saveFingerprints(fingerprintsOf(ids)!);
}
