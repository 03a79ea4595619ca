/**
 * The collapse kernel's state: one Float64Array holding a header (configuration and running
 * scalars), the run-length hypotheses as columns and the seasons, beside a ring of recent samples
 * that grows as it fills; `viewState` gives typed views of them. A step allocates nothing per
 * sample but the ring's doublings. Its saved form, and the older ones it loads: _saved_state.ts.
 */
import type { CollapseConfig } from "./config.ts";
import { gammaHalfRatio } from "./_gamma_ratio.ts";
import { powFast } from "../math/mod.ts";
import { SEASON_COEFFS, seasonBlockLength, seasonReset, seasonRoomOf } from "./_season.ts";
import { WEEKEND_FEATURES } from "./_weekend.ts";

/** Recent samples kept to place a change and measure the regimes around it. */
export const HISTORY_SAMPLES = 512;
/**
 * The ring's first capacity: it doubles as samples come, up to HISTORY_SAMPLES. A metrics channel
 * sampled every 15 s fills it in two hours; before, its unwritten slots (NaN) are never read.
 */
export const HISTORY_INITIAL = 16;

/**
 * The kernel's state: one Float64Array (header, run-length hypotheses, seasons), the recent
 * history, and views.
 */
export interface CollapseState {
  /** Header, hypotheses' columns and seasons (the saved array less its history ring). */
  data: Float64Array;
  runsMax: number;
  /** Posterior probability of each kept hypothesis. */
  prob: Float64Array;
  /** Index of the sample at which each hypothesis' regime began. */
  start: Float64Array;
  /** Weighted count of the hypothesis' samples (each enters with its inlier weight). */
  weight: Float64Array;
  /**
   * The regime's line after its last sample: level and slope per sample, and their covariance
   * (p00, p01, p11) in units of the regime's noise variance (normal-inverse-gamma posterior).
   */
  level: Float64Array;
  slope: Float64Array;
  p00: Float64Array;
  p01: Float64Array;
  p11: Float64Array;
  /**
   * The posterior's beta minus the prior's beta0 (beta0 follows the running noise scale, so it is
   * added when a sample is scored). The shape alpha is alpha0 + weight / 2.
   */
  spread: Float64Array;
  /**
   * Ring of the last HISTORY_SAMPLES values (NaN: missing) and times, sample j in slot j modulo
   * HISTORY_SAMPLES; shorter while fewer samples came (`ensureHistory`), unwritten slots NaN.
   */
  histV: Float64Array;
  histT: Float64Array;
  /** The channel's season (see _season.ts): coefficients, then their covariance. */
  season: Float64Array;
  /** The season of its noise's log-variance, likewise. */
  spreadSeason: Float64Array;
  /** The hypothesis columns above in layout order, prob first (for moving whole hypotheses). */
  columns: readonly Float64Array[];
}

/**
 * The format of the state's saved form, in its header's first slot (the saved form, and the older
 * formats `loadState` reads: _saved_state.ts).
 */
export const STATE_FORMAT = 10;
// Header layout: configuration, then the running scalars.
export const H_FORMAT = 0;
export const H_HAZARD = 1;
export const H_CONFIRM = 2;
export const H_OUTLIER = 3;
export const H_GAP_MIN = 4;
export const H_RUNS_MAX = 5;
export const H_PRUNE = 6;
export const H_KAPPA0 = 7;
export const H_ALPHA0 = 8;
export const H_SCALE_RATE = 9;
export const H_GAP_FACTOR = 10;
export const H_G0 = 11;
export const H_INDEX = 12;
export const H_RUNS = 13;
/** The most probable regime's level and slope after the last valid sample. */
export const H_LEVEL = 14;
export const H_ABSDIFF = 15;
export const H_DIFFS = 16;
export const H_PREV_X = 17;
export const H_LAST_T = 18;
export const H_INTERVAL = 19;
export const H_INTERVALS = 20;
export const H_MISSED = 21;
export const H_CHANGE = 22;
export const H_SEG_N = 23;
export const H_SEG_MEAN = 24;
export const H_SEG_M2 = 25;
export const H_CHANGES = 26;
export const H_PROB = 27;
export const H_RUN_LENGTH = 28;
export const H_VALID = 29;
export const H_QUANTUM = 30;
/** Hypotheses that began more than min_gap_samples after this sample are a new regime. */
export const H_REGIME = 31;
export const H_SLOPE = 32;
export const H_SLOPE_VAR = 33;
export const H_LEVEL_DRIFT = 34;
export const H_SUSPECT = 35;
export const H_RECOVER = 36;
/** The lifecycle phase after the last valid sample (see PHASES). */
export const H_PHASE = 37;
export const H_CONFIRM_SAMPLES = 38;
/** Consecutive samples so far with the new-regime probability at or above confirm_threshold. */
export const H_ABOVE = 39;
export const H_SLOPE_DRIFT = 40;
/** The previous valid value less its season (the noise scale follows its differences). */
export const H_PREV_Y = 41;
/** The season's period in microseconds (0: none) and its features (level and 2 per harmonic). */
export const H_SEASON_US = 42;
export const H_SEASON_M = 43;
/** The cap of the residuals' autocorrelation (0: none), and its running moments (see kernel.ts). */
export const H_AR_MAX = 44;
export const H_AR_C0 = 45;
export const H_AR_C1 = 46;
export const H_AR_E = 47;
export const H_AR_N = 48;
/**
 * The time of the first valid sample since the season was reset (NaN: none yet), and 1 while the
 * season has been seen for less than one period (its warm-up), 0 after.
 */
