/**
 * The anomaly kernel's memory of what it has seen: an open-addressing set of (context, bin) keys
 * with, per key, the time it was first seen, and per context the Witten–Bell counts (samples N,
 * distinct bins D). A novelty's surprise is -log2((D + 1) / (N + D + 1)) bits.
 *
 * A key's time of birth is an index (2 bytes) into the times keys were born at (8 bytes each),
 * not a time of its own: a sample new in a context is new in several (up to four views a grid),
 * and the warm-up's keys are all born at once, so keys share times. NAB's series hold 2.5 to 8.5
 * keys a time (87 to 2,700 keys): 6 bytes a slot and a time's 8 for a share of them, against 12 a
 * slot.
 */
import { log2Fast } from "../math/mod.ts";

/** Distinct (context, bin) keys remembered at most: past it, new keys are not scored (a bound). */
export const KEYS_MAX = 65_536;

/**
 * The part of the kernel state the table works on. A set of up to half of KEYS_INITIAL keys is a
 * list (its keys in the order that lays out the table it becomes, and an index over them),
 * the size of what it holds; a larger one is that table.
 */
export interface AnomalyTable {
  /** Scalars; slot `TABLE_SLOTS.keys` holds the key count. */
  s: Float64Array;
  /** Per context: samples seen N and distinct bins D. */
  ctx: Float64Array;
  /**
   * Open-addressing set of (context, bin) keys + 1; 0 is empty. While `index` is set: the keys
   * + 1 in the order they lay out a table of KEYS_INITIAL slots, the first count of them used.
   */
  keys: Uint32Array;
  /** Per slot (or list entry) of `keys`: the index in `births` of the time its key was born. */
  born: Uint16Array;
  /**
   * The times (µs) keys were first seen, in the order first met (a time again right after itself
   * is not added again), `birthCount` of them: each is a key's, so there are at most KEYS_MAX and
   * an index fits in 16 bits.
   */
  births: Float64Array;
  birthCount: number;
  /**
   * While the set is a list: per slot, an entry of `keys` + 1 (0 is empty), open addressing by the
   * same hash, twice the list's room. Undefined once the set is a table.
   */
  index: Uint16Array | undefined;
  /** The keys in the list (the key count, unless a caller set that count itself). */
  listed: number;
}

/** A table key is a context id (12 bits) and a bin (20 bits, two's complement). */
const BIN_BITS = 20;
const BIN_MASK = (1 << BIN_BITS) - 1;

/** The scalar slots the table counts keys in; set by the state layout (see _state.ts). */
export const TABLE_SLOTS = { keys: 18 } as const;

/**
 * `KEY_TIME[0]`: the time (µs) a key `observe` inserts is first seen at, written by the caller
 * first. Not an argument: a time in µs passed to a call not inlined is a heap number allocated.
 */
export const KEY_TIME = new Float64Array(1);

/** The table key of `bin` in context `c`. */
export function keyOf(c: number, bin: number): number {
  return ((c << BIN_BITS) | (bin & BIN_MASK)) >>> 0;
}

