/**
 * The ids of the inputs an actor instance applied most recently: the same envelope id sent twice
 * (a producer's retry, a copy on another subject) is applied once, whatever the input source, so
 * that two outputs never carry one id for different inputs. Part of the instance's state: it is
 * saved in snapshots and rebuilt by replaying the journal, so a restart decides as the first run
 * did. Bounded: the oldest id goes when a new one comes past `INPUT_IDS_MAX`.
 */

/** How many recent input ids an instance remembers. */
export const INPUT_IDS_MAX = 256;

/**
 * A bounded window of recent input ids, oldest first. The ids sit in a ring and, by their index
 * in it, in an open-addressed table of their own hashes (linear probing, deletion by backward
 * shift): a Set of the ids cost ~0.4-1.2 us an input (a lookup, then a lookup, an add and a
 * delete of fresh strings, and the Set's rehash as deletions fill it), on every frame's path.
 */
export class InputIdWindow {
  readonly #ring: string[] = [];
  /** Each ring entry's hash. */
  readonly #hashes: Int32Array;
  /** Ring index + 1 of the id hashed to each slot, 0 for an empty slot. */
  readonly #table: Int32Array;
  readonly #mask: number;
  readonly #max: number;
  #next = 0;
  /** The last id looked up and its hash: `add` after `has` of the same id hashes it once. */
  #lastId = "";
  #lastHash = 0;

  constructor(ids: readonly string[] = [], max = INPUT_IDS_MAX) {
    if (!(Number.isSafeInteger(max) && max > 0)) {
      throw new RangeError(`An input id window must hold at least one id, got ${max}`);
    }
    this.#max = max;
    this.#hashes = new Int32Array(max);
    let slots = 8;
    while (slots < max * 4) slots *= 2; // at most a quarter full: short probes
    this.#table = new Int32Array(slots);
    this.#mask = slots - 1;
    for (const id of ids.slice(-max)) this.add(id);
  }

  /** Whether `id` is among the recent ids. */
  has(id: string): boolean {
    return this.#find(id, this.#hash(id)) >= 0;
  }

  /** Remembers `id`, forgetting the oldest when the window is full. */
  add(id: string): void {
    const h = this.#hash(id);
    if (this.#find(id, h) >= 0) return;
    const ring = this.#ring, at = this.#next;
    if (ring.length < this.#max) ring.push(id);
    else {
      this.#remove(this.#slotOf(at));
      ring[at] = id;
    }
    this.#hashes[at] = h;
    const table = this.#table, mask = this.#mask;
    let i = h & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = at + 1;
    this.#next = (at + 1) % this.#max;
  }

  /** The ids, oldest first (for a snapshot). */
  toArray(): string[] {
    if (this.#ring.length < this.#max) return [...this.#ring];
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  #hash(id: string): number {
    if (id === this.#lastId) return this.#lastHash;
    let h = id.length;
    for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x45d9f3b);
    h ^= h >>> 16;
    this.#lastId = id;
    this.#lastHash = h;
    return h;
  }

  /** The ring index of `id` (hash `h`), or -1. */
  #find(id: string, h: number): number {
    const table = this.#table, mask = this.#mask, ring = this.#ring, hashes = this.#hashes;
    for (let i = h & mask; table[i] !== 0; i = (i + 1) & mask) {
      const at = table[i]! - 1;
      if (hashes[at] === h && ring[at] === id) return at;
    }
    return -1;
  }

  /** The table slot that holds ring index `at`. */
  #slotOf(at: number): number {
    const table = this.#table, mask = this.#mask;
    let i = this.#hashes[at]! & mask;
    while (table[i] !== at + 1) i = (i + 1) & mask;
    return i;
  }

  /** Empties slot `i`, moving back the entries after it that would no longer be found. */
  #remove(i: number): void {
    const table = this.#table, mask = this.#mask, hashes = this.#hashes;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (table[j] === 0) break;
      const home = hashes[table[j]! - 1]! & mask;
      // The entry at j stays unless the hole at i lies between its home slot and j (cyclically).
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      table[i] = table[j]!;
      i = j;
    }
    table[i] = 0;
  }
}

/** The ids of a snapshot's window, or [] when it has none (a snapshot from before the window). */
export function idsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((id): id is string => typeof id === "string");
}
