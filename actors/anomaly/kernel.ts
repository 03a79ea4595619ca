/**
 * The anomaly kernel: scores each sample of a channel in [0, 1] from the past alone, in constant
 * time and bounded memory, and gives the expected value and a prediction band the dashboard draws.
 *
 * The score asks "has this channel ever looked like this?" in three views, and answers with the
 * surprise of a novelty under a Witten–Bell escape estimate:
 * - level: the value's bin;
 * - level at this hour of the day (UTC): the value's bin in the sample's time-of-day context;
 * - slope: the bin of the exponentially weighted first difference.
 * Bins are fixed after the warm-up: `bins` across the warm-up range, then wider bins beyond it
 * (`tail_bins_per_octave` per doubling of the distance), so a far excursion is one novelty, not
 * many. A pair (context, bin) never seen before is a novelty; in a context that has seen N samples
 * fall into D distinct bins, its surprise is -log2((D + 1) / (N + D + 1)) bits: a settled context
 * that rarely meets anything new is surprised a lot, a context still exploring hardly at all.
 * There are `grids` such binnings, each shifted by 1/grids of a bin from the last, each with its
 * own contexts; a grid's surprise is the largest over its three views, and the sample's is the
 * average over the grids (averaged shifted histograms: a novelty that only crosses one grid's bin
 * edge counts a third, one that leaves the bins of every grid counts fully). The score is that
 * surprise divided by `full_score_bits` (capped at 1), and 1 when the value leaves the range seen
 * so far by more than `spatial_tolerance` of that range. A refractory period then reports a score
 * only if it beats every score reported in the last `refractory_samples` samples, so one incident
 * makes one peak.
 *
 * Incidents are decided here, per sample, so that framing never changes one: an incident opens at
 * a sample scoring at or above `threshold` while none is open, and closes at the `clear_samples`-th
 * valid sample in a row below it; the frame's result lists every opening and closing in order.
 *
 * The expected value is the better, by recent mean absolute error, of an exponentially weighted
 * level and a time-of-day profile; the band is it ± `band_sigmas` standard deviations estimated from
 * that predictor's absolute errors.
 *
 * Bad input: a sample whose value or time is not finite, or whose value exceeds 1e100 in size, is
 * skipped and counted (`skipped`): it scores 0, repeats the expected value and band of the last
 * valid sample (0 before any), and changes no state but the counter. Gaps and repeated timestamps
 * need nothing special (slope is per sample, the time of day per timestamp). A constant series gets bins of width 1e-3 of its
 * value (1e-9 at zero), so any departure is a novelty. A series that starts with a spike has that
 * spike in its warm-up range: bins are coarser, and the spike counts as seen.
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import { log2Fast } from "../portable_math.ts";
import { type AnomalyConfig, GRIDS_MAX, HOUR_BUCKETS_MAX } from "./config.ts";

/**
 * A change of the channel's incident state at one sample: an incident opens at a valid sample
 * scoring at or above the threshold while none is open, and closes at the `clear_samples`-th valid
 * sample in a row scoring below it. Decided per sample, so framing never changes one.
 */
export interface AnomalyChange {
  /** Index of the sample in the frame. */
  index: number;
  /** True when an incident opens at this sample, false when the open one closes. */
  open: boolean;
}

/** No changes: shared by every frame without one (never written to). */
const NO_CHANGES: readonly AnomalyChange[] = Object.freeze([]);

/** What one frame produces: per-sample columns and the incident changes, in order. */
export interface AnomalyResult {
  /** Per sample: the anomaly score in [0, 1]. */
  score: Float64Array;
  /** Per sample: the value expected from the past. */
  expected: Float64Array;
  /** Per sample: the prediction band's lower edge. */
  lower: Float64Array;
  /** Per sample: the prediction band's upper edge. */
  upper: Float64Array;
  /** Every opening and closing of an incident in this frame, in sample order. */
  changes: readonly AnomalyChange[];
  /** Valid samples in this frame. */
  valid: number;
  /** Samples of this frame skipped as invalid. */
  skipped: number;
  /** Valid samples the instance has seen, this frame included. */
  seen: number;
}