function mix(key: number): number {
  let h = Math.imul(key ^ (key >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A table grows (doubles) before it is more than LOAD_NUM / LOAD_DEN full: three quarters. Linear
 * probing then looks at 2.5 slots on average to find a key and 8.5 to miss one (Knuth, TAOCP
 * vol. 3, 6.4), against 1.5 and 2.5 at half full; a channel of real data holds its keys in half
 * the bytes (NAB's series: 1,040 to 2,700 keys in 4,096 slots at most, not 8,192).
 */
export const LOAD_NUM = 3, LOAD_DEN = 4;

/**
 * A key set's slots when it becomes a table (a list's keys laid out): it grows, doubling, as
 * keys come (KEYS_MAX needs far more).
 */
export const KEYS_INITIAL = 1024;
/**
 * A list's first room: it grows as keys come (grownRoom). Most channels of a metrics fleet (flat,
 * counting, stepping) meet few bins, and a list holds what they met, not KEYS_INITIAL slots.
 */
export const LIST_INITIAL = 16;
/**
 * The room a list that outgrows its first goes to: four times it, not twice. A channel that meets
 * more bins than LIST_INITIAL meets many, and early (NAB's series: a quarter of them hold under 48
 * keys after 10 samples, the median 60, 144 after 40), so a list past its first room would pass
 * twice it within a few samples; each growth's arrays die in the old generation (the list has
 * lived through its channel's samples), where a fleet host's full collections find them. Past
 * this room a list doubles: a larger step makes more bytes outside the heap at once, which V8
 * answers with a full marking every 64 MB of them, and holds more room above the keys.
 */
const LIST_SECOND_ROOM = 4 * LIST_INITIAL;
/** The most keys a list holds: one more makes it its table (insertListed). */
const LIST_ROOM_MAX = KEYS_INITIAL / 2;

/** Times of birth a key set has room for at first: it doubles as keys are born at new times. */
const BIRTHS_INITIAL = 8;

/** An empty key set: a list. */
export function emptyKeys(): KeySet {
  return {
    keys: new Uint32Array(LIST_INITIAL),
    born: new Uint16Array(LIST_INITIAL),
    index: new Uint16Array(2 * LIST_INITIAL),
    listed: 0,
    births: new Float64Array(BIRTHS_INITIAL),
    birthCount: 0,
  };
}

/** The fields of a state that hold its key set. */
export type KeySet = Pick<
  AnomalyTable,
  "keys" | "born" | "index" | "listed" | "births" | "birthCount"
>;

/** A key set's times of birth: `births` and how many it holds. */
export type Births = Pick<AnomalyTable, "births" | "birthCount">;

/**
 * Times of birth given one per slot of `keys` (`born`, a saved state's older form): each time
 * once, in the order first met, and per key its index among them (0 for an empty slot);
 * undefined when there are more than KEYS_MAX times.
 */
export function birthsOf(
  keys: Uint32Array,
  born: Float64Array,
): { at: Uint16Array; births: Births } | undefined {
  const at = new Uint16Array(keys.length);
  const seen = new Map<number, number>();
  let births: Float64Array = new Float64Array(BIRTHS_INITIAL), count = 0;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] === 0) continue;
    const time = born[i]!;
    // -0 is a time of its own (its bits are saved), which the map's keys would take for 0.
    let e = Object.is(time, -0) ? undefined : seen.get(time);
    if (e === undefined) {
      if (count === KEYS_MAX) return undefined;
      if (count === births.length) births = grownBirths(births);
      births[count] = time;
      e = count++;
      if (!Object.is(time, -0)) seen.set(time, e);
    }
    at[i] = e;
  }
  return { at, births: { births, birthCount: count } };
}

function grownBirths(births: Float64Array): Float64Array {
  const grown = new Float64Array(Math.max(BIRTHS_INITIAL, 2 * births.length));
  grown.set(births);
  return grown;
}

/**
 * The index in `births` of `KEY_TIME[0]`, the time of the key being inserted: the last time
 * added when it is that one (the same bits), else a new one.
 */
function birthIndex(st: AnomalyTable): number {
  const time = KEY_TIME[0]!, n = st.birthCount;
  if (n > 0) {
    const last = st.births[n - 1]!;
    if (last === time && (time !== 0 || Object.is(last, time))) return n - 1;
  }
  if (n === st.births.length) st.births = grownBirths(st.births);
  st.births[n] = time;
  st.birthCount = n + 1;
  return n;
}

/**
 * The list's index for its first `count` keys, in slots twice its room; undefined when one of
 * them is 0 (no key) or comes twice (a saved list that is not one).
 */
function indexOf(keys: Uint32Array, count: number): Uint16Array | undefined {
  const index = new Uint16Array(2 * keys.length);
  const mask = index.length - 1;
  for (let e = 0; e < count; e++) {
    const k = keys[e]!;
    if (k === 0) return undefined;
    let i = mix(k - 1) & mask;
    for (let f = index[i]!; f !== 0; i = (i + 1) & mask, f = index[i]!) {
      if (keys[f - 1] === k) return undefined;
    }
    index[i] = e + 1;
  }
  return index;
}

/**
 * The table of KEYS_INITIAL slots a list's keys lay out, inserted in its order as the table's
 * own insertions would have: the table the list becomes.
 */
export function layOut(st: AnomalyTable): { keys: Uint32Array; born: Uint16Array } {
  const keys = new Uint32Array(KEYS_INITIAL), born = new Uint16Array(KEYS_INITIAL);
  const mask = KEYS_INITIAL - 1, count = st.listed;
  for (let e = 0; e < count; e++) {
    const k = st.keys[e]!;
    let j = mix(k - 1) & mask;
    while (keys[j] !== 0) j = (j + 1) & mask;
    keys[j] = k;
    born[j] = st.born[e]!;
  }
  return { keys, born };
}

/**
 * The room a list of `count` keys is given: LIST_INITIAL, grown until they fit, as the list itself
 * would have grown (growList).
 */
export function listRoom(count: number): number {
  let room = LIST_INITIAL;
  while (room < count) room = grownRoom(room);
  return room;
}

/**
 * A full list's next room: LIST_SECOND_ROOM after its first, then twice its own, to LIST_ROOM_MAX.
 */
function grownRoom(room: number): number {
  return room < LIST_SECOND_ROOM ? LIST_SECOND_ROOM : Math.min(2 * room, LIST_ROOM_MAX);
}

/**
 * The key set of a saved list: its first `count` keys (each key + 1, in the order they lay out a
 * table) and their times of birth (indices into `births`), read into arrays of `listRoom(count)`
 * slots, given an index; undefined when a key is 0 or comes twice.
 */
export function keysOfList(
  listed: Uint32Array,
  listedBorn: Uint16Array,
  count: number,
  births: Births,
): KeySet | undefined {
  const index = indexOf(listed, count);
  return index && { keys: listed, born: listedBorn, index, listed: count, ...births };
}

/**
 * The key set of a saved table holding `count` keys: a list when the table has KEYS_INITIAL
 * slots, its keys taken in slot order from after an empty slot, which lays the same table out
 * again (in linear probing a key's slots from its hash to its own are all taken by then).
 */
export function keysOfTable(
  keys: Uint32Array,
  born: Uint16Array,
  count: number,
  births: Births,
): KeySet {
  if (keys.length !== KEYS_INITIAL || 2 * count > KEYS_INITIAL) {
    return { keys, born, index: undefined, listed: 0, ...births };
  }
  const room = listRoom(count);
  const listed = new Uint32Array(room), listedBorn = new Uint16Array(room);
  const mask = KEYS_INITIAL - 1;
  const empty = keys.indexOf(0);
  for (let n = 0, i = 1; i <= KEYS_INITIAL; i++) {
    const j = (empty + i) & mask;
    if (keys[j] === 0) continue;
    listed[n] = keys[j]!;
    listedBorn[n++] = born[j]!;
  }
  // A table's keys are distinct and never 0: the index is made.
  return {
    keys: listed,
    born: listedBorn,
    index: indexOf(listed, count)!,
    listed: count,
    ...births,
  };
}

/** The list laid out as its table: the set is a table from now on. */
function toTable(st: AnomalyTable): void {
  const table = layOut(st);
  st.keys = table.keys;
  st.born = table.born;
  st.index = undefined;
  st.listed = 0;
}

/** A list with no room left: its grown room (grownRoom). */
function growList(st: AnomalyTable): void {
  const keys = new Uint32Array(grownRoom(st.keys.length)), born = new Uint16Array(keys.length);
  keys.set(st.keys);
  born.set(st.born);
  st.keys = keys;
  st.born = born;
  st.index = indexOf(keys, st.listed)!; // the list's keys are distinct and never 0
}

/**
 * Inserts `key` into the set while it is a list `index` (see insertKey); true when it inserted
 * it. A key that a table of KEYS_INITIAL slots would grow for makes the list that table first.
 */
function insertListed(st: AnomalyTable, index: Uint16Array, key: number): boolean {
  const keys = st.keys, stored = key + 1, mask = index.length - 1;
  let i = mix(key) & mask;
  for (let e = index[i]!; e !== 0; i = (i + 1) & mask, e = index[i]!) {
    if (keys[e - 1] === stored) return false;
  }
  const s = st.s, count = s[TABLE_SLOTS.keys]!;
  if (count >= KEYS_MAX) return false;
  if ((count + 1) * 2 > KEYS_INITIAL) {
    toTable(st);
    return insertKey(st, key);
  }
  const at = st.listed;
  if (at === keys.length) {
    growList(st);
    return insertKey(st, key);
  }
  keys[at] = stored;
  st.born[at] = birthIndex(st);
  index[i] = at + 1;
  st.listed = at + 1;
  s[TABLE_SLOTS.keys] = count + 1;
  return true;
}

function grow(st: AnomalyTable): void {
  const keys = st.keys, born = st.born;
  const grown = new Uint32Array(keys.length * 2);
  const grownBorn = new Uint16Array(grown.length);
  const gmask = grown.length - 1;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === 0) continue;
    let j = mix(k - 1) & gmask;
    while (grown[j] !== 0) j = (j + 1) & gmask;
    grown[j] = k;
    grownBorn[j] = born[i]!;
  }
  st.keys = grown;
  st.born = grownBorn;
}

