/**
 * The anomaly kernel's state: its layout (scalar slots, tables), creation from a configuration,
 * exact save and load, and its description for people (`troupe replay --inspect`).
 */
import { type AnomalyConfig, GRIDS_MAX } from "./config.ts";
import {
  type Births,
  birthsOf,
  emptyKeys,
  KEYS_INITIAL,
  KEYS_MAX,
  keysOfList,
  keysOfTable,
  listRoom,
  LOAD_DEN,
  LOAD_NUM,
  TABLE_SLOTS,
} from "./_table.ts";
import {
  allocBytes,
  readSavedCounts,
  readWords,
  readWordsInto,
  writeSavedCounts,
  writeWords,
} from "../../protocol/mod.ts";

const SAVE_MAGIC = 0x414e4f4d; // "ANOM"
/**
 * The save format: the warm-up samples held (3 values each, none once learned), a key set that
 * is a list as that list (its keys in the order they lay out a table), a table as it is (up to
 * three quarters full), and a header word says which; the keys' times of birth as the state holds
 * them, the times once each and an index per key; and the tallies (each context's samples and
 * bins, the runs' and the jumps' counts) last, a byte or two each (protocol's saved counts).
 * Format 26, before it, saved the tallies as float64 (3,120 of a new channel's ~4,900 bytes, most
 * of them zeros); 25 saved a time per key; format 24 kept tables at most half full (they load as
 * they are, and grow as this one's do); format 23 saved the warm-up buffer padded with zeros to
 * its whole length (3 × warmup_samples: ~7 KiB of the ~9 a channel of 20 samples saved), and
 * format 22 every list as the table of KEYS_INITIAL slots it lays out (12 KiB, for a channel of a
 * few keys); all five load too. Any other was saved by another version of the kind
 * (ActorDefinition.version), whose snapshots the host discards and rebuilds from the journal, and
 * a recording of one replays with that kind not compared.
 */
const SAVE_VERSION = 27;
/** The format before SAVE_VERSION, its tallies as float64; read, never written. */
const SAVE_VERSION_FLOATS = 26;
/** The format before that, a time of birth per key; read, never written. */
const SAVE_VERSION_TIMES = 25;
/** The format before that, its tables at most half full; read, never written. */
const SAVE_VERSION_HALF = 24;
/** The format before that, the warm-up saved at its whole length; read, never written. */
const SAVE_VERSION_PADDED = 23;
/** The format before that, every key set saved as a table; read, never written. */
const SAVE_VERSION_TABLES = 22;
/**
 * The header's bytes: magic, format, contexts, keys, warm-up values, the form (from 23), the
 * times of birth (from 26) and the tallies' bytes (27; a word of padding in 26, so the numbers
 * after it lie on 8 bytes).
 */
const HEADER_BYTES = 32;
/** The header's bytes in formats 23 to 25 (22's has no form: 20). */
const HEADER_BYTES_TIMES = 24;
/** The key set's form in the header: a table of power-of-two slots, or a list of keys. */
const FORM_TABLE = 0, FORM_LIST = 1;

/** Time-of-day contexts (UTC): one per hour, the resolution of a daily cycle people read. */
export const HOURS = 24;

/** The scalar slots' names, in slot order (the slot constants below follow it). */
const SCALAR_NAMES = `
seen skipped level_lo level_hi level_bin_width slope_lo slope_hi slope_bin_width
prev_value slope range_lo range_hi reported age level level_mae error_level error_profile
keys spatial_tolerance full_bits refractory_samples band_sigmas warmup_samples bins grids
threshold last_expected last_spread alerting quiet_samples flat_run increment_mae
increment_mae_fast flat_run_rate last_alarm_us since_alarm move_class move_class_before
departure_up_mean departure_down_mean quantum restate_us held_expected held_sigma_up
held_sigma_down held_until_us held_squared
`.trim().split(/\s+/);