/** Values beyond this size are skipped: they would overflow the running sums. */
export const VALUE_ABS_MAX = 1e100;
const DAY_US = 86_400_000_000;
const SIGMA_PER_MAE = 1.2533141373155003; // sqrt(pi / 2): sigma over mean absolute error, Gaussian
const LEVEL_ALPHA = 0.1;
const ERROR_ALPHA = 0.02;
const PROFILE_ALPHA_MIN = 0.1;
const PROFILE_SHRINK = 3;
const BIN_LIMIT = (1 << 19) - 1;
/** A table key is a context id (12 bits) and a bin (20 bits, two's complement). */
const BIN_BITS = 20;
const BIN_MASK = (1 << BIN_BITS) - 1;
const SAVE_MAGIC = 0x414e4f4d; // "ANOM"
const SAVE_VERSION = 2;

// Scalar slots of the state.
const SEEN = 0,
  SKIPPED = 1,
  LVL_LO = 2,
  LVL_HI = 3,
  LVL_W = 4,
  SLP_LO = 5,
  SLP_HI = 6,
  SLP_W = 7,
  PREV = 8,
  SLOPE = 9,
  RANGE_LO = 10,
  RANGE_HI = 11,
  REPORTED = 12,
  AGE = 13,
  LEVEL = 14,
  LEVEL_MAE = 15,
  ERR_LEVEL = 16,
  ERR_PROFILE = 17,
  KEYS = 18,
  SPATIAL_TOL = 19,
  FULL_BITS = 20,
  REFRACTORY = 21,
  BAND_SIGMAS = 22,
  WARMUP = 23,
  BINS = 24,
  TAIL_PER_OCTAVE = 25,
  HOURS = 26,
  SLOPE_SPAN = 27,
  KEYS_MAX = 28,
  THRESHOLD = 29,
  LAST_EXPECTED = 30,
  LAST_LOWER = 31,
  LAST_UPPER = 32,
  ALERTING = 33,
  QUIET = 34,
  CLEAR = 35,
  GRIDS = 36,
  SCALARS = 37;

/** An anomaly kernel's state: plain typed arrays, saved and loaded byte for byte. */
export interface AnomalyState {
  /** Scalars, indexed by the slot constants above (structural config included). */
  s: Float64Array;
  /** Per hour bucket: profile mean, mean absolute error and count. */
  profile: Float64Array;
  /** Per context (level, each hour bucket, slope): samples seen N and distinct bins D. */
  ctx: Float64Array;
  /** Open-addressing set of (context, bin) keys + 1; 0 is empty. */
  keys: Uint32Array;
  /** The warm-up samples (value, slope, hour bucket), learned once the bins are fixed. */
  warm: Float64Array;
}

/** Per-call scratch of `stepAnomaly`: last key per grid and view, last tail bin per grid. */
const LAST_KEY = new Float64Array(3 * GRIDS_MAX);
const TAIL_MEMO = new Float64Array(4 * GRIDS_MAX);

/** The bin of a linear bin index `s` outside [0, bins): wider with each doubling of distance. */
function tailBin(s: number, bins: number, perOctave: number): number {
  if (s >= bins) s = bins + Math.floor(log2Fast(1 + (s - bins) / bins) * perOctave);
  else s = -1 - Math.floor(log2Fast(1 + (-1 - s) / bins) * perOctave);
  // `| 0`: an int32 result is returned as a small integer, where a double would be boxed.
  return (s > BIN_LIMIT ? BIN_LIMIT : s < -BIN_LIMIT ? -BIN_LIMIT : s) | 0;
}

/** The bin of `x` in the grid shifted by `shift` bins: linear over `bins` bins, then `tailBin`. */
function binOf(
  x: number,
  lo: number,
  w: number,
  shift: number,
  bins: number,
  perOctave: number,
): number {
  const s = Math.floor((x - lo) / w + shift);
  return s >= 0 && s < bins ? s : tailBin(s, bins, perOctave);
}

