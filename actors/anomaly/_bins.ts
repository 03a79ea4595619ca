/**
 * The anomaly kernel's binning and its per-call scratch: where a value falls in a grid (linear
 * bins, then tail bins wider with each doubling of distance), the flat-run and jump tail bins, the
 * surprise of a key with the shortcuts that skip lookups whose answer is known, and the warm-up's
 * learning once the bins are fixed. Plain functions over typed arrays, as the kernel's loop is.
 */
import { log2Fast } from "../math/mod.ts";
import { GRIDS_MAX } from "./config.ts";
import { KEY_TIME, keyOf, observe } from "./_table.ts";
import * as S from "./_state.ts";

type AnomalyState = S.AnomalyState;

const BIN_LIMIT = (1 << 19) - 1;
/** Increments are binned over ±INCREMENT_RANGE mean absolute increments, then in the tails. */
export const INCREMENT_RANGE = 6;
/**
 * Tail bins per doubling of the distance beyond the binned range (of levels and slopes past the
 * warm-up's range, of jumps past INCREMENT_RANGE): wider bins further out, so a far excursion is
 * one novelty, not many.
 */
const PER_OCTAVE = 2;
/** Views per grid with a last-key slot: level, level at the hour, slope, increment. */
export const VIEWS = 4;
/** Scratch of `stepAnomaly` (see scratchFor): the last key per grid and view. */
export const LAST_KEY = new Float64Array(VIEWS * GRIDS_MAX);

/** Linear indices within this many of the grid's ends have their tail bin cached. */
const TAIL_CACHE_SPAN = 4096;
/** No tail bin cached: outside ±BIN_LIMIT, so never a tail bin. */
const TAIL_UNSET = 0x40000000;
/** Tail bins by linear index (s - bins above, TAIL_CACHE_SPAN - 1 - s below), `tailBin` exactly. */
const TAIL_CACHE = new Int32Array(2 * TAIL_CACHE_SPAN).fill(TAIL_UNSET);
/** The `bins` TAIL_CACHE holds tail bins for. */
const TAIL_CACHE_FOR = new Float64Array([NaN]);

/** The bin of a linear bin index `s` outside [0, bins): wider with each doubling of distance. */
export function tailBin(s: number, bins: number): number {
  if (s >= bins) s = bins + Math.floor(log2Fast(1 + (s - bins) / bins) * PER_OCTAVE);
  else s = -1 - Math.floor(log2Fast(1 + (-1 - s) / bins) * PER_OCTAVE);
  // `| 0`: an int32 result is returned as a small integer, where a double would be boxed.
  return (s > BIN_LIMIT ? BIN_LIMIT : s < -BIN_LIMIT ? -BIN_LIMIT : s) | 0;
}

/** The bin of `x` in the grid shifted by `shift` bins: linear over `bins` bins, then `tailBin`. */
export function binOf(x: number, lo: number, w: number, shift: number, bins: number): number {
  return gridBin(Math.floor((x - lo) / w + shift), bins);
}

/**
 * The bin of linear index `s`: itself within [0, bins), else `tailBin`'s through TAIL_CACHE: a
 * tail bin costs a log, and a drifting series sits in the tail for long stretches, among a few
 * hundred indices there.
 */
export function gridBin(s: number, bins: number): number {
  if (s >= 0 && s < bins) return s;
  const far = s >= bins ? s - bins : -1 - s;
  if (!(far < TAIL_CACHE_SPAN)) return tailBin(s, bins); // past the cache, or NaN
  const i = s >= bins ? far : TAIL_CACHE_SPAN + far;
  const cached = TAIL_CACHE[i]!;
  if (cached !== TAIL_UNSET) return cached;
  return (TAIL_CACHE[i] = tailBin(s, bins));
}

/** A bin width for the range lo to hi; a constant's is 1e-3 of its value (1e-9 at zero). */
export function widthOf(lo: number, hi: number, bins: number, x: number): number {
  const w = (hi - lo) / bins;
  return w > 0 ? w : Math.max(Math.abs(x) * 1e-3, 1e-9);
}