// Scalar slots of the state (SCALAR_NAMES' order).
export const SEEN = 0, SKIPPED = 1, LVL_LO = 2, LVL_HI = 3, LVL_W = 4, SLP_LO = 5, SLP_HI = 6;
export const SLP_W = 7, PREV = 8, SLOPE = 9, RANGE_LO = 10, RANGE_HI = 11, REPORTED = 12, AGE = 13;
export const LEVEL = 14, LEVEL_MAE = 15, ERR_LEVEL = 16, ERR_PROFILE = 17, KEYS = TABLE_SLOTS.keys;
export const SPATIAL_TOL = 19, FULL_BITS = 20, REFRACTORY = 21, BAND_SIGMAS = 22, WARMUP = 23;
export const BINS = 24, GRIDS = 25, THRESHOLD = 26, LAST_EXPECTED = 27, LAST_SPREAD = 28;
export const ALERTING = 29, QUIET = 30, RUN = 31, INC_MAD = 32, INC_MAD_FAST = 33, RUN_RATE = 34;
export const LAST_ALARM = 35, SINCE_ALARM = 36, MOVE1 = 37, MOVE2 = 38, UP_MEAN = 39;
export const DOWN_MEAN = 40, QUANTUM = 41, RESTATE_US = 42, HELD_EXPECTED = 43;
export const HELD_SIGMA_UP = 44, HELD_SIGMA_DOWN = 45, HELD_UNTIL = 46, HELD_SQUARED = 47;
export const SCALARS = 48;
if (SCALAR_NAMES.length !== SCALARS) {
  throw new Error(`${SCALAR_NAMES.length} names, ${SCALARS} slots`);
}

/** An anomaly kernel's state: plain typed arrays, saved and loaded byte for byte. */
export interface AnomalyState {
  /** Scalars, indexed by the slot constants above (structural config included). */
  s: Float64Array;
  /** Per hour: profile mean, mean absolute error and count. */
  profile: Float64Array;
  /** Per context: samples seen N and distinct bins D; HOURS + 3 contexts a grid. */
  ctx: Float64Array;
  /**
   * Open-addressing set of (context, bin) keys + 1; 0 is empty. While `index` is set, a list of
   * them instead (see _table.ts); saved as the table it lays out.
   */
  keys: Uint32Array;
  /** Per slot of `keys`: the index in `births` of the time (µs) its key was first seen. */
  born: Uint16Array;
  /** The index over `keys` while they are a list (see _table.ts), else undefined. */
  index: Uint16Array | undefined;
  /** The keys in that list. */
  listed: number;
  /** The times keys were first seen, each once (see _table.ts), `birthCount` of them. */
  births: Float64Array;
  birthCount: number;
  /**
   * The warm-up samples (value, slope, hour), learned once the bins are fixed, then empty. It grows
   * as they come (`warmRoom`); the values it holds are saved, 3 a warm-up sample seen.
   */
  warm: Float64Array;
  /** Per flat-run bin b (RUN_BINS of them): finished runs that reached it (b = 0: every run). */
  runs: Float64Array;
  /** Per jump bin b (JUMP_BINS of them): past increments beyond the increment range reaching it. */
  jumps: Float64Array;
}

/** Jump bins: half-octaves of an increment's size beyond the increment bins' range. */
export const JUMP_BINS = 16;

/** Flat-run bins: a run of r samples reaches bins 0 to floor(log2(r + 1)). */
export const RUN_BINS = 32;

/** Classes of a move (_moves.ts): calm, up, down, a jump up, a jump down. */
export const MOVE_CLASSES = 5;
/** Contexts per grid: level, each hour, slope, increment, increment after one and two moves. */
export const CONTEXTS_PER_GRID = HOURS + 3 + MOVE_CLASSES + MOVE_CLASSES * MOVE_CLASSES;

/**
 * The score that starts the time-of-day view's day of settling when none has for a refractory
 * period: the default threshold, but fixed, so that the threshold changes no score and a lower
 * one only opens more incidents, each within an incident at a higher one.
 */
export const ALARM_LEVEL = 0.5;

/** Warm-up samples the buffer holds at first: it doubles as they come, up to warmup_samples. */
export const WARM_INITIAL = 8;

/** The warm-up values held: 3 a warm-up sample seen, none once learned (the buffer emptied). */
function warmHeld(st: AnomalyState): number {
  return st.warm.length === 0 ? 0 : 3 * st.s[SEEN]!;
}

/** The warm-up buffer's length when it is made: room for WARM_INITIAL samples (fewer if fewer). */
function warmInitial(s: Float64Array): number {
  return 3 * Math.min(WARM_INITIAL, s[WARMUP]!);
}

/**
 * The warm-up buffer, with room for warm-up sample `seen` (counted from 0): its capacity at least
 * doubled when it has none.
 */
export function warmRoom(st: AnomalyState, seen: number): Float64Array {
  const warm = st.warm;
  if (3 * seen < warm.length) return warm;
  const grown = new Float64Array(
    Math.min(3 * st.s[WARMUP]!, Math.max(2 * warm.length, 3 * seen + 3)),
  );
  grown.set(warm);
  return (st.warm = grown);
}

