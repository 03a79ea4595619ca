/**
 * The collapse state's saved form, and the older forms it loads. Format 10 saves what the state
 * holds: the header, the run-length hypotheses' columns, of each season block the coefficients in
 * use and their covariance (the features past them hold what `seasonReset` wrote, or zeros in a
 * state loaded from format 5, which nothing reads or changes while the season keeps its features:
 * a new season resets the blocks), and of the history ring the slots reached (those past the last
 * written slot are NaN, never read). A metrics channel (a daily season with the weekend) of 13
 * samples saves 1,976 bytes, not format 9's 12,584 (the ring of 512 slots whole and the seasons at
 * their largest); one whose ring is full, 9,960.
 *
 * Format 9 added the noise's keep factor to the header (H_NOISE_KEEP); format 8 states, one slot
 * shorter, load with 1 there (nothing forgotten, as they ran). Format 8: the weekend has a fifth
 * feature, its fast level (_weekend.ts). Format 7's season blocks were one coefficient shorter,
 * format 6's two (format 7 added the weekend's sharp level), format 5's WEEKEND_FEATURES shorter
 * (it had no weekend). Format 5 added the season's warm-up in the header, format 4 had a channel
 * season block and a longer header, format 3 hypotheses with a line (level, slope, covariance),
 * format 2 only a level. Formats 5 to 9 saved the ring whole and the season blocks at their
 * largest.
 */
import { RUNS_MAX_LIMIT } from "./config.ts";
import {
  type CollapseState,
  dataLength,
  H_FORMAT,
  H_INDEX,
  H_NOISE_KEEP,
  H_RUNS_MAX,
  H_SEASON_M,
  H_SEASON_WEEKEND,
  HEADER,
  HISTORY_INITIAL,
  HISTORY_SAMPLES,
  historyColumn,
  RUN_FIELDS,
  seasonRoom,
  STATE_FORMAT,
  viewState,
} from "./_state.ts";
import {
  SEASON_BLOCK,
  SEASON_COEFFS,
  SEASON_PRIOR_VARIANCE,
  seasonHarmonics,
  seasonReset,
  spreadFeatures,
} from "./_season.ts";
import { WEEKEND_FEATURES } from "./_weekend.ts";
import { allocBytes, borrowFloat64s, writeWords } from "../../protocol/mod.ts";

/** The oldest format loadState reads. */
export const STATE_FORMAT_OLDEST = 5;
/** The coefficients of a season block in the whole-ring formats loadState reads, by format. */
const FORMAT_COEFFS: Readonly<Record<number, number>> = {
  5: SEASON_COEFFS - WEEKEND_FEATURES,
  6: SEASON_COEFFS - 2,
  7: SEASON_COEFFS - 1,
  8: SEASON_COEFFS,
  9: SEASON_COEFFS,
};
/** The header's length in formats 5 to 8. */
const HEADER_FORMAT8 = 56;

/**
 * The coefficients saved of the season block and of the noise's season block: those the season
 * uses, at least the level's (which a season of none keeps too).
 */
function savedFeatures(data: Float64Array): [number, number] {
  const m = data[H_SEASON_M]!, weekend = data[H_SEASON_WEEKEND] === 1;
  const spread = spreadFeatures(seasonHarmonics(m, weekend), weekend);
  return [Math.max(1, m), Math.max(1, spread)];
}

/** The history ring's slots up to its last written one (a value or a time that is not NaN). */
function reachedSlots(state: CollapseState): number {
  const { histV, histT } = state;
  let n = Math.min(histV.length, HISTORY_SAMPLES);
  while (n > 0 && histV[n - 1] !== histV[n - 1] && histT[n - 1] !== histT[n - 1]) n--;
  return n;
}

/** Words a season block of `m` coefficients saves: the coefficients and their covariance. */
const blockWords = (m: number) => m + m * m;

/** Writes a season block's first `m` coefficients and their covariance's m-by-m corner. */
function putBlock(out: Uint8Array, p: number, block: Float64Array, m: number): number {
  p = writeWords(out, p, block.subarray(0, m));
  for (let i = 0; i < m; i++) {
    const row = SEASON_COEFFS + i * SEASON_COEFFS;
    p = writeWords(out, p, block.subarray(row, row + m));
  }
  return p;
}