function widthOf(lo: number, hi: number, bins: number, x: number): number {
  const w = (hi - lo) / bins;
  return w > 0 ? w : Math.max(Math.abs(x) * 1e-3, 1e-9);
}

function mix(key: number): number {
  let h = Math.imul(key ^ (key >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Looks `key` up in the set and inserts it when absent; true when it was absent. */
function insertKey(st: AnomalyState, key: number): boolean {
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
  if (s[KEYS]! >= s[KEYS_MAX]!) return false;
  if ((s[KEYS]! + 1) * 2 > keys.length) {
    const grown = new Uint32Array(keys.length * 2);
    const gmask = grown.length - 1;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k === 0) continue;
      let j = mix(k - 1) & gmask;
      while (grown[j] !== 0) j = (j + 1) & gmask;
      grown[j] = k;
    }
    st.keys = keys = grown;
    mask = gmask;
  }
  h = h & mask;
  while (keys[h] !== 0) h = (h + 1) & mask;
  keys[h] = stored;
  s[KEYS] = s[KEYS]! + 1;
  return true;
}

/** Surprise in bits of a novelty of `key` in context `c`, or 0 when seen; counts the sample. */
function observe(st: AnomalyState, c: number, key: number): number {
  const ctx = st.ctx;
  const n = ctx[2 * c]!;
  const d = ctx[2 * c + 1]!;
  ctx[2 * c] = n + 1;
  if (!insertKey(st, key)) return 0;
  ctx[2 * c + 1] = d + 1;
  return -log2Fast((d + 1) / (n + d + 1));
}

/**
 * `observe` for the view in slot `slot` of `lastKey`: a key equal to the view's previous one is
 * known to be in the set (or the set is full, which scores nothing either), so it only counts.
 */
function surprise(
  st: AnomalyState,
  lastKey: Float64Array,
  slot: number,
  c: number,
  bin: number,
): number {
  const key = keyOf(c, bin);
  if (key === lastKey[slot]) {
    st.ctx[2 * c] = st.ctx[2 * c]! + 1;
    return 0;
  }
  lastKey[slot] = key;
  return observe(st, c, key);
}

/** The table key of `bin` in context `c`. */
function keyOf(c: number, bin: number): number {
  return ((c << BIN_BITS) | (bin & BIN_MASK)) >>> 0;
}

function applyLive(s: Float64Array, config: AnomalyConfig): void {
  s[THRESHOLD] = config.threshold;
  s[SPATIAL_TOL] = config.spatial_tolerance;
  s[FULL_BITS] = config.full_score_bits;
  s[REFRACTORY] = config.refractory_samples;
  s[BAND_SIGMAS] = config.band_sigmas;
  s[CLEAR] = config.clear_samples;
}

function initKeysCapacity(keysMax: number): number {
  let cap = 64;
  while (cap < 1024 && cap < keysMax * 2) cap *= 2;
  return cap;
}

/** Creates a fresh state for `config`. */
export function createAnomalyState(config: AnomalyConfig): AnomalyState {
  const hours = Math.min(Math.max(1, Math.floor(config.hour_buckets)), HOUR_BUCKETS_MAX);
  const s = new Float64Array(SCALARS);
  s[LVL_LO] = Infinity;
  s[LVL_HI] = -Infinity;
  s[SLP_LO] = Infinity;
  s[SLP_HI] = -Infinity;
  s[RANGE_LO] = Infinity;
  s[RANGE_HI] = -Infinity;
  s[AGE] = Infinity;
  s[WARMUP] = Math.max(2, Math.floor(config.warmup_samples));
  s[BINS] = Math.max(1, Math.floor(config.bins));
  s[TAIL_PER_OCTAVE] = config.tail_bins_per_octave;
  s[HOURS] = hours;
  s[SLOPE_SPAN] = config.slope_span_samples;
  s[KEYS_MAX] = config.keys_max;
  s[GRIDS] = Math.min(Math.max(1, Math.floor(config.grids)), GRIDS_MAX);
  applyLive(s, config);
  return {
    s,
    profile: new Float64Array(3 * hours),
    ctx: new Float64Array(2 * (hours + 2) * s[GRIDS]!),
    keys: new Uint32Array(initKeysCapacity(config.keys_max)),
    warm: new Float64Array(3 * s[WARMUP]!),
  };
}

/** Folds one frame into the state; see the module comment for the model. */
export function stepAnomaly(st: AnomalyState, frame: SampleFrame): AnomalyResult {
  const { t, v } = frame;
  const n = v.length;
  // One buffer for the four columns: one allocation per frame.
  const buffer = new ArrayBuffer(32 * n);
  const score = new Float64Array(buffer, 0, n);
  const expected = new Float64Array(buffer, 8 * n, n);
  const lower = new Float64Array(buffer, 16 * n, n);
  const upper = new Float64Array(buffer, 24 * n, n);
  const s = st.s;
  const profile = st.profile;
  const warmup = s[WARMUP]!, bins = s[BINS]!, perOctave = s[TAIL_PER_OCTAVE]!;
  const hours = s[HOURS]!, slopeAlpha = 1 / s[SLOPE_SPAN]!;
  const tol = s[SPATIAL_TOL]!, fullBits = s[FULL_BITS]!, refractory = s[REFRACTORY]!;
  const band = s[BAND_SIGMAS]! * SIGMA_PER_MAE;
  let seen = s[SEEN]!, prev = s[PREV]!, slope = s[SLOPE]!;
  let rangeLo = s[RANGE_LO]!, rangeHi = s[RANGE_HI]!;
  let reported = s[REPORTED]!, age = s[AGE]!;
  let level = s[LEVEL]!, levelMae = s[LEVEL_MAE]!, errLevel = s[ERR_LEVEL]!;
  let errProfile = s[ERR_PROFILE]!;
  let lastExpected = s[LAST_EXPECTED]!, lastLower = s[LAST_LOWER]!, lastUpper = s[LAST_UPPER]!;
  const threshold = s[THRESHOLD]!, clear = s[CLEAR]!;
  let alerting = s[ALERTING]!, quiet = s[QUIET]!;
  let changes = NO_CHANGES as AnomalyChange[];
  let valid = 0, skipped = 0;
  const grids = s[GRIDS]!, perGrid = hours + 2;
  // Per grid and view: the last key looked up (a repeat needs no lookup), and per grid and
  // feature the last tail bin computed (a drifting series sits in the tail for long stretches).
  // Scratch shared by every call (reset here, so no state carries over): no allocation per frame.
  const lastKey = LAST_KEY.fill(-1, 0, 3 * grids);
  const tailMemo = TAIL_MEMO.fill(0.5, 0, 4 * grids);
  let dayStart = Infinity;
  const hourSpan = DAY_US / hours;
  // The bins, fixed at the end of the warm-up.
  let lvlLo = s[LVL_LO]!, lvlW = s[LVL_W]!, slpLo = s[SLP_LO]!, slpW = s[SLP_W]!;
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    const ti = t[i]!;
    if (!(Math.abs(x) <= VALUE_ABS_MAX) || !Number.isFinite(ti)) {
      skipped++;
      expected[i] = lastExpected;
      lower[i] = lastLower;
      upper[i] = lastUpper;
      continue;
    }
    valid++;
    // The hour bucket; the start of the day (an exact multiple of a day) is recomputed only
    // when the time leaves the current day, so a restored state finds the same bucket.
    let sinceDay = ti - dayStart;
    if (!(sinceDay >= 0 && sinceDay < DAY_US)) {
      dayStart = ti - (((ti % DAY_US) + DAY_US) % DAY_US);
      sinceDay = ti - dayStart;
    }
    let hour = Math.floor(sinceDay / hourSpan);
    if (hour >= hours) hour = hours - 1;
    // Forecast first: expected value and band from the past alone.
    const pn = profile[3 * hour + 2]!;
    let exp: number, mae: number;
    if (seen === 0) {
      exp = x;
      mae = 0;
    } else if (pn >= PROFILE_SHRINK && errProfile < errLevel) {
      exp = profile[3 * hour]!;
      mae = (pn * profile[3 * hour + 1]! + PROFILE_SHRINK * levelMae) / (pn + PROFILE_SHRINK);
    } else {
      exp = level;
      mae = levelMae;
    }
    lastExpected = exp;
    lastLower = exp - band * mae;
    lastUpper = exp + band * mae;
    expected[i] = lastExpected;
    lower[i] = lastLower;
    upper[i] = lastUpper;

    // Features.
    const d = seen === 0 ? 0 : x - prev;
    slope += (d - slope) * slopeAlpha;
    let out = 0;
    if (seen < warmup) {
      if (x < s[LVL_LO]!) s[LVL_LO] = x;
      if (x > s[LVL_HI]!) s[LVL_HI] = x;
      if (slope < s[SLP_LO]!) s[SLP_LO] = slope;
      if (slope > s[SLP_HI]!) s[SLP_HI] = slope;
      const warm = st.warm;
      warm[3 * seen] = x;
      warm[3 * seen + 1] = slope;
      warm[3 * seen + 2] = hour;
      if (seen + 1 === warmup) {
        s[LVL_W] = widthOf(s[LVL_LO]!, s[LVL_HI]!, bins, x);
        s[SLP_W] = widthOf(s[SLP_LO]!, s[SLP_HI]!, bins, slope);
        // The warm-up samples are history too: they are the first things the model has seen.
        for (let g = 0; g < grids; g++) {
          const shift = g / grids, c = g * perGrid;
          for (let k = 0; k < warmup; k++) {
            const lb = binOf(warm[3 * k]!, s[LVL_LO]!, s[LVL_W]!, shift, bins, perOctave);
            const h = c + 1 + warm[3 * k + 2]!;
            observe(st, c, keyOf(c, lb));
            observe(st, h, keyOf(h, lb));
            const sb = binOf(warm[3 * k + 1]!, s[SLP_LO]!, s[SLP_W]!, shift, bins, perOctave);
            observe(st, c + 1 + hours, keyOf(c + 1 + hours, sb));
          }
        }
        st.warm = new Float64Array(0);
        lvlLo = s[LVL_LO]!, lvlW = s[LVL_W]!, slpLo = s[SLP_LO]!, slpW = s[SLP_W]!;
      }
    } else {
      // Per grid: the bins of the level and the slope (linear over the warm-up range shifted by
      // g / grids of a bin, tailBin beyond it), and the largest surprise over the three views.
      let total = 0;
      for (let g = 0; g < grids; g++) {
        const shift = g / grids, c = g * perGrid;
        let levelBin = Math.floor((x - lvlLo) / lvlW + shift);
        if (!(levelBin >= 0 && levelBin < bins)) {
          if (levelBin !== tailMemo[4 * g]) {
            tailMemo[4 * g] = levelBin;
            tailMemo[4 * g + 1] = tailBin(levelBin, bins, perOctave);
          }
          levelBin = tailMemo[4 * g + 1]!;
        }
        let slopeBin = Math.floor((slope - slpLo) / slpW + shift);
        if (!(slopeBin >= 0 && slopeBin < bins)) {
          if (slopeBin !== tailMemo[4 * g + 2]) {
            tailMemo[4 * g + 2] = slopeBin;
            tailMemo[4 * g + 3] = tailBin(slopeBin, bins, perOctave);
          }
          slopeBin = tailMemo[4 * g + 3]!;
        }
        let bits = surprise(st, lastKey, 3 * g, c, levelBin);
        const b2 = surprise(st, lastKey, 3 * g + 1, c + 1 + hour, levelBin);
        if (b2 > bits) bits = b2;
        const b3 = surprise(st, lastKey, 3 * g + 2, c + 1 + hours, slopeBin);
        if (b3 > bits) bits = b3;
        total += bits;
      }
      let raw = total / grids / fullBits;
      if (raw > 1) raw = 1;
      const span = rangeHi - rangeLo > 0 ? rangeHi - rangeLo : lvlW;
      const beyond = x > rangeHi ? x - rangeHi : rangeLo - x;
      if (beyond > tol * span) raw = 1;
      // Refractory: within the period, only a stronger score than the last reported one passes.
      age++;
      if (raw > (age < refractory ? reported : 0)) {
        out = raw;
        reported = raw;
        age = 0;
      }
    }
    score[i] = out;
    // Incidents, per sample: one opens at a high score, closes after `clear` low ones in a row.
    if (out >= threshold && out > 0) {
      quiet = 0;
      if (alerting === 0) {
        alerting = 1;
        if (changes === NO_CHANGES) changes = [];
        changes.push({ index: i, open: true });
      }
    } else if (alerting !== 0 && ++quiet >= clear) {
      alerting = 0;
      quiet = 0;
      if (changes === NO_CHANGES) changes = [];
      changes.push({ index: i, open: false });
    }

    // Learn.
    if (x < rangeLo) rangeLo = x;
    if (x > rangeHi) rangeHi = x;
    if (seen === 0) {
      level = x;
    } else {
      const e = Math.abs(x - level);
      errLevel += (e - errLevel) * ERROR_ALPHA;
      levelMae += (e - levelMae) * (seen < 10 ? 1 / (seen + 1) : LEVEL_ALPHA);
      level += (x - level) * LEVEL_ALPHA;
    }
    if (pn > 0) {
      const r = x - profile[3 * hour]!;
      const a = Math.max(1 / (pn + 1), PROFILE_ALPHA_MIN);
      errProfile += (Math.abs(r) - errProfile) * ERROR_ALPHA;
      profile[3 * hour + 1] = profile[3 * hour + 1]! + (Math.abs(r) - profile[3 * hour + 1]!) * a;
      profile[3 * hour] = profile[3 * hour]! + r * a;
    } else {
      profile[3 * hour] = x;
      profile[3 * hour + 1] = levelMae;
      if (seen === 0) errProfile = 0;
    }
    profile[3 * hour + 2] = pn + 1;
    prev = x;
    seen++;
  }
  s[SEEN] = seen;
  s[SKIPPED] = s[SKIPPED]! + skipped;
  s[PREV] = prev;
  s[SLOPE] = slope;
  s[RANGE_LO] = rangeLo;
  s[RANGE_HI] = rangeHi;
  s[REPORTED] = reported;
  s[AGE] = age;
  s[LEVEL] = level;
  s[LEVEL_MAE] = levelMae;
  s[ERR_LEVEL] = errLevel;
  s[ERR_PROFILE] = errProfile;
  s[LAST_EXPECTED] = lastExpected;
  s[LAST_LOWER] = lastLower;
  s[LAST_UPPER] = lastUpper;
  s[ALERTING] = alerting;
  s[QUIET] = quiet;
  return {
    score,
    expected,
    lower,
    upper,
    changes,
    valid,
    skipped,
    seen,
  };
}

