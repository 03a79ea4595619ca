/**
 * The anomaly kernel's state: its layout (scalar slots, tables), creation from a configuration,
 * exact save and load, and its description for people (`troupe replay --inspect`).
 */
import { type AnomalyConfig, GRIDS_MAX, HOUR_BUCKETS_MAX } from "./config.ts";
import { initKeysCapacity, TABLE_SLOTS } from "./_table.ts";
import { CALIB_BINS, CALIB_FLOATS, CALIB_WEIGHT, createCalibration } from "./_calibration.ts";
import {
  createShiftState,
  DAY_TYPES,
  describeShift,
  SHIFT_SCALARS,
  shiftBuckets,
} from "./_shift.ts";

const SAVE_MAGIC = 0x414e4f4d; // "ANOM"
/**
 * The save format. Only this one loads: a state saved by another format was saved by another
 * version of the kind (ActorDefinition.version), whose snapshots the host discards and rebuilds
 * from the journal, and a recording of one replays with that kind not compared.
 */
const SAVE_VERSION = 18;
const HOUR_US = 3_600_000_000;

// Scalar slots of the state.
export const SEEN = 0,
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
  KEYS = TABLE_SLOTS.keys,
  SPATIAL_TOL = 19,
  FULL_BITS = 20,
  REFRACTORY = 21,
  BAND_SIGMAS = 22,
  WARMUP = 23,
  BINS = 24,
  TAIL_PER_OCTAVE = 25,
  HOURS = 26,
  SLOPE_SPAN = 27,
  KEYS_MAX = TABLE_SLOTS.keysMax,
  THRESHOLD = 29,
  LAST_EXPECTED = 30,
  /** The last band's half-width. */
  LAST_SPREAD = 31,
  LAST_UPPER = 32,
  ALERTING = 33,
  QUIET = 34,
  CLEAR = 35,
  GRIDS = 36,
  RUN = 37,
  INC_MAD = 38,
  INC_SQ = 39,
  WALK_MEAN = 40,
  WALK_VAR = 41,
  SETTLE_US = 42,
  FLAT_TOL = 43,
  WALK_THRESHOLD = 44,
  // Slot 45: whether the channel's day has no season (1: the time-of-day view is silent); slot 46:
  // the valid samples since the last to score ALARM_LEVEL.
  NO_SEASON = 45,
  SINCE_ALARM = 46,
  INC_MAD_FAST = 47,
  LAST_ALARM = 48,
  LAST_ALARM_SIZE = 49,
  WALK_ON = 50,
  INC_SQ_SLOW = 51,
  RUN_RATE = 52,
  SCALARS = 53;

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
  "last_spread",
  "last_upper",
  "alerting",
  "quiet_samples",
  "clear_samples",
  "grids",
  "flat_run",
  "increment_mae",
  "increment_mean_square",
  "walk_mean",
  "walk_variance",
  "settle_us",
  "flat_tolerance",
  "walk_threshold",
  "no_daily_season",
  "since_alarm",
  "increment_mae_fast",
  "last_alarm_us",
  "last_alarm_departure",
  "walk",
  "increment_ms_slow",
  "flat_run_rate",
] as const;

/** An anomaly kernel's state: plain typed arrays, saved and loaded byte for byte. */
export interface AnomalyState {
  /** Scalars, indexed by the slot constants above (structural config included). */
  s: Float64Array;
  /** Per hour bucket: profile mean, mean absolute error and count. */
  profile: Float64Array;
  /**
   * Per context: samples seen N and distinct bins D. Per grid, `hours + 3` contexts (level, each
   * hour bucket, slope, increment).
   */
  ctx: Float64Array;
  /** Open-addressing set of (context, bin) keys + 1; 0 is empty. */
  keys: Uint32Array;
  /** Per slot of `keys`: the time (µs) its key was first seen. */
  born: Float64Array;
  /** The warm-up samples (value, slope, hour bucket), learned once the bins are fixed. */
  warm: Float64Array;
  /** Per flat-run bin b (RUN_BINS of them): finished runs that reached it (b = 0: every run). */
  runs: Float64Array;
  /** Per jump bin b (JUMP_BINS of them): past increments beyond the increment range reaching it. */
  jumps: Float64Array;
  /** The shift view (see _shift.ts): its scalars, then per season bucket offset and visits. */
  shift: Float64Array;
  /** The calibration's record (_calibration.ts): samples scored, rises per score bin, last bin. */
  calib: Float64Array;
}

/** Jump bins: half-octaves of an increment's size beyond the increment bins' range. */
export const JUMP_BINS = 16;

/** Flat-run bins: a run of r samples reaches bins 0 to floor(log2(r + 1)). */
export const RUN_BINS = 32;