export const H_SEASON_FROM = 49;
export const H_SEASON_WARMING = 50;
/** 1 when the season has the weekend's features (season_weekend), 0 when not. */
export const H_SEASON_WEEKEND = 51;
/**
 * The sample index at which the season's level is to be made unknown again, for a regime
 * confirmed before it had lasted min_gap_samples (0: none; kernel.ts, RELEVEL_AFTER_GAP). Format
 * 8 states hold 0 in this slot, which was reserved.
 */
export const H_RELEVEL_AT = 52;
/**
 * A count channel's learnt dispersion (the quasi-Poisson phi of _count_floor.ts) and the count
 * samples it has learnt from. Format 8 states hold 0 in these slots, which were reserved: no
 * dispersion learnt yet.
 */
export const H_COUNT_PHI = 53;
export const H_COUNT_N = 54;
/**
 * The `slope_carry` setting: 1 when a new regime's slope prior is centred on the current slope.
 * Format 8 states saved before it hold 0 in this slot, which was reserved: the flat prior they
 * were run with.
 */
export const H_SLOPE_CARRY = 55;
/**
 * What a regime keeps of its noise variance's evidence per sample: 2^(-1 /
 * noise_half_life_samples), 1 when off (format 9; states of older formats load with 1).
 */
export const H_NOISE_KEEP = 56;
export const HEADER = 57;
export const RUN_FIELDS = 9;

/** The lifecycle phases, by their code in H_PHASE: the machine's states. */
export const PHASES = ["stable", "suspect", "collapsed", "recovering"] as const;
export type CollapsePhase = typeof PHASES[number];

/**
 * The length of a state's `data`: its header, hypotheses and two season blocks with room for
 * `room` coefficients each (`seasonRoom`; all of them by default).
 */
export function dataLength(runsMax: number, room: number = SEASON_COEFFS): number {
  return HEADER + RUN_FIELDS * runsMax + 2 * seasonBlockLength(room);
}

/** What a state without a season holds less than one with: its blocks' room past the level's. */
export const SEASONLESS_BYTES = 8 * (dataLength(2) - dataLength(2, 1));

/**
 * The coefficients a state's season blocks have room for under a season of `seasonM` features:
 * all of them with a season (a later change of its harmonics or weekend stays in place), the
 * level's alone without one (the rest of two whole blocks, which a channel without a season never
 * reads, is most of its `data`); a season configured later grows them (`writeConfig`).
 */
export function seasonRoom(seasonM: number): number {
  return seasonM > 0 ? SEASON_COEFFS : 1;
}

/** Typed views over a state's `data` (see `dataLength`), with its history ring's two columns. */
export function viewState(
  data: Float64Array,
  histV: Float64Array,
  histT: Float64Array,
): CollapseState {
  const runsMax = data[H_RUNS_MAX]!;
  const at = (k: number) => data.subarray(HEADER + k * runsMax, HEADER + (k + 1) * runsMax);
  const seasons = HEADER + RUN_FIELDS * runsMax;
  const block = (data.length - seasons) / 2;
  const columns = Array.from({ length: RUN_FIELDS }, (_, k) => at(k));
  const [prob, start, weight, level, slope, p00, p01, p11, spread] = columns as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  return {
    data,
    runsMax,
    prob,
    start,
    weight,
    level,
    slope,
    p00,
    p01,
    p11,
    spread,
    histV,
    histT,
    season: data.subarray(seasons, seasons + block),
    spreadSeason: data.subarray(seasons + block, seasons + 2 * block),
    columns,
  };
}