/** The bin of a flat run of `run` samples: 1 for 1 or 2, 2 for 3 to 6, ... (log2 of run + 1). */
export function runBin(run: number): number {
  return 31 - Math.clz32(run + 1 > 0x7fffffff ? 0x7fffffff : run + 1); // at most 30 < RUN_BINS
}

/** The tail bin of an increment of `az` (≥ INCREMENT_RANGE) mean absolute increments. */
export function jumpBin(az: number): number {
  const b = Math.floor(log2Fast(az / INCREMENT_RANGE) * PER_OCTAVE);
  return b < S.JUMP_BINS ? b : S.JUMP_BINS - 1;
}

/**
 * Per linear bin of the slope and increment views of each grid: 1 once its key was found in the
 * set, so a bin met again needs no lookup. Keys are never removed,
 * so this only skips lookups whose answer is known (0 bits): framing changes nothing. Sized for
 * the largest `bins`, 4096.
 */
export const KNOWN = new Uint8Array(2 * GRIDS_MAX * 4096);
/** The day start (µs) a step of SCRATCH_OF left off at: its next step goes on from it. */
export const DAY_START = new Float64Array([Infinity]);
/** The state the scratch above holds the knowledge of (one state, kept until another's step). */
let SCRATCH_OF: AnomalyState | undefined;

/**
 * Readies the scratch for a step of `st`. After a step of the same state it is kept as it was
 * left, as if the frames were one (framing changes nothing): a frame of one sample then skips the
 * lookups of every bin met before, not only those met in its own frame. Else it starts afresh.
 */
export function scratchFor(st: AnomalyState): void {
  if (SCRATCH_OF === st) return;
  SCRATCH_OF = st;
  const grids = st.s[S.GRIDS]!;
  LAST_KEY.fill(-1, 0, VIEWS * grids);
  KNOWN.fill(0, 0, 2 * grids * st.s[S.BINS]!);
  DAY_START[0] = Infinity;
  if (TAIL_CACHE_FOR[0] !== st.s[S.BINS]!) { // the tail bins of another `bins`: forget them
    TAIL_CACHE.fill(TAIL_UNSET);
    TAIL_CACHE_FOR[0] = st.s[S.BINS]!;
  }
}

/**
 * The surprise of `bin` in context `c` for the view in slot `slot` of LAST_KEY (entry `m` of
 * KNOWN): a key marked known, or equal to the view's previous one, is in the set (or the set
 * is full, which scores nothing either), so it only counts. A new key is first seen at KEY_TIME[0].
 */
export function surpriseKnown(
  st: AnomalyState,
  slot: number,
  c: number,
  bin: number,
  bins: number,
  m: number,
): number {
  const linear = bin >= 0 && bin < bins, k = m * bins + bin;
  const key = keyOf(c, bin);
  if ((linear && KNOWN[k] === 1) || key === LAST_KEY[slot]) {
    st.ctx[2 * c] = st.ctx[2 * c]! + 1;
    return 0;
  }
  if (linear) KNOWN[k] = 1;
  LAST_KEY[slot] = key;
  return observe(st, c, key);
}

/** Learns the warm-up samples once the bins are fixed: they are the first things seen. */
export function learnWarmup(st: AnomalyState, time: number): void {
  const s = st.s, warm = st.warm;
  const grids = s[S.GRIDS]!, hours = S.HOURS, warmup = s[S.WARMUP]!, bins = s[S.BINS]!;
  KEY_TIME[0] = time;
  for (let g = 0; g < grids; g++) {
    const shift = g / grids, c = g * S.CONTEXTS_PER_GRID;
    for (let k = 0; k < warmup; k++) {
      const lb = binOf(warm[3 * k]!, s[S.LVL_LO]!, s[S.LVL_W]!, shift, bins);
      const h = c + 1 + warm[3 * k + 2]!;
      observe(st, c, keyOf(c, lb));
      observe(st, h, keyOf(h, lb));
      const sb = binOf(warm[3 * k + 1]!, s[S.SLP_LO]!, s[S.SLP_W]!, shift, bins);
      observe(st, c + 1 + hours, keyOf(c + 1 + hours, sb));
    }
  }
  st.warm = new Float64Array(0);
}