/** Reads what `putBlock` wrote into a block reset to nothing learned. */
function takeBlock(saved: Float64Array, p: number, block: Float64Array, m: number): number {
  seasonReset(block, 0);
  block.set(saved.subarray(p, p + m));
  p += m;
  for (let i = 0; i < m; i++, p += m) {
    block.set(saved.subarray(p, p + m), SEASON_COEFFS + i * SEASON_COEFFS);
  }
  return p;
}

/**
 * Serialises the state as little-endian doubles: the header, the hypotheses' columns, the two
 * season blocks' parts in use, then the history ring's values and times up to the last slot
 * reached.
 */
export function saveState(state: CollapseState): Uint8Array {
  const { data, runsMax } = state;
  const [m, spread] = savedFeatures(data);
  const n = reachedSlots(state);
  const hypotheses = HEADER + RUN_FIELDS * runsMax;
  const words = hypotheses + blockWords(m) + blockWords(spread) + 2 * n;
  const out = allocBytes(words * 8);
  let p = writeWords(out, 0, data.subarray(0, hypotheses));
  p = putBlock(out, p, state.season, m);
  p = putBlock(out, p, state.spreadSeason, spread);
  p = writeWords(out, p, state.histV.subarray(0, n));
  writeWords(out, p, state.histT.subarray(0, n));
  return out;
}

/**
 * The ring's capacity for a state at sample `index` holding `n` slots: as far as the samples seen
 * reach, at least its first capacity (all of it once it wraps, or when the index is not a count).
 */
function ringCapacity(index: number, n: number): number {
  const reached = Number.isInteger(index) && index >= 0
    ? Math.min(HISTORY_SAMPLES, Math.max(HISTORY_INITIAL, index))
    : HISTORY_SAMPLES;
  return n > reached ? HISTORY_SAMPLES : reached;
}

/** The state of a format-10 array, or a message saying why its length does not fit. */
function fromTrimmed(saved: Float64Array): CollapseState | string {
  const runsMax = saved[H_RUNS_MAX]!;
  const m = saved[H_SEASON_M]!;
  if (!Number.isInteger(m) || m < 0 || m > SEASON_COEFFS) {
    return `its season's ${m} features are not 0 to ${SEASON_COEFFS}`;
  }
  const [mSaved, spread] = savedFeatures(saved);
  const hypotheses = HEADER + RUN_FIELDS * runsMax;
  const ring = (saved.length - hypotheses - blockWords(mSaved) - blockWords(spread)) / 2;
  if (!Number.isInteger(ring) || ring < 0 || ring > HISTORY_SAMPLES) {
    return `${saved.length} values do not fit runs_max = ${runsMax}`;
  }
  const data = new Float64Array(dataLength(runsMax, seasonRoom(m)));
  data.set(saved.subarray(0, hypotheses));
  const capacity = ringCapacity(saved[H_INDEX]!, ring);
  const state = viewState(data, historyColumn(capacity), historyColumn(capacity));
  let p = takeBlock(saved, hypotheses, state.season, mSaved);
  p = takeBlock(saved, p, state.spreadSeason, spread);
  state.histV.set(saved.subarray(p, p + ring));
  state.histT.set(saved.subarray(p + ring, p + 2 * ring));
  return state;
}

/** The length of a whole-ring array (formats 5 to 9, seasons of `block` values). */
function wholeLength(runsMax: number, block: number, header: number): number {
  return header + RUN_FIELDS * runsMax + 2 * HISTORY_SAMPLES + 2 * block;
}

/**
 * The state of a whole-ring array in format 9's layout: its history ring as long as the samples
 * seen reach (all of it when a slot past them holds anything).
 */
function fromWhole(saved: Float64Array): CollapseState {
  const runsMax = saved[H_RUNS_MAX]!;
  const hist = HEADER + RUN_FIELDS * runsMax, times = hist + HISTORY_SAMPLES;
  const data = new Float64Array(dataLength(runsMax));
  data.set(saved.subarray(0, hist));
  data.set(saved.subarray(times + HISTORY_SAMPLES), hist);
  data[H_FORMAT] = STATE_FORMAT;
  let reached = ringCapacity(saved[H_INDEX]!, 0);
  for (let i = reached; i < HISTORY_SAMPLES; i++) {
    const v = saved[hist + i]!, t = saved[times + i]!;
    if (v === v || t === t) {
      reached = HISTORY_SAMPLES;
      break;
    }
  }
  const histV = saved.slice(hist, hist + reached), histT = saved.slice(times, times + reached);
  return viewState(data, histV, histT);
}

