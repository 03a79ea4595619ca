/**
 * The ids of the inputs an actor instance applied most recently: the same envelope id sent twice
 * (a producer's retry, a copy on another subject) is applied once, whatever the input source, so
 * that two outputs never carry one id for different inputs. Part of the instance's state: it is
 * saved in snapshots and rebuilt by replaying the journal, so a restart decides as the first run
 * did. Bounded: the oldest id goes when a new one comes past `INPUT_IDS_MAX`.
 */

/** Decodes ASCII bytes to their characters (UTF-8, on bytes all below 128). */
const ASCII = new TextDecoder();

/** How many recent input ids an instance remembers. */
export const INPUT_IDS_MAX = 256;

/**
 * Ids longer than this (in UTF-16 code units) are kept as strings, not as their characters: room
 * for a feed batch's frame ids (the batch's id, a slash and a channel name of up to 64), and the
 * most an entry's length in the ring's Int8Array holds.
 */
const ID_CHARS_KEPT_MAX = 127;
/**
 * Room, in ids, that a window starts with (its characters, hashes and table, doubled as it fills,
 * up to its bound): a channel that takes a sample every 15 s fills a window of 256 in an hour, and
 * a host holds a window per instance, so one sized for its bound from the start costs every new
 * instance what it may never use.
 */
const ROOM_IDS_MIN = 8;

/** Options of an InputIdWindow. */
export interface InputIdWindowOptions {
  /**
   * An ending most ids share (a feed batch's frame ids end with `/` and the instance's key): kept
   * once, not with each id, so an entry's room is the rest of the id.
   */
  suffix?: string;
}

/**
 * A bounded window of recent input ids, oldest first. The ids sit in a ring and, by their index
 * in it, in an open-addressed table of their own hashes (linear probing, deletion by backward
 * shift): a Set of the ids cost ~0.4-1.2 us an input (a lookup, then a lookup, an add and a
 * delete of fresh strings, and the Set's rehash as deletions fill it), on every frame's path.
 *
 * The ring keeps an id's characters, one byte each (every id whose characters are below 256 and
 * that is at most `ID_CHARS_KEPT_MAX` long: all ids in practice), not the id's string: a string
 * held for the window's 256 inputs outlives a few young-generation collections, so each input's
 * id would be promoted to the old generation and die there, the host's only promotion per frame
 * and the cause of its full collections. Any other id is kept as its string. An id that ends with
 * the window's suffix is kept without it (its length negative: -2 - the characters kept).
 */
export class InputIdWindow {
  /** Ids in the window. */
  #size = 0;
  /**
   * Each ring entry's characters, `#slot` bytes an entry, and how many: -1 for a string, -2 - n
   * for n characters followed by the suffix.
   */
  #chars = new Uint8Array(0);
  #slot = 0;
  #lengths: Int8Array;
  /** Ring entries kept as strings (ids no byte a character can hold); sparse. */
  readonly #strings: Array<string | undefined> = [];
  /** Each ring entry's hash. */
  #hashes: Int32Array;
  /** Ring index + 1 of the id hashed to each slot, 0 for an empty slot. */
  #table: Int32Array | Uint16Array;
  #mask: number;
  readonly #max: number;
  readonly #suffix: string;
  #next = 0;
  /** Whether every byte `#chars` ever held is below 128 (so UTF-8 decodes each to itself). */
  #ascii = true;
  /** The last id looked up and its hash: `add` after `has` of the same id hashes it once. */
  #lastId = "";
  #lastHash = 0;

  constructor(
    ids: readonly string[] = [],
    max = INPUT_IDS_MAX,
    options: InputIdWindowOptions = {},
  ) {
    if (!(Number.isSafeInteger(max) && max > 0)) {
      throw new RangeError(`An input id window must hold at least one id, got ${max}`);
    }
    this.#max = max;
    this.#suffix = options.suffix ?? "";
    const room = Math.min(max, Math.max(ROOM_IDS_MIN, ids.length));
    this.#hashes = new Int32Array(room);
    this.#lengths = new Int8Array(room);
    this.#table = newTable(tableSlots(room), max);
    this.#mask = this.#table.length - 1;
    for (const id of ids.slice(-max)) this.add(id);
  }

  /** The bytes the window's arrays hold (its ids kept as strings aside). */
  get bytes(): number {
    return this.#chars.byteLength + this.#lengths.byteLength + this.#hashes.byteLength +
      this.#table.byteLength;
  }

  /** Whether `id` is among the recent ids. */
  has(id: string): boolean {
    return this.#find(id, this.#hash(id)) >= 0;
  }