/**
 * Looks `key` up in the set and inserts it, first seen at `KEY_TIME[0]`, when absent (and the set
 * not full); true when it inserted it.
 */
function insertKey(st: AnomalyTable, key: number): boolean {
  const index = st.index;
  if (index !== undefined) return insertListed(st, index, key);
  let keys = st.keys;
  let mask = keys.length - 1;
  const stored = key + 1;
  let h = mix(key);
  for (let i = h & mask;; i = (i + 1) & mask) {
    const k = keys[i]!;
    if (k === stored) return false;
    if (k === 0) break;
  }
  const s = st.s;
  // A full set remembers nothing new and scores nothing new (memory stays bounded).
  if (s[TABLE_SLOTS.keys]! >= KEYS_MAX) return false;
  if ((s[TABLE_SLOTS.keys]! + 1) * LOAD_DEN > keys.length * LOAD_NUM) {
    grow(st);
    keys = st.keys;
    mask = keys.length - 1;
  }
  h = h & mask;
  while (keys[h] !== 0) h = (h + 1) & mask;
  keys[h] = stored;
  st.born[h] = birthIndex(st);
  s[TABLE_SLOTS.keys] = s[TABLE_SLOTS.keys]! + 1;
  return true;
}

/**
 * Surprise in bits of a novelty of `key` in context `c` at `KEY_TIME[0]`, or 0 when seen; counts
 * it.
 */