/** Restores a state saved by `saveState` or in an older format, checking its format and length. */
export function loadState(bytes: Uint8Array): CollapseState {
  if (bytes.byteLength % 8 !== 0 || bytes.byteLength < HEADER_FORMAT8 * 8) {
    throw new RangeError(
      `Cannot load a collapse state: expected a multiple of 8 bytes of at least ${
        HEADER_FORMAT8 * 8
      }, got ${bytes.byteLength}`,
    );
  }
  // Read in place or lent: every format's reading copies what the state keeps out of it.
  const data = borrowFloat64s(bytes, 0, bytes.byteLength / 8);
  const format = data[H_FORMAT]!;
  const coeffs = FORMAT_COEFFS[format];
  if (coeffs === undefined && format !== STATE_FORMAT) {
    throw new RangeError(
      `Cannot load a collapse state: format must be ${STATE_FORMAT_OLDEST} to ${STATE_FORMAT}, ` +
        `got ${format}`,
    );
  }
  const runsMax = data[H_RUNS_MAX]!;
  const fits = Number.isInteger(runsMax) && runsMax >= 2 && runsMax <= RUNS_MAX_LIMIT;
  let state: CollapseState | string = `${data.length} values do not fit runs_max = ${runsMax}`;
  if (fits && coeffs === undefined) {
    if (data.length >= HEADER) state = fromTrimmed(data);
  } else if (fits) {
    const header = format === 9 ? HEADER : HEADER_FORMAT8;
    if (data.length === wholeLength(runsMax, coeffs! * (1 + coeffs!), header)) {
      state = fromWhole(format === 9 ? data : fromShorter(data, runsMax, coeffs!));
    }
  }
  if (typeof state === "string") throw new RangeError(`Cannot load a collapse state: ${state}`);
  return state;
}

/**
 * A state of an older format (a header of HEADER_FORMAT8 slots, season blocks of `coeffs`
 * coefficients) in format 9's layout: the same header, with the noise kept whole (H_NOISE_KEEP
 * 1, as it ran), the same hypotheses and history, and each season block copied into the longer one
 * (coefficients and covariance, by index). A format-5 state has no weekend: the weekend's rows
 * stay 0, never read. A format-6 or format-7 state with the weekend has its first three or four
 * features in the same places (after the harmonics); the features it lacks (the sharp weekend,
 * then the fast one) come after them, at the old block's length: their coefficients 0, their
 * variances the prior's (nothing learned of them yet), their covariances 0.
 */
function fromShorter(old: Float64Array, runsMax: number, coeffs: number): Float64Array {
  const data = new Float64Array(wholeLength(runsMax, SEASON_BLOCK, HEADER));
  const rest = RUN_FIELDS * runsMax + 2 * HISTORY_SAMPLES;
  data.set(old.subarray(0, HEADER_FORMAT8));
  data.set(old.subarray(HEADER_FORMAT8, HEADER_FORMAT8 + rest), HEADER);
  data[H_NOISE_KEEP] = 1;
  const blocks = HEADER + rest;
  const oldBlocks = HEADER_FORMAT8 + rest;
  const weekend = coeffs !== FORMAT_COEFFS[5] && data[H_SEASON_WEEKEND] === 1;
  if (!weekend) data[H_SEASON_WEEKEND] = 0;
  const m = data[H_SEASON_M]!;
  const C0 = coeffs, C = SEASON_COEFFS;
  for (let b = 0; b < 2; b++) {
    const from = oldBlocks + b * C0 * (1 + C0), to = blocks + b * SEASON_BLOCK;
    data.set(old.subarray(from, from + C0), to);
    for (let i = 0; i < C0; i++) {
      const row = from + C0 + i * C0;
      data.set(old.subarray(row, row + C0), to + C + i * C);
    }
  }
  if (weekend) {
    // The season's block only (the noise's season has the daily features alone).
    for (let i = m; i < m + C - C0; i++) data[blocks + C + i * C + i] = SEASON_PRIOR_VARIANCE;
    data[H_SEASON_M] = m + C - C0;
  }
  return data;
}
