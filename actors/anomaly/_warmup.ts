/**
 * The end of the warm-up: the channel's scale chosen, the bins fixed, and the warm-up samples
 * learnt as the first things seen. A strictly positive channel whose warm-up spans orders of
 * magnitude varies by multiples of its value (bytes, packets, requests): its features are taken in
 * log space, where a multiplicative process's variation is the same at every level (the log is the
 * variance-stabilising transform where the standard deviation is proportional to the mean,
 * Bartlett 1947, "The use of transformations", Biometrics 3). Its increments and jumps are
 * relearnt from the warm-up's values on that scale; any other channel's are learnt here too, as
 * they came, so framing and its scores are as before.
 */
import { binOf, INCREMENT_ALPHA, INCREMENT_FAST_ALPHA, INCREMENT_RANGE, jumpBin } from "./_bins.ts";
import { SLOPE_ALPHA, widthOf } from "./_bins.ts";
import { moveClass, observeMoves } from "./_moves.ts";
import { KEY_TIME, keyOf, observe } from "./_table.ts";
import * as S from "./_state.ts";

/**
 * A warm-up spanning this ratio of its largest value to its smallest (two decades: "orders of
 * magnitude") is multiplicative: an additive noise around a level spans it only where its spread
 * is some fifty times the level's distance from zero.
 */
export const LOG_RATIO = 100;
/** A value at or below zero on a log-scaled channel is taken as this one: the far low tail. */
const LOG_FLOOR = 1e-300;

/** The feature value of `x` on a log-scaled channel. */
export function logOf(x: number, u = 0): number {
  return Math.log(x + u > LOG_FLOOR ? x + u : LOG_FLOOR);
}

/** Fixes the scale and the bins, and learns the warm-up samples: they are the first things seen. */
export function learnWarmup(st: S.AnomalyState, time: number): void {
  const s = st.s, warm = st.warm;
  const grids = s[S.GRIDS]!, hours = S.HOURS, warmup = s[S.WARMUP]!, bins = s[S.BINS]!;
  let unit = Infinity;
  for (let k = 0; k < warmup; k++) if (warm[3 * k]! > 0 && warm[3 * k]! < unit) unit = warm[3 * k]!;
  const V = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.ANOM_VARIANT ?? "B";
  if (V === "A") unit = s[S.LVL_LO]! > 0 ? 0 : Infinity;
  const log = s[S.LVL_LO]! >= 0 && unit < Infinity &&
    s[S.LVL_HI]! >= LOG_RATIO * (unit || s[S.LVL_LO]!);
  s[S.LOG_SCALE] = log ? 1 : 0;
  const P = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.ANOM_PART ?? "both";
  const logL = log && P !== "moves", logM = log && P !== "level";
  s[S.LOG_UNIT] = log ? unit : 0;
  if (logL) s[S.LVL_LO] = logOf(s[S.LVL_LO]!, unit), s[S.LVL_HI] = logOf(s[S.LVL_HI]!, unit);
  if (logM) {
    s[S.SLP_LO] = Infinity, s[S.SLP_HI] = -Infinity;
    st.jumps.fill(0);
  }
  KEY_TIME[0] = time;
  // The increments, replayed in the kernel's order on the channel's scale.
  const incW = (2 * INCREMENT_RANGE) / bins;
  let slope = 0, mad = 0, fast = 0, prev = 0, move1 = -1, move2 = -1;
  for (let k = 0; k < warmup; k++) {
    const u = logM ? logOf(warm[3 * k]!, unit) : warm[3 * k]!;
    const d = k === 0 ? 0 : u - prev, ad = d < 0 ? -d : d;
    const z = mad > 0 ? d / mad : d === 0 ? 0 : d > 0 ? 1e9 : -1e9;
    if (logM) {
      slope += (d - slope) * SLOPE_ALPHA;
      warm[3 * k + 1] = slope;
      if (slope < s[S.SLP_LO]!) s[S.SLP_LO] = slope;
      if (slope > s[S.SLP_HI]!) s[S.SLP_HI] = slope;
      const madJ = fast > mad ? fast : mad, zj = madJ > 0 ? ad / madJ : d === 0 ? 0 : 1e9;
      if (zj >= INCREMENT_RANGE && k > 0) {
        for (let j = jumpBin(zj); j >= 0; j--) st.jumps[j] = st.jumps[j]! + 1;
      }
    }
    for (let g = 0; g < grids; g++) {
      const c = g * S.CONTEXTS_PER_GRID + hours + 2;
      const incBin = binOf(z, -INCREMENT_RANGE, incW, g / grids, bins);
      observe(st, c, keyOf(c, incBin));
      observeMoves(st, g * S.CONTEXTS_PER_GRID, move2, move1, incBin);
    }
    if (k > 0) {
      mad += (ad - mad) * (k < 100 ? 1 / k : INCREMENT_ALPHA);
      fast += (ad - fast) * (k < 10 ? 1 / k : INCREMENT_FAST_ALPHA);
    }
    move2 = move1, move1 = moveClass(z), prev = u;
  }
  if (logM) {
    s[S.SLOPE] = slope, s[S.INC_MAD] = mad, s[S.INC_MAD_FAST] = fast;
    s[S.MOVE1] = move1, s[S.MOVE2] = move2;
  }
  s[S.LVL_W] = widthOf(s[S.LVL_LO]!, s[S.LVL_HI]!, bins, s[S.LVL_HI]!);
  s[S.SLP_W] = widthOf(s[S.SLP_LO]!, s[S.SLP_HI]!, bins, warm[3 * warmup - 2]!);
  for (let g = 0; g < grids; g++) {
    const shift = g / grids, c = g * S.CONTEXTS_PER_GRID;
    for (let k = 0; k < warmup; k++) {
      const u = logL ? logOf(warm[3 * k]!, unit) : warm[3 * k]!;
      const lb = binOf(u, s[S.LVL_LO]!, s[S.LVL_W]!, shift, bins);
      const h = c + 1 + warm[3 * k + 2]!;
      observe(st, c, keyOf(c, lb));
      observe(st, h, keyOf(h, lb));
      const sb = binOf(warm[3 * k + 1]!, s[S.SLP_LO]!, s[S.SLP_W]!, shift, bins);
      observe(st, c + 1 + hours, keyOf(c + 1 + hours, sb));
    }
  }
  st.warm = new Float64Array(0);
}