/** A history column of `capacity` slots holding `from` (NaN in the slots past it). */
export function historyColumn(capacity: number, from?: Float64Array): Float64Array {
  const column = new Float64Array(capacity).fill(NaN);
  if (from !== undefined) column.set(from.subarray(0, Math.min(capacity, from.length)));
  return column;
}

/**
 * Makes room in the history ring for `samples` more: slots up to the sample index they reach (all
 * HISTORY_SAMPLES once it wraps), the capacity at least doubling. Called before a step takes its
 * views.
 */
export function ensureHistory(state: CollapseState, samples: number): void {
  const have = state.histV.length;
  const need = Math.min(HISTORY_SAMPLES, state.data[H_INDEX]! + samples);
  if (!(need > have)) return; // a ring that holds them (or an index that is not a count)
  const capacity = Math.min(HISTORY_SAMPLES, Math.max(need, 2 * have));
  state.histV = historyColumn(capacity, state.histV);
  state.histT = historyColumn(capacity, state.histT);
}

/** The season's features under `config`: its level, harmonics and weekend's; 0 without one. */
function seasonFeaturesOf(config: CollapseConfig): number {
  const weekend = config.season_us > 0 ? config.season_weekend : 0;
  return config.season_us > 0 ? 1 + 2 * config.season_harmonics + WEEKEND_FEATURES * weekend : 0;
}

/**
 * Writes the configuration into the header; a new season period or harmonics resets the season,
 * its blocks grown first where they have no room for it.
 */
function writeConfig(state: CollapseState, config: CollapseConfig): void {
  const weekend = config.season_us > 0 ? config.season_weekend : 0;
  const seasonM = seasonFeaturesOf(config);
  const room = seasonRoom(seasonM);
  if (state.season.length < seasonBlockLength(room)) {
    const grown = new Float64Array(dataLength(state.runsMax, room));
    grown.set(state.data.subarray(0, HEADER + RUN_FIELDS * state.runsMax));
    Object.assign(state, viewState(grown, state.histV, state.histT));
  }
  const { data } = state;
  if (data[H_SEASON_US] !== config.season_us || data[H_SEASON_M] !== seasonM) {
    data[H_SEASON_US] = config.season_us;
    data[H_SEASON_M] = seasonM;
    data[H_SEASON_WEEKEND] = weekend;
    const x = data[H_PREV_X]!;
    seasonReset(state.season, x === x ? x : 0);
    seasonReset(state.spreadSeason, 0);
    data[H_SEASON_FROM] = NaN;
    data[H_SEASON_WARMING] = seasonM > 0 ? 1 : 0;
  }
  data[H_HAZARD] = config.hazard;
  data[H_CONFIRM] = config.confirm_threshold;
  data[H_OUTLIER] = config.outlier_prob;
  data[H_GAP_MIN] = config.min_gap_samples;
  data[H_PRUNE] = config.prune_prob;
  data[H_KAPPA0] = config.prior_kappa;
  data[H_ALPHA0] = config.prior_alpha;
  data[H_SCALE_RATE] = 1 - powFast(2, -1 / config.scale_half_life_samples);
  data[H_GAP_FACTOR] = config.gap_factor;
  data[H_G0] = gammaHalfRatio(config.prior_alpha);
  data[H_SLOPE_VAR] = config.slope_prior * config.slope_prior;
  data[H_SLOPE_CARRY] = config.slope_carry;
  data[H_LEVEL_DRIFT] = config.level_drift;
  data[H_CONFIRM_SAMPLES] = config.confirm_samples;
  data[H_SLOPE_DRIFT] = config.slope_drift;
  const hl = config.noise_half_life_samples;
  data[H_NOISE_KEEP] = hl > 0 ? powFast(2, -1 / hl) : 1;
  data[H_AR_MAX] = config.ar_max;
  data[H_SUSPECT] = config.suspect_threshold;
  data[H_RECOVER] = config.recover_samples;
}

