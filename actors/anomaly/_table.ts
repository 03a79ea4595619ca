/**
 * The anomaly kernel's memory of what it has seen: an open-addressing set of (context, bin) keys
 * with, per key, the time it was first seen, and per context the Witten–Bell counts (samples N,
 * distinct bins D). A novelty's surprise is -log2((D + 1) / (N + D + 1)) bits.
 */
import { log2Fast } from "../math/mod.ts";

/** Distinct (context, bin) keys remembered at most: past it, new keys are not scored (a bound). */
export const KEYS_MAX = 65_536;

/** The part of the kernel state the table works on. */
export interface AnomalyTable {
  /** Scalars; slot `TABLE_SLOTS.keys` holds the key count. */
  s: Float64Array;
  /** Per context: samples seen N and distinct bins D. */
  ctx: Float64Array;
  /** Open-addressing set of (context, bin) keys + 1; 0 is empty. */
  keys: Uint32Array;
  /** Per slot of `keys`: the time (µs) its key was first seen. */
  born: Float64Array;
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

/** A new key set's slots: it grows, doubling, as keys come (KEYS_MAX needs far more). */
export const KEYS_INITIAL = 1024;

function grow(st: AnomalyTable): void {
  const keys = st.keys, born = st.born;
  const grown = new Uint32Array(keys.length * 2);
  const grownBorn = new Float64Array(grown.length);
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
  if ((s[TABLE_SLOTS.keys]! + 1) * 2 > keys.length) {
    grow(st);
    keys = st.keys;
    mask = keys.length - 1;
  }
  h = h & mask;
  while (keys[h] !== 0) h = (h + 1) & mask;
  const time = KEY_TIME[0]!;
  keys[h] = stored;
  st.born[h] = time;
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
  const keys = st.keys;
  const mask = keys.length - 1;
  const stored = key + 1;
  for (let i = mix(key) & mask;; i = (i + 1) & mask) {
    const k = keys[i]!;
    if (k === stored) return st.born[i]!;
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