/** Contexts per grid for `hours` hour buckets: level, each hour, slope, increment. */
export function contextsPerGrid(hours: number): number {
  return hours + 3;
}

/**
 * Consecutive values within this fraction of the channel's mean absolute increment of each other
 * make a flat run: no move at 1% of the channel's usual one. Not a setting: 0 and
 * 0.01 score within 0.1 of each other under leave-one-category-out on nab-dev.
 */
export const FLAT_TOLERANCE = 0.01;
/**
 * Above this ratio of the level's variance about its long average to what a random walk with the
 * channel's increments would give, the channel is scored as a walk (it stays one until the ratio
 * falls below half of this). A walk's ratio averages 1 and a stationary channel's is near 0; 0.6
 * leaves a walk's long dips below 1 inside and was chosen on troupe's market feed, not on NAB
 * (nab-dev scores the same from 0 to 2). Not a setting: it earned nothing under
 * leave-one-category-out.
 */
export const WALK_RATIO = 0.6;
/**
 * The score that starts a settling (see `settle_hours`) when none has for `clear_samples` valid
 * samples: the default threshold, but fixed, so that the threshold changes no score and a lower
 * one only opens more incidents, each within an incident at a higher one.
 */
export const ALARM_LEVEL = 0.5;

/** Sets the fields of `config` that apply at once. */
export function applyLive(s: Float64Array, config: AnomalyConfig): void {
  s[THRESHOLD] = config.threshold;
  s[SPATIAL_TOL] = config.spatial_tolerance;
  s[FULL_BITS] = config.full_score_bits;
  s[REFRACTORY] = config.refractory_samples;
  s[BAND_SIGMAS] = config.band_sigmas;
  s[CLEAR] = config.clear_samples;
  s[SETTLE_US] = config.settle_hours * HOUR_US;
  s[FLAT_TOL] = FLAT_TOLERANCE;
  s[WALK_THRESHOLD] = WALK_RATIO;
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
  s[LAST_ALARM] = -Infinity;
  s[SINCE_ALARM] = Infinity;
  s[RUN_RATE] = NaN;
  s[WARMUP] = Math.max(2, Math.floor(config.warmup_samples));
  s[BINS] = Math.max(1, Math.floor(config.bins));
  s[TAIL_PER_OCTAVE] = config.tail_bins_per_octave;
  s[HOURS] = hours;
  s[SLOPE_SPAN] = config.slope_span_samples;
  s[KEYS_MAX] = config.keys_max;
  s[GRIDS] = Math.min(Math.max(1, Math.floor(config.grids)), GRIDS_MAX);
  applyLive(s, config);
  const capacity = initKeysCapacity(config.keys_max);
  return {
    s,
    profile: new Float64Array(3 * hours),
    ctx: new Float64Array(2 * contextsPerGrid(hours) * s[GRIDS]!),
    keys: new Uint32Array(capacity),
    born: new Float64Array(capacity),
    warm: new Float64Array(3 * s[WARMUP]!),
    runs: new Float64Array(RUN_BINS),
    jumps: new Float64Array(JUMP_BINS),
    shift: createShiftState(hours),
    calib: createCalibration(),
  };
}

/**
 * Serialises a state exactly: header, scalars, profile, contexts, warm-up, births, flat runs,
 * jumps, the shift view, key set, the calibration's record.
 */
export function saveAnomalyState(st: AnomalyState): Uint8Array {
  const floats = st.s.length + st.profile.length + st.ctx.length + st.warm.length +
    st.born.length + RUN_BINS + JUMP_BINS + st.shift.length + CALIB_FLOATS;
  const bytes = new Uint8Array(24 + 8 * floats + 4 * st.keys.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SAVE_MAGIC, true);
  view.setUint32(4, SAVE_VERSION, true);
  view.setUint32(8, st.profile.length, true);
  view.setUint32(12, st.ctx.length, true);
  view.setUint32(16, st.keys.length, true);
  view.setUint32(20, st.warm.length, true);
  let p = 24;
  for (const a of [st.s, st.profile, st.ctx, st.warm, st.born, st.runs, st.jumps, st.shift]) {
    for (let i = 0; i < a.length; i++, p += 8) view.setFloat64(p, a[i]!, true);
  }
  for (let i = 0; i < st.keys.length; i++, p += 4) view.setUint32(p, st.keys[i]!, true);
  for (let i = 0; i < st.calib.length; i++, p += 8) view.setFloat64(p, st.calib[i]!, true);
  return bytes;
}

/**
 * Restores a state saved by `saveAnomalyState` in this format; throws RangeError on bytes that are
 * not one (another format included, naming it).
 */
