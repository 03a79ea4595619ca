/**
 * The series table's keys: a series' label bytes, hashed and compared four bytes at a time, the
 * table's copies of them kept one after another in one growing array of words (no object per
 * key, and the keys of a request's series, made in its order, side by side in memory, which is
 * the order the next request reads them in).
 */

/** A request's label bytes, with a view that reads them four at a time. */
export interface KeySource {
  bytes: Uint8Array;
  view: DataView;
}

/** `bytes` as a KeySource. */
export function keySource(bytes: Uint8Array): KeySource {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The bytes from `from` to `to` (fewer than four) as a little-endian word. */
function tailWord(bytes: Uint8Array, from: number, to: number): number {
  let w = 0;
  for (let i = to - 1; i >= from; i--) w = (w << 8) | bytes[i]!;
  return w;
}

/**
 * A hash of the key `src[from..to)`, a word at a time (MurmurHash3's 32-bit mixing), cut to 30
 * bits so that it is a small integer as a map key.
 */
export function keyHash(src: KeySource, from: number, to: number): number {
  const view = src.view;
  const whole = from + ((to - from) & ~3);
  let h = 0x9747b28c;
  let i = from;
  for (; i < whole; i += 4) h = mix(h, view.getInt32(i, true));
  if (i < to) h = mix(h, tailWord(src.bytes, i, to));
  h ^= to - from;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0x3fffffff;
}

function mix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Where a kept key is: its first word and its length in bytes. */
export interface KeyPlace {
  keyAt: number;
  keyLength: number;
}

/** Keys kept as little-endian words, each key's last word zero past its bytes. */
export class SeriesKeys {
  #words = new Int32Array(1 << 12);
  #used = 0;

  /** Keeps a copy of `src[from..to)`; returns where (the first word). */
  add(src: KeySource, from: number, to: number): number {
    const n = (to - from + 3) >>> 2;
    if (this.#used + n > this.#words.length) this.#grow(this.#used + n);
    const at = this.#used;
    const words = this.#words, view = src.view;
    const whole = (to - from) >>> 2;
    for (let j = 0; j < whole; j++) words[at + j] = view.getInt32(from + 4 * j, true);
    if (whole < n) words[at + whole] = tailWord(src.bytes, from + 4 * whole, to);
    this.#used += n;
    return at;
  }

  /** Whether the key kept at `place` is the bytes `src[from..to)`. */
  same(place: KeyPlace, src: KeySource, from: number, to: number): boolean {
    if (place.keyLength !== to - from) return false;
    const words = this.#words, view = src.view, at = place.keyAt;
    const whole = (to - from) >>> 2;
    for (let j = 0; j < whole; j++) {
      if (words[at + j] !== view.getInt32(from + 4 * j, true)) return false;
    }
    return whole === (to - from + 3) >>> 2 ||
      words[at + whole] === tailWord(src.bytes, from + 4 * whole, to);
  }

  /** Keeps only the keys of `places` (moving them together, each place's `keyAt` updated). */
  keepOnly(places: Iterable<KeyPlace>): void {
    const old = this.#words;
    const words = new Int32Array(old.length);
    let used = 0;
    for (const p of places) {
      const n = (p.keyLength + 3) >>> 2;
      words.set(old.subarray(p.keyAt, p.keyAt + n), used);
      p.keyAt = used;
      used += n;
    }
    this.#words = words;
    this.#used = used;
  }

  #grow(needed: number): void {
    let size = this.#words.length * 2;
    while (size < needed) size *= 2;
    const words = new Int32Array(size);
    words.set(this.#words.subarray(0, this.#used));
    this.#words = words;
  }
}