/** Sets the fields of `config` that apply at once. */
export function applyLive(s: Float64Array, config: AnomalyConfig): void {
  s[THRESHOLD] = config.threshold;
  s[SPATIAL_TOL] = config.spatial_tolerance;
  s[FULL_BITS] = config.full_score_bits;
  s[REFRACTORY] = config.refractory_samples;
  s[BAND_SIGMAS] = config.band_sigmas;
  s[RESTATE_US] = config.restate_us;
}

/** Creates a fresh state for `config`. */
export function createAnomalyState(config: AnomalyConfig): AnomalyState {
  const grids = Math.min(Math.max(1, Math.floor(config.grids)), GRIDS_MAX);
  const nc = 2 * CONTEXTS_PER_GRID * grids;
  // The arrays a state keeps for its life are views of one buffer (as a loaded state's are): a
  // host holds one of these states a channel, and each buffer of its own costs a buffer object
  // and a backing store beside its numbers.
  const fixed = new Float64Array(SCALARS + 3 * HOURS + nc + RUN_BINS + JUMP_BINS);
  let at = 0;
  const view = (n: number) => fixed.subarray(at, at += n);
  const s = view(SCALARS);
  s[LVL_LO] = s[SLP_LO] = s[RANGE_LO] = Infinity;
  s[LVL_HI] = s[SLP_HI] = s[RANGE_HI] = -Infinity;
  s[AGE] = s[SINCE_ALARM] = Infinity;
  s[MOVE1] = s[MOVE2] = -1;
  s[LAST_ALARM] = -Infinity;
  s[RUN_RATE] = NaN;
  s[QUANTUM] = Infinity; // no resolution known before the first value
  s[HELD_UNTIL] = -Infinity; // no finding to restate
  s[WARMUP] = Math.max(2, Math.floor(config.warmup_samples));
  s[BINS] = Math.max(1, Math.floor(config.bins));
  s[GRIDS] = grids;
  applyLive(s, config);
  const profile = view(3 * HOURS), ctx = view(nc), runs = view(RUN_BINS), jumps = view(JUMP_BINS);
  return { s, profile, ctx, ...emptyKeys(), warm: new Float64Array(warmInitial(s)), runs, jumps };
}

/** A save's tallies as written, before their length is known (at most 9 bytes a tally). */
let tallyBytes = new Uint8Array(0);

/**
 * Serialises a state exactly: header, scalars, profile, warm-up, times of birth, keys, each key's
 * time of birth, and the tallies (contexts, runs, jumps) as saved counts.
 */
export function saveAnomalyState(st: AnomalyState): Uint8Array {
  const nw = warmHeld(st), list = st.index !== undefined;
  const nk = list ? st.listed : st.keys.length, nb = st.birthCount;
  const floats = st.s.length + st.profile.length + nw + nb;
  // The tallies written first, into bytes kept for it, so that one pass over them gives their
  // bytes and their length.
  const most = 9 * (st.ctx.length + st.runs.length + st.jumps.length);
  if (tallyBytes.length < most) tallyBytes = new Uint8Array(most);
  const tallies = writeSavedCounts(
    tallyBytes,
    writeSavedCounts(tallyBytes, writeSavedCounts(tallyBytes, 0, st.ctx), st.runs),
    st.jumps,
  );
  const bytes = allocBytes(HEADER_BYTES + 8 * floats + 6 * nk + tallies);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, SAVE_MAGIC, true);
  view.setUint32(4, SAVE_VERSION, true);
  view.setUint32(8, st.ctx.length, true);
  view.setUint32(12, nk, true);
  view.setUint32(16, nw, true);
  view.setUint32(20, list ? FORM_LIST : FORM_TABLE, true);
  view.setUint32(24, nb, true);
  view.setUint32(28, tallies, true);
  let p = writeWords(bytes, HEADER_BYTES, st.s);
  p = writeWords(bytes, p, st.profile);
  p = writeWords(bytes, p, st.warm, nw); // the warm-up's values held
  p = writeWords(bytes, p, st.births, nb); // the times of birth held
  // A list's keys and their times of birth: its first `nk`.
  p = writeWords(bytes, p, st.keys, nk);
  p = writeWords(bytes, p, st.born, nk);
  bytes.set(tallyBytes.subarray(0, tallies), p);
  return bytes;
}