  /** Remembers `id`, forgetting the oldest when the window is full. */
  add(id: string): void {
    const h = this.#hash(id);
    if (this.#find(id, h) >= 0) return;
    const at = this.#next;
    if (at >= this.#hashes.length) this.#grow();
    if (this.#size < this.#max) this.#size++;
    else this.#remove(this.#slotOf(at));
    this.#keep(at, id);
    this.#hashes[at] = h;
    const table = this.#table, mask = this.#mask;
    let i = h & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = at + 1;
    this.#next = (at + 1) % this.#max;
  }

  /** The ids, oldest first (for a snapshot). */
  toArray(): string[] {
    const ids: string[] = [];
    const first = this.#size < this.#max ? 0 : this.#next;
    // Every snapshot takes the whole window: while every byte kept is ASCII (the bytes of an id
    // whose characters are all below 128, or zero), all the characters are decoded at once and
    // each id is a slice of them, not a string made from its bytes one id at a time.
    const all = this.#ascii && this.#size > 0 ? ASCII.decode(this.#chars) : undefined;
    for (let k = 0; k < this.#size; k++) {
      const at = (first + k) % this.#max;
      const n = this.#lengths[at]!;
      if (all === undefined || n === -1) ids.push(this.#idAt(at));
      else if (n >= 0) ids.push(all.slice(at * this.#slot, at * this.#slot + n));
      else ids.push(all.slice(at * this.#slot, at * this.#slot - 2 - n) + this.#suffix);
    }
    return ids;
  }

  /** Puts `id` at ring index `at`: its characters, or its string when a byte cannot hold one. */
  #keep(at: number, id: string): void {
    const suffix = this.#suffix;
    // A suffixed entry's length is -2 - n, so n stops one short of what a plain one holds.
    const suffixed = suffix.length > 0 && id.length > suffix.length &&
      id.length - suffix.length < ID_CHARS_KEPT_MAX && id.endsWith(suffix);
    const n = suffixed ? id.length - suffix.length : id.length;
    if (n <= ID_CHARS_KEPT_MAX) {
      if (n > this.#slot || (at + 1) * this.#slot > this.#chars.length) this.#makeRoom(at, n);
      const chars = this.#chars, o = at * this.#slot;
      let i = 0;
      for (; i < n; i++) {
        const c = id.charCodeAt(i);
        if (c > 0xff) break;
        if (c > 0x7f) this.#ascii = false;
        chars[o + i] = c;
      }
      if (i === n) {
        this.#lengths[at] = suffixed ? -2 - n : n;
        if (this.#strings[at] !== undefined) this.#strings[at] = undefined;
        return;
      }
    }
    this.#lengths[at] = -1;
    this.#strings[at] = id;
  }

  /**
   * Grows the characters' room to hold ring index `at` and an id of `n` characters: entries of
   * at least `n` bytes, room for twice as many entries (up to the bound). Entries are as long as
   * the longest id, not rounded up: a full window's ids are most of a channel's bytes, and ids of
   * one feed differ in length by a digit or two, so few lengths lay the entries out again.
   */
  #makeRoom(at: number, n: number): void {
    const slot = Math.max(this.#slot, n);
    const held = this.#slot === 0 ? 0 : this.#chars.length / this.#slot;
    let room = Math.max(held, ROOM_IDS_MIN);
    while (room <= at) room *= 2;
    room = Math.min(room, this.#max);
    const chars = new Uint8Array(room * slot);
    if (slot === this.#slot) chars.set(this.#chars);
    else {
      for (let e = 0; e < held; e++) {
        const o = e * this.#slot;
        chars.set(this.#chars.subarray(o, o + this.#slot), e * slot);
      }
    }
    this.#chars = chars;
    this.#slot = slot;
  }

  /** The id at ring index `at`. */
  #idAt(at: number): string {
    const n = this.#lengths[at]!;
    if (n === -1) return this.#strings[at]!;
    const o = at * this.#slot;
    // The bytes themselves as the arguments: no array of them made first.
    const codes = this.#chars.subarray(o, o + (n >= 0 ? n : -2 - n)) as unknown as number[];
    const kept = String.fromCharCode.apply(null, codes);
    return n >= 0 ? kept : kept + this.#suffix;
  }

  /** Whether the id at ring index `at` is `id`. */
  #is(at: number, id: string): boolean {
    let n = this.#lengths[at]!;
    if (n === -1) return this.#strings[at] === id;
    if (n < -1) {
      n = -2 - n;
      if (n + this.#suffix.length !== id.length || !id.endsWith(this.#suffix)) return false;
    } else if (n !== id.length) return false;
    const chars = this.#chars, o = at * this.#slot;
    for (let i = 0; i < n; i++) {
      if (chars[o + i] !== id.charCodeAt(i)) return false;
    }
    return true;
  }

  /** Doubles the room for ids (up to the bound): the hashes, lengths and table laid out again. */
  #grow(): void {
    const room = Math.min(this.#max, this.#hashes.length * 2);
    const hashes = new Int32Array(room), lengths = new Int8Array(room);
    hashes.set(this.#hashes);
    lengths.set(this.#lengths);
    this.#hashes = hashes;
    this.#lengths = lengths;
    const table = newTable(tableSlots(room), this.#max), mask = table.length - 1;
    // Growth comes only while the window fills, so ring indices 0..size-1 are its ids.
    for (let at = 0; at < this.#size; at++) {
      let i = hashes[at]! & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = at + 1;
    }
    this.#table = table;
    this.#mask = mask;
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
    const table = this.#table, mask = this.#mask, hashes = this.#hashes;
    for (let i = h & mask; table[i] !== 0; i = (i + 1) & mask) {
      const at = table[i]! - 1;
      if (hashes[at] === h && this.#is(at, id)) return at;
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

/**
 * A table of `slots` slots for a window of `max` ids: 16-bit slots where every ring index + 1
 * fits (a window of the default 256 ids), half the bytes of 32-bit ones.
 */
function newTable(slots: number, max: number): Int32Array | Uint16Array {
  return max < 0xffff ? new Uint16Array(slots) : new Int32Array(slots);
}

/** Table slots for `room` ids: at most half full (linear probing's probes stay short). */
function tableSlots(room: number): number {
  let slots = 8;
  while (slots < room * 2) slots *= 2;
  return slots;
}

/** The ids of a snapshot's window, or [] when it has none (a snapshot from before the window). */
export function idsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((id): id is string => typeof id === "string");
}