/** Serialises a state exactly: header, scalars, profile, contexts, key set. */
export function saveAnomalyState(st: AnomalyState): Uint8Array {
  const bytes = new Uint8Array(
    24 + 8 * (st.s.length + st.profile.length + st.ctx.length + st.warm.length) +
      4 * st.keys.length,
  );
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SAVE_MAGIC, true);
  view.setUint32(4, SAVE_VERSION, true);
  view.setUint32(8, st.profile.length, true);
  view.setUint32(12, st.ctx.length, true);
  view.setUint32(16, st.keys.length, true);
  view.setUint32(20, st.warm.length, true);
  let p = 24;
  for (const a of [st.s, st.profile, st.ctx, st.warm]) {
    for (let i = 0; i < a.length; i++, p += 8) view.setFloat64(p, a[i]!, true);
  }
  for (let i = 0; i < st.keys.length; i++, p += 4) view.setUint32(p, st.keys[i]!, true);
  return bytes;
}

/** Restores a state saved by `saveAnomalyState`; throws RangeError on bytes that are not one. */
export function loadAnomalyState(bytes: Uint8Array): AnomalyState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new RangeError(`Cannot load anomaly kernel state: ${why}`);
  };
  if (bytes.byteLength < 24) fail(`${bytes.byteLength} bytes is shorter than the header`);
  if (view.getUint32(0, true) !== SAVE_MAGIC) fail("bad magic");
  const version = view.getUint32(4, true);
  if (version !== SAVE_VERSION) fail(`version ${version}, expected ${SAVE_VERSION}`);
  const np = view.getUint32(8, true), nc = view.getUint32(12, true), nk = view.getUint32(16, true);
  const nw = view.getUint32(20, true);
  const size = 24 + 8 * (SCALARS + np + nc + nw) + 4 * nk;
  if (bytes.byteLength !== size) fail(`${bytes.byteLength} bytes, expected ${size}`);
  if (nk === 0 || (nk & (nk - 1)) !== 0) fail(`key table of ${nk} slots is not a power of two`);
  let p = 24;
  const read = (len: number) => {
    const a = new Float64Array(len);
    for (let i = 0; i < len; i++, p += 8) a[i] = view.getFloat64(p, true);
    return a;
  };
  const s = read(SCALARS), profile = read(np), ctx = read(nc), warm = read(nw);
  const keys = new Uint32Array(nk);
  for (let i = 0; i < nk; i++, p += 4) keys[i] = view.getUint32(p, true);
  const grids = s[GRIDS]!;
  if (!(Number.isInteger(grids) && grids >= 1 && grids <= GRIDS_MAX)) fail(`${grids} grids`);
  if (np !== 3 * s[HOURS]! || nc !== 2 * (s[HOURS]! + 2) * grids) {
    fail("table sizes disagree with hours and grids");
  }
  if (nw !== 0 && nw !== 3 * s[WARMUP]!) fail(`warm-up buffer of ${nw} values`);
  let used = 0;
  for (let i = 0; i < nk; i++) if (keys[i] !== 0) used++;
  // The set keeps at least half its slots empty; a fuller one would make a lookup spin.
  if (used !== s[KEYS] || used * 2 > nk) fail(`key table holds ${used} of ${nk} slots`);
  return { s, profile, ctx, warm, keys };
}