export function loadAnomalyState(bytes: Uint8Array): AnomalyState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new RangeError(`Cannot load anomaly kernel state: ${why}`);
  };
  if (bytes.byteLength < 24) fail(`${bytes.byteLength} bytes is shorter than the header`);
  if (view.getUint32(0, true) !== SAVE_MAGIC) fail("bad magic");
  const version = view.getUint32(4, true);
  if (version !== SAVE_VERSION) {
    fail(`format ${version}, expected ${SAVE_VERSION} (saved by another version of the kind)`);
  }
  const np = view.getUint32(8, true), nc = view.getUint32(12, true), nk = view.getUint32(16, true);
  const nw = view.getUint32(20, true);
  const ns = SHIFT_SCALARS + 2 * DAY_TYPES * (np / 3);
  const size = 24 +
    8 * (SCALARS + np + nc + nw + nk + RUN_BINS + JUMP_BINS + ns + CALIB_FLOATS) +
    4 * nk;
  if (bytes.byteLength !== size) fail(`${bytes.byteLength} bytes, expected ${size}`);
  if (nk === 0 || (nk & (nk - 1)) !== 0) fail(`key table of ${nk} slots is not a power of two`);
  let p = 24;
  const read = (len: number) => {
    const a = new Float64Array(len);
    for (let i = 0; i < len; i++, p += 8) a[i] = view.getFloat64(p, true);
    return a;
  };
  const s = read(SCALARS);
  const profile = read(np), ctx = read(nc), warm = read(nw), born = read(nk);
  const runs = read(RUN_BINS), jumps = read(JUMP_BINS), shift = read(ns);
  const keys = new Uint32Array(nk);
  for (let i = 0; i < nk; i++, p += 4) keys[i] = view.getUint32(p, true);
  const calib = read(CALIB_FLOATS);
  const weight = calib[CALIB_WEIGHT]!;
  if (!(weight >= 1 && weight < Infinity)) fail(`calibration weight ${weight}`);
  const grids = s[GRIDS]!;
  if (!(Number.isInteger(grids) && grids >= 1 && grids <= GRIDS_MAX)) fail(`${grids} grids`);
  if (np !== 3 * s[HOURS]! || nc !== 2 * contextsPerGrid(s[HOURS]!) * grids) {
    fail("table sizes disagree with hours and grids");
  }
  if (nw !== 0 && nw !== 3 * s[WARMUP]!) fail(`warm-up buffer of ${nw} values`);
  let used = 0;
  for (let i = 0; i < nk; i++) if (keys[i] !== 0) used++;
  // The set keeps at least half its slots empty; a fuller one would make a lookup spin.
  if (used !== s[KEYS] || used * 2 > nk) fail(`key table holds ${used} of ${nk} slots`);
  if (shiftBuckets(shift) !== DAY_TYPES * s[HOURS]!) fail("shift view size disagrees with hours");
  return { s, profile, ctx, warm, keys, born, runs, jumps, shift, calib };
}

/** Live counters of a state, for health and tests. */
export function anomalyCounters(st: AnomalyState): { seen: number; skipped: number; keys: number } {
  return { seen: st.s[SEEN]!, skipped: st.s[SKIPPED]!, keys: st.s[KEYS]! };
}

/** The state's fields by name, for people (`troupe replay --inspect`): scalars and table sizes. */
export function describeAnomaly(state: AnomalyState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  SCALAR_NAMES.forEach((name, i) => (out[name] = state.s[i]));
  out.alerting = state.s[ALERTING] === 1;
  out.hour_profile_slots = state.profile.length;
  out.contexts = state.ctx.length / 2;
  out.table_capacity = state.keys.length;
  out.warmup_held = state.warm.length;
  let bins = 0;
  while (bins < RUN_BINS && state.runs[bins]! > 0) bins++;
  out.flat_runs_by_bin = Array.from(state.runs.subarray(0, bins));
  let jumpBins = 0;
  while (jumpBins < JUMP_BINS && state.jumps[jumpBins]! > 0) jumpBins++;
  out.jumps_by_bin = Array.from(state.jumps.subarray(0, jumpBins));
  out.shift = describeShift(state.shift);
  // The record in samples: its weighted counts over the weight of the latest sample.
  const w = state.calib[CALIB_WEIGHT]!;
  let calibBins = 1;
  while (calibBins <= CALIB_BINS && state.calib[calibBins]! > 0) calibBins++;
  out.calibration_samples = state.calib[0]! / w;
  out.calibration_rises_by_bin = Array.from(state.calib.subarray(1, calibBins), (r) => r / w);
  return out;
}
