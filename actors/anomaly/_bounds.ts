/**
 * The flat-run view's record of the channel's bounds: a gauge pinned at its ceiling (a cpu at
 * 100%, a feed that clips its noise) stays put at its highest value again and again, where a frozen
 * exporter stays put at whatever it last read. What tells them apart is the channel's own past: a
 * channel that has left a value and come back to it exactly has an atom there (a real-valued
 * reading returns to the same float with probability zero otherwise), so a run at that value is a
 * stay at a place the channel goes to, and its length is judged among the channel's earlier stays
 * there, not among all its runs: the tail probability of a stay that long among the stays at the
 * bound, -log2((longer + 1) / (stays + 2)) bits, as the flat-run view judges runs, and, as that
 * view judges counts and coarse readings, less its free bits where staying put is ordinary there
 * (more than its share of the stays at the bound last a sample or more). The kernel asks this only
 * on a channel whose readings rarely repeat away from its bounds (on counts every value repeats,
 * and the count reference judges a run at its value). The first stay at a new extreme has no such
 * record and is judged as any run: a gauge reaching a new ceiling and freezing there is news.
 * Being pinned is the level views' to judge (a ceiling at an hour it was never reached, a lasting
 * shift), as any level is; the flat-run view is for readings that stopped.
 *
 * Only the two extremes are kept (the highest and the lowest value seen, where a clip or a floor
 * shows): per side the value and, per flat-run bin (as the view's own record), the finished stays
 * there that reached it; a new extreme starts its side's record afresh. Saved with the state.
 */
import { log2Fast } from "../math/mod.ts";

/** Run bins per side: stays of up to 2^BOUND_RUN_BINS - 2 samples are told apart. */
export const BOUND_RUN_BINS = 16;
/** Floats per side: the bound's value, then per run bin the stays that reached it. */
const SIDE = BOUND_RUN_BINS + 1;
/** The slot of the bottom side's value (the top side's is slot 0). */
export const BOUND_BOTTOM = SIDE;
/** Floats of the record: the top side, then the bottom side. */
export const BOUNDS_FLOATS = 2 * SIDE;

/** A fresh record: no bound yet (NaN equals no value). */
export function createBounds(): Float64Array {
  const b = new Float64Array(BOUNDS_FLOATS);
  b[0] = NaN;
  b[SIDE] = NaN;
  return b;
}

/**
 * Bits of a flat run of `run` samples (its bin `bin`) at `x` judged among the channel's earlier
 * stays at that bound; Infinity when `x` is no bound the channel has come back to.
 */
export function boundRunBits(
  bounds: Float64Array,
  x: number,
  bin: number,
  ordinary: { shareMax: number; freeBits: number },
): number {
  const { shareMax, freeBits } = ordinary;
  const o = sideOf(bounds, x);
  if (o < 0) return Infinity;
  const stays = bounds[o + 1]!;
  if (stays < 1) return Infinity;
  const b = keptBin(bin);
  const bits = -log2Fast((bounds[o + 1 + b]! + 1) / (stays + 2));
  // Where the channel often stays put (more than shareMax of its stays there last a sample or
  // more), runs are ordinary, as the flat-run view judges counts and coarse readings.
  return bounds[o + 2]! > shareMax * stays ? bits - freeBits : bits;
}

/** Finished stays at either bound that reached run bin `bin` (0: every stay). */
export function boundStays(bounds: Float64Array, bin: number): number {
  return bounds[1 + bin]! + bounds[SIDE + 1 + bin]!;
}

/** Records a finished run of `run` samples (bin `bin`) at `value`, if `value` is a bound. */
export function recordBoundRun(bounds: Float64Array, value: number, bin: number): void {
  const o = sideOf(bounds, value);
  if (o < 0) return;
  for (let b = keptBin(bin); b >= 0; b--) bounds[o + 1 + b] = bounds[o + 1 + b]! + 1;
}

/** The offset of the side whose bound is `x` (0 top, SIDE bottom), or -1 for no bound. */
function sideOf(bounds: Float64Array, x: number): number {
  return x === bounds[0] ? 0 : x === bounds[SIDE] ? SIDE : -1;
}

/** A run bin as the record keeps it: longer runs share its last bin. */
function keptBin(bin: number): number {
  return bin < BOUND_RUN_BINS ? bin : BOUND_RUN_BINS - 1;
}

/** Starts a side's record afresh at `x` when it is a new extreme (beyond `lo` or `hi`). */
export function extendBounds(bounds: Float64Array, x: number, lo: number, hi: number): void {
  if (x > hi) {
    bounds.fill(0, 1, SIDE);
    bounds[0] = x;
  }
  if (x < lo) {
    bounds.fill(0, SIDE + 1, 2 * SIDE);
    bounds[SIDE] = x;
  }
}