/** Live counters of a state, for health and tests. */
export function anomalyCounters(st: AnomalyState): { seen: number; skipped: number; keys: number } {
  return { seen: st.s[SEEN]!, skipped: st.s[SKIPPED]!, keys: st.s[KEYS]! };
}

/** The anomaly kernel. */
export const anomalyKernel: Kernel<AnomalyState, AnomalyConfig, AnomalyResult> = {
  init: (config) => createAnomalyState(config),
  step: stepAnomaly,
  configure(st, config) {
    applyLive(st.s, config);
  },
  save: saveAnomalyState,
  load: loadAnomalyState,
};

/** The scalar slots' names, in slot order (SEEN first). */
const SCALAR_NAMES = [
  "seen",
  "skipped",
  "level_lo",
  "level_hi",
  "level_bin_width",
  "slope_lo",
  "slope_hi",
  "slope_bin_width",
  "prev_value",
  "slope",
  "range_lo",
  "range_hi",
  "reported",
  "age",
  "level",
  "level_mae",
  "error_level",
  "error_profile",
  "keys",
  "spatial_tolerance",
  "full_bits",
  "refractory_samples",
  "band_sigmas",
  "warmup_samples",
  "bins",
  "tail_bins_per_octave",
  "hour_buckets",
  "slope_span_samples",
  "keys_max",
  "threshold",
  "last_expected",
  "last_lower",
  "last_upper",
  "alerting",
  "quiet_samples",
  "clear_samples",
  "grids",
] as const;

/** The state's fields by name, for people (`troupe replay --inspect`): scalars and table sizes. */
export function describeAnomaly(state: AnomalyState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  SCALAR_NAMES.forEach((name, i) => (out[name] = state.s[i]));
  out.alerting = state.s[ALERTING] === 1;
  out.hour_profile_slots = state.profile.length;
  out.contexts = state.ctx.length / 2;
  out.table_capacity = state.keys.length;
  out.warmup_held = state.warm.length;
  return out;
}