/** What a saved state's header says: its format's traits and its parts' sizes. */
interface SavedHeader {
  /** Format 27: the tallies as saved counts. */
  counted: boolean;
  /** From 26: the times of birth once each, an index a key. */
  indexed: boolean;
  /** From 24: the warm-up values held, not padded. */
  current: boolean;
  head: number;
  nc: number;
  nk: number;
  nw: number;
  form: number;
  nb: number;
}

/**
 * The header of `bytes`, checked against their length; `fail` names what does not fit (another
 * format included).
 */
function savedHeader(bytes: Uint8Array, fail: (why: string) => never): SavedHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 20) fail(`${bytes.byteLength} bytes is shorter than the header`);
  if (view.getUint32(0, true) !== SAVE_MAGIC) fail("bad magic");
  const version = view.getUint32(4, true);
  const tables = version === SAVE_VERSION_TABLES, counted = version === SAVE_VERSION;
  const indexed = counted || version === SAVE_VERSION_FLOATS;
  const current = indexed || version === SAVE_VERSION_TIMES || version === SAVE_VERSION_HALF;
  if (!current && version !== SAVE_VERSION_PADDED && !tables) {
    fail(`format ${version}, expected ${SAVE_VERSION} (saved by another version of the kind)`);
  }
  const head = tables ? 20 : indexed ? HEADER_BYTES : HEADER_BYTES_TIMES;
  if (bytes.byteLength < head) fail(`${bytes.byteLength} bytes is shorter than the header`);
  const nc = view.getUint32(8, true), nk = view.getUint32(12, true), nw = view.getUint32(16, true);
  const form = tables ? FORM_TABLE : view.getUint32(20, true);
  if (form !== FORM_TABLE && form !== FORM_LIST) fail(`key set form ${form}`);
  // Formats before 26 saved a time of birth per key, after the warm-up.
  const nb = indexed ? view.getUint32(24, true) : nk;
  // The tallies' bytes (27), or their float64s (before).
  const tallied = counted ? view.getUint32(28, true) : 8 * (nc + RUN_BINS + JUMP_BINS);
  const size = head + 8 * (SCALARS + 3 * HOURS + nw + nb) + (indexed ? 6 : 4) * nk + tallied;
  // The tallies' contexts are not bounded by the bytes: by the grids a state may have.
  if (nc > 2 * CONTEXTS_PER_GRID * GRIDS_MAX) {
    fail(`${nc / 2} contexts for at most ${GRIDS_MAX} grids`);
  }
  if (bytes.byteLength !== size) fail(`${bytes.byteLength} bytes, expected ${size}`);
  if (form === FORM_TABLE && (nk === 0 || (nk & (nk - 1)) !== 0)) {
    fail(`key table of ${nk} slots is not a power of two`);
  }
  return { counted, indexed, current, head, nc, nk, nw, form, nb };
}

/**
 * Restores a state saved by `saveAnomalyState` in this format; throws RangeError on bytes that are
 * not one (another format included, naming it).
 */