export function observe(st: AnomalyTable, c: number, key: number): number {
  const ctx = st.ctx;
  const n = ctx[2 * c]!;
  const d = ctx[2 * c + 1]!;
  ctx[2 * c] = n + 1;
  if (!insertKey(st, key)) return 0;
  ctx[2 * c + 1] = d + 1;
  return -log2Fast((d + 1) / (n + d + 1));
}

/** When `key` was first seen (µs), or -Infinity when the set does not hold it; inserts nothing. */
export function bornOf(st: AnomalyTable, key: number): number {
  const keys = st.keys, index = st.index;
  if (index !== undefined) {
    const stored = key + 1, slots = index.length - 1;
    for (let i = mix(key) & slots;; i = (i + 1) & slots) {
      const e = index[i]!;
      if (e === 0) return -Infinity;
      if (keys[e - 1] === stored) return st.births[st.born[e - 1]!]!;
    }
  }
  const mask = keys.length - 1;
  const stored = key + 1;
  for (let i = mix(key) & mask;; i = (i + 1) & mask) {
    const k = keys[i]!;
    if (k === stored) return st.births[st.born[i]!]!;
    if (k === 0) return -Infinity;
  }
}

/**
 * Whether a neighbour of `bin` in context `c` (the bin below or above) was first seen less than
 * `window` µs before `times[i]`: the context's range is still growing there. The time comes as
 * its column and index, not a number, for KEY_TIME's reason.
 */
export function neighbourBornAfter(
  st: AnomalyTable,
  c: number,
  bin: number,
  times: Float64Array,
  i: number,
  window: number,
): boolean {
  const since = times[i]! - window;
  return bornOf(st, keyOf(c, bin - 1)) > since || bornOf(st, keyOf(c, bin + 1)) > since;
}