/** Creates the state of a channel that has seen nothing. */
export function initState(config: CollapseConfig): CollapseState {
  const data = new Float64Array(dataLength(config.runs_max, seasonRoom(seasonFeaturesOf(config))));
  data[H_FORMAT] = STATE_FORMAT;
  data[H_RUNS_MAX] = config.runs_max;
  data[H_PREV_X] = NaN;
  data[H_PREV_Y] = NaN;
  data[H_LAST_T] = NaN;
  data[H_CHANGE] = -1;
  data[H_REGIME] = -1;
  data[H_SEASON_US] = NaN; // so that writeConfig resets the season
  const state = viewState(data, historyColumn(HISTORY_INITIAL), historyColumn(HISTORY_INITIAL));
  writeConfig(state, config);
  return state;
}

/** Applies a new configuration; a new `runs_max` keeps the most probable hypotheses. */
export function configureState(state: CollapseState, config: CollapseConfig): void {
  writeConfig(state, config);
  if (config.runs_max === state.runsMax) return;
  const old = state;
  const runs = old.data[H_RUNS]!;
  const order = Array.from({ length: runs }, (_, i) => i)
    .sort((a, b) => old.prob[b]! - old.prob[a]! || old.start[a]! - old.start[b]!)
    .slice(0, config.runs_max)
    .sort((a, b) => old.start[a]! - old.start[b]!);
  const data = new Float64Array(dataLength(config.runs_max, seasonRoomOf(old.season)));
  data.set(old.data.subarray(0, HEADER));
  data[H_RUNS_MAX] = config.runs_max;
  data[H_RUNS] = order.length;
  const next = viewState(data, old.histV, old.histT);
  const from = old.columns;
  const to = next.columns;
  order.forEach((i, k) => {
    for (let f = 0; f < RUN_FIELDS; f++) to[f]![k] = from[f]![i]!;
  });
  let sum = 0;
  for (let k = 0; k < order.length; k++) sum += next.prob[k]!;
  for (let k = 0; k < order.length; k++) next.prob[k] = next.prob[k]! / sum;
  next.season.set(old.season);
  next.spreadSeason.set(old.spreadSeason);
  Object.assign(state, next);
}

/** The header slots' names, in slot order (H_FORMAT first); unnamed slots are reserved. */
const HEADER_NAMES: readonly string[] = [
  "format",
  "hazard",
  "confirm_threshold",
  "outlier_prob",
  "gap_min",
  "runs_max",
  "prune_below",
  "kappa0",
  "alpha0",
  "scale_rate",
  "gap_factor",
  "g0",
  "index",
  "runs",
  "level",
  "abs_diff",
  "diffs",
  "prev_x",
  "last_t",
  "interval",
  "intervals",
  "missed",
  "change",
  "segment_n",
  "segment_mean",
  "segment_m2",
  "changes",
  "change_prob",
  "run_length",
  "valid",
  "quantum",
  "regime",
  "trend",
  "slope_var",
  "level_drift",
  "suspect_threshold",
  "recover_samples",
  "phase",
  "confirm_samples",
  "above",
  "slope_drift",
  "prev_y",
  "season_us",
  "season_features",
  "ar_max",
  "residual_var",
  "residual_cov1",
  "residual_last",
  "residuals",
  "season_from_t",
  "season_warming",
  "season_weekend",
  "relevel_at",
  "count_phi",
  "count_samples",
  "slope_carry",
  "noise_keep",
];

/**
 * The state's fields by name, for people (`troupe replay --inspect`): the header, the lifecycle
 * phase, and the kept hypotheses (regime start, probability, line), most probable first.
 */
export function describeCollapse(state: CollapseState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  HEADER_NAMES.forEach((name, i) => (out[name] = state.data[i]));
  out.phase = PHASES[state.data[H_PHASE]!] ?? state.data[H_PHASE];
  const runs = state.data[H_RUNS]!;
  const order = Array.from({ length: runs }, (_, i) => i)
    .sort((a, b) => state.prob[b]! - state.prob[a]!);
  out.hypotheses = order.map((i) => ({
    start: state.start[i],
    prob: state.prob[i],
    weight: state.weight[i],
    level: state.level[i],
    slope: state.slope[i],
  }));
  const m = state.data[H_SEASON_M]!;
  out.season = Array.from(state.season.subarray(0, m)); // level, harmonics
  out.spread_season = Array.from(state.spreadSeason.subarray(0, m)); // log-variance, harmonics
  return out;
}