export function loadAnomalyState(bytes: Uint8Array): AnomalyState {
  const fail = (why: string): never => {
    throw new RangeError(`Cannot load anomaly kernel state: ${why}`);
  };
  const { counted, indexed, current, head, nc, nk, nw, form, nb } = savedHeader(bytes, fail);
  let p = head;
  const read = (len: number) => {
    const a = readWords(Float64Array, bytes, p, len);
    p += 8 * len;
    return a;
  };
  // The arrays a state keeps for its life read into one buffer each run of them, views of it
  // (27: one buffer, laid out as createAnomalyState lays it).
  const fixed = counted
    ? new Float64Array(SCALARS + 3 * HOURS + nc + RUN_BINS + JUMP_BINS)
    : read(SCALARS + 3 * HOURS + nc);
  if (counted) {
    readWordsInto(fixed, bytes, p, SCALARS + 3 * HOURS);
    p += 8 * (SCALARS + 3 * HOURS);
  }
  let at = 0;
  const view64 = (n: number) => fixed.subarray(at, at += n);
  const s = view64(SCALARS), profile = view64(3 * HOURS), ctx = view64(nc);
  const held = read(nw), times = read(nb);
  const counts = counted ? fixed.subarray(at) : read(RUN_BINS + JUMP_BINS);
  const runs = counts.subarray(0, RUN_BINS), jumps = counts.subarray(RUN_BINS);
  // A list's keys and times of birth are read into the room a live list of them has.
  const room = form === FORM_LIST ? listRoom(nk) : nk;
  const keys = new Uint32Array(room);
  readWordsInto(keys, bytes, p, nk);
  if (counted) readTallies(bytes, p + 6 * nk, [ctx, runs, jumps], fail);
  // Each key's time of birth: its index among the times, or (before 26) the time itself.
  let born: Uint16Array, births: Births;
  if (indexed) {
    born = new Uint16Array(room);
    readWordsInto(born, bytes, p + 4 * nk, nk);
    births = { births: times, birthCount: nb };
    // Each time is a key's, and each key's is one of them.
    if (nb > s[KEYS]!) fail(`${nb} times of birth for ${s[KEYS]} keys`);
    for (let i = 0; i < nk; i++) {
      if (keys[i] !== 0 && born[i]! >= nb) fail(`key ${i} born at time ${born[i]} of ${nb}`);
    }
  } else {
    const of = birthsOf(keys, times) ?? fail(`more than ${KEYS_MAX} times of birth`);
    born = of.at;
    births = of.births;
  }
  const grids = s[GRIDS]!;
  if (!(Number.isInteger(grids) && grids >= 1 && grids <= GRIDS_MAX)) fail(`${grids} grids`);
  if (nc !== 2 * CONTEXTS_PER_GRID * grids) fail(`${nc / 2} contexts for ${grids} grids`);
  const warm = current ? warmOf(s, held) : held;
  if (warm === undefined || (!current && nw !== 0 && nw !== 3 * s[WARMUP]!)) {
    fail(`warm-up buffer of ${nw} values after ${s[SEEN]} of ${s[WARMUP]} warm-up samples`);
  }
  if (form === FORM_LIST) {
    // A list is at most half the table it lays out, and holds each key once.
    if (nk !== s[KEYS] || nk * 2 > KEYS_INITIAL) fail(`a key list of ${nk} for ${s[KEYS]} keys`);
    const set = keysOfList(keys, born, nk, births) ??
      fail("a key list holding a key twice, or an empty key");
    return { s, profile, ctx, ...set, warm: warm!, runs, jumps };
  }
  let used = 0;
  for (let i = 0; i < nk; i++) if (keys[i] !== 0) used++;
  // The set keeps a quarter of its slots empty at least; a fuller one would make lookups long.
  if (used !== s[KEYS] || used * LOAD_DEN > nk * LOAD_NUM) {
    fail(`key table holds ${used} of ${nk} slots`);
  }
  // The fields in createAnomalyState's order: one object shape for the step to meet.
  return { s, profile, ctx, ...keysOfTable(keys, born, used, births), warm: warm!, runs, jumps };
}

/**
 * The warm-up buffer of a state saved with the warm-up values it held (`held`): room for them and
 * at least WARM_INITIAL samples, as a live state has; empty once learned (`seen` past the
 * warm-up). Undefined when `held` is not what a state of `s`'s counts holds.
 */
function warmOf(s: Float64Array, held: Float64Array): Float64Array | undefined {
  const seen = s[SEEN]!, learned = seen >= s[WARMUP]!;
  if (held.length !== (learned ? 0 : 3 * seen)) return undefined;
  if (learned || held.length >= warmInitial(s)) return held; // the next sample grows it
  const warm = new Float64Array(warmInitial(s));
  warm.set(held);
  return warm;
}

/**
 * Reads the tallies saved from byte `at` to the end of `bytes` into `into`, in order; `fail`
 * names what does not fit (a count cut short, or bytes left over).
 */
function readTallies(
  bytes: Uint8Array,
  at: number,
  into: readonly Float64Array[],
  fail: (why: string) => never,
): void {
  let p = at;
  try {
    for (const a of into) p = readSavedCounts(bytes, p, bytes.length, a);
  } catch (err) {
    fail(`tallies: ${(err as Error).message}`);
  }
  if (p !== bytes.length) fail(`tallies end at byte ${p} of ${bytes.length}`);
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
  out.table_capacity = state.index === undefined ? state.keys.length : KEYS_INITIAL;
  out.warmup_held = warmHeld(state);
  const used = (a: Float64Array) => {
    let n = 0;
    while (n < a.length && a[n]! > 0) n++;
    return Array.from(a.subarray(0, n));
  };
  out.flat_runs_by_bin = used(state.runs);
  out.jumps_by_bin = used(state.jumps);
  return out;
}
