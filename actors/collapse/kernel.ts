/**
 * The collapse kernel: Bayesian online change-point detection (Adams & MacKay 2007) over one
 * channel. Each kept run-length hypothesis ("the current regime began at sample s") carries the
 * sufficient statistics of a normal-gamma posterior (unknown mean and variance); a sample is scored
 * by each hypothesis' Student-t predictive, the hypotheses grow, a new one begins with a constant
 * hazard, and the posterior over them is renormalised and pruned. At the hard cap (`runs_max`) two
 * neighbouring hypotheses merge, chosen so that recent starts stay finely resolved and old ones
 * coarsely (see `mergeClosest`): a few hypotheses then do the work of many evicted ones, and a
 * sample costs O(runs_max) whatever the history.
 *
 * Two departures from the textbook model make it usable on live feeds:
 * - Heavy tails. Once a regime has many samples its Student-t predictive is nearly Gaussian, and a
 *   single 8-sigma outlier would be read as a change. Each hypothesis' predictive is therefore a
 *   mixture: with probability `outlier_prob` a sample is drawn from the broad prior predictive. An
 *   outlier then costs a bounded log(1/outlier_prob) instead of an unbounded Gaussian tail, and it
 *   enters the hypothesis' statistics with its posterior inlier weight, so it neither reads as a
 *   change nor inflates the regime's variance.
 * - Scale. Feeds come in any unit. The first sample of a new regime is scored by a prior
 *   predictive centred on the current regime's level and scaled by a running, outlier-clipped
 *   estimate of the noise scale taken from consecutive differences (which a level shift barely
 *   moves), so the same defaults work for CPU percentages and bitcoin prices. The new hypothesis
 *   then centres its prior on that first sample: a large jump is paid for once, and the distance
 *   jumped does not inflate the new regime's variance (which would invite a second, spurious
 *   change a few samples later).
 *
 * A change is confirmed when the posterior mass of regimes that began more than `min_gap_samples`
 * after the last confirmed change reaches `confirm_threshold`; it is placed at the start of the most
 * probable such regime, so it reports where the new regime began, not when it was noticed. Missing
 * samples (non-finite values, or time steps of more than `gap_factor` usual intervals) raise the
 * hazard of the next valid sample as if the missed samples had passed; values beyond VALUE_ABS_MAX
 * count as missing. A constant series has a floored noise scale, so it never divides by zero: a
 * step out of a flat line is a change of very large (capped) severity. Quantised data (counts,
 * prices on a tick grid) repeat values exactly, which a Gaussian would read as regimes of zero
 * variance; every predictive variance is therefore kept above q^2 / 12, the rounding noise of the
 * smallest step q seen between consecutive samples.
 *
 * The whole state is one Float64Array, so `save`/`load` are exact and a step allocates nothing per
 * sample (only its per-frame output columns, and one record per confirmed change).
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import { type CollapseConfig, RUNS_MAX_LIMIT } from "./config.ts";
import { gammaHalfRatio } from "./_gamma_ratio.ts";
import { expFast, log1pFast, log2Fast, powFast } from "../portable_math.ts";

/** Recent samples kept to place a change and measure the regimes around it. */
export const HISTORY_SAMPLES = 512;
/** Values beyond this magnitude are treated as missing: their squares would overflow. */
export const VALUE_ABS_MAX = 1e150;
/** The largest severity reported (a step out of a perfectly flat line would be infinite). */
export const SEVERITY_MAX = 1e6;

/** A change the kernel confirmed. Indices count every sample of the channel, missing ones too. */
export interface CollapseChange {
  /** Index of the first sample of the new regime. */
  changeIndex: number;
  /** Time of that sample, microseconds since the epoch. */
  changeTs: number;
  /** Index of the sample at which the change was confirmed. */
  index: number;
  /** Time of that sample. */
  ts: number;
  /** index - changeIndex. */
  delaySamples: number;
  /** Mean and standard deviation of the valid samples of the previous regime. */
  meanBefore: number;
  spreadBefore: number;
  /** The same over the new regime so far (changeIndex .. index). */
  meanAfter: number;
  spreadAfter: number;
  /** "up" when the new regime's mean is at or above the old one's. */
  direction: "up" | "down";
  /** |mean shift| / old spread + |log2(spread ratio)|, spreads floored, capped at SEVERITY_MAX. */
  severity: number;
  /** Posterior probability of a new regime when it was confirmed. */
  probability: number;
}

/** What one frame produced. */
export interface CollapseResult {
  /** Changes confirmed in this frame, in order. */
  changes: CollapseChange[];
  /** Per sample: posterior probability of a regime newer than the last confirmed change (NaN: missing). */
  changeProb: Float64Array;
  /** Per sample: the most probable run length, in samples (NaN: missing). */
  runLength: Float64Array;
  /** Largest changeProb of the frame's valid samples (0 if none). */
  changeProbMax: number;
  /** changeProb after the frame's last valid sample. */
  changeProbLast: number;
  /** Samples since the last confirmed change (or since the first valid sample). */
  samplesSinceChange: number;
  /** Valid and missing samples in the frame. */
  validSamples: number;
  missingSamples: number;
  /** Run-length hypotheses kept after the frame. */
  runs: number;
}

/** The kernel's state: one Float64Array (header, run-length hypotheses, recent history) and views. */
export interface CollapseState {
  data: Float64Array;
  runsMax: number;
  /** Posterior probability of each kept hypothesis. */
  prob: Float64Array;
  /** Index of the sample at which each hypothesis' regime began. */
  start: Float64Array;
  /**
   * Each hypothesis' normal-gamma posterior without the prior's scale: kappa (prior strength plus
   * the weighted count of its samples), the posterior mean, and beta minus the prior's beta0 (which
   * follows the running noise scale, so it is added when a sample is scored). The shape alpha is
   * alpha0 + (kappa - kappa0) / 2.
   */
  kappa: Float64Array;
  center: Float64Array;
  spread: Float64Array;
  /** Ring of the last HISTORY_SAMPLES values (NaN: missing) and times. */
  histV: Float64Array;
  histT: Float64Array;
}

const STATE_FORMAT = 2;
/** Format 1 kept the weighted count, mean, sum of squares and prior mean of each hypothesis. */
const STATE_FORMAT_V1 = 1;
const RUN_FIELDS_V1 = 6;
// Header layout: configuration, then the running scalars.
const H_FORMAT = 0;
const H_HAZARD = 1;
const H_CONFIRM = 2;
const H_OUTLIER = 3;
const H_GAP_MIN = 4;
const H_RUNS_MAX = 5;
const H_PRUNE = 6;
const H_KAPPA0 = 7;
const H_ALPHA0 = 8;
const H_SCALE_RATE = 9;
const H_GAP_FACTOR = 10;
const H_G0 = 11;
const H_INDEX = 12;
const H_RUNS = 13;
const H_LEVEL = 14;
const H_ABSDIFF = 15;
const H_DIFFS = 16;
const H_PREV_X = 17;
const H_LAST_T = 18;
const H_INTERVAL = 19;
const H_INTERVALS = 20;
const H_MISSED = 21;
const H_CHANGE = 22;
const H_SEG_N = 23;
const H_SEG_MEAN = 24;
const H_SEG_M2 = 25;
const H_CHANGES = 26;
const H_PROB = 27;
const H_RUN_LENGTH = 28;
const H_VALID = 29;
const H_QUANTUM = 30;
/** Hypotheses that began more than min_gap_samples after this sample are a new regime. */
const H_REGIME = 31;
const HEADER = 32;
const RUN_FIELDS = 5;

/** E|x_t - x_{t-1}| = 2 sigma / sqrt(pi) for Gaussian noise. */
const ABS_DIFF_PER_SIGMA = 1.1283791670955126;
const SIGMA_PER_ABS_DIFF = 1 / ABS_DIFF_PER_SIGMA;
/** sqrt(QUANTUM_VARIANCE): the standard deviation of rounding to a grid of step 1. */
const QUANTUM_SIGMA = Math.sqrt(1 / 12);
/** Differences over this many running scales are clipped (jumps must not inflate the scale). */
const ABS_DIFF_CLIP = 6;
/** Differences averaged plainly before the running scale starts clipping. */
const ABS_DIFF_WARMUP = 10;
/** The noise scale is at least this fraction of the level (and never below SCALE_FLOOR_ABS). */
const SCALE_FLOOR_REL = 1e-9;
const SCALE_FLOOR_ABS = 1e-150;
/** Variance of rounding to a grid of step q is q^2 / 12: quantised data is never more precise. */
const QUANTUM_VARIANCE = 1 / 12;
/** Rate of the running sampling interval, and intervals seen before gaps are recognised. */
const INTERVAL_RATE = 1 / 64;
const INTERVALS_WARMUP = 8;
/** Missed samples counted for one time gap at most. */
const MISSED_MAX = 1e9;
/** The prior predictive's log-normaliser is clamped here so ratios stay finite for absurd values. */
const LOG_RATIO_MAX = 600;

function stateLength(runsMax: number, fields = RUN_FIELDS): number {
  return HEADER + fields * runsMax + 2 * HISTORY_SAMPLES;
}

function viewState(data: Float64Array): CollapseState {
  const runsMax = data[H_RUNS_MAX]!;
  const at = (k: number) => data.subarray(HEADER + k * runsMax, HEADER + (k + 1) * runsMax);
  const hist = HEADER + RUN_FIELDS * runsMax;
  return {
    data,
    runsMax,
    prob: at(0),
    start: at(1),
    kappa: at(2),
    center: at(3),
    spread: at(4),
    histV: data.subarray(hist, hist + HISTORY_SAMPLES),
    histT: data.subarray(hist + HISTORY_SAMPLES, hist + 2 * HISTORY_SAMPLES),
  };
}

function writeConfig(data: Float64Array, config: CollapseConfig): void {
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
}

/** Creates the state of a channel that has seen nothing. */
function init(config: CollapseConfig): CollapseState {
  const data = new Float64Array(stateLength(config.runs_max));
  data[H_FORMAT] = STATE_FORMAT;
  data[H_RUNS_MAX] = config.runs_max;
  writeConfig(data, config);
  data[H_PREV_X] = NaN;
  data[H_LAST_T] = NaN;
  data[H_CHANGE] = -1;
  data[H_REGIME] = -1;
  const state = viewState(data);
  state.histV.fill(NaN);
  state.histT.fill(NaN);
  return state;
}

/** Applies a new configuration; a new `runs_max` keeps the most probable hypotheses. */
function configure(state: CollapseState, config: CollapseConfig): void {
  writeConfig(state.data, config);
  if (config.runs_max === state.runsMax) return;
  const old = state;
  const runs = old.data[H_RUNS]!;
  const order = Array.from({ length: runs }, (_, i) => i)
    .sort((a, b) => old.prob[b]! - old.prob[a]! || old.start[a]! - old.start[b]!)
    .slice(0, config.runs_max)
    .sort((a, b) => old.start[a]! - old.start[b]!);
  const data = new Float64Array(stateLength(config.runs_max));
  data.set(old.data.subarray(0, HEADER));
  data[H_RUNS_MAX] = config.runs_max;
  data[H_RUNS] = order.length;
  const next = viewState(data);
  let sum = 0;
  for (const i of order) sum += old.prob[i]!;
  order.forEach((i, k) => {
    next.prob[k] = old.prob[i]! / sum;
    next.start[k] = old.start[i]!;
    next.kappa[k] = old.kappa[i]!;
    next.center[k] = old.center[i]!;
    next.spread[k] = old.spread[i]!;
  });
  next.histV.set(old.histV);
  next.histT.set(old.histT);
  Object.assign(state, next);
}

/** Serialises the state: its Float64Array as little-endian bytes. */
function save(state: CollapseState): Uint8Array {
  const { data } = state;
  const out = new Uint8Array(data.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i]!, true);
  return out;
}

/** Restores a state saved by `save`, checking its format and length. */
function load(bytes: Uint8Array): CollapseState {
  if (bytes.byteLength % 8 !== 0 || bytes.byteLength < HEADER * 8) {
    throw new RangeError(
      `Cannot load a collapse state: expected a multiple of 8 bytes of at least ${
        HEADER * 8
      }, got ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float64Array(bytes.byteLength / 8);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat64(i * 8, true);
  const format = data[H_FORMAT];
  if (format !== STATE_FORMAT && format !== STATE_FORMAT_V1) {
    throw new RangeError(
      `Cannot load a collapse state: format must be ${STATE_FORMAT} (or ${STATE_FORMAT_V1}), got ${format}`,
    );
  }
  const runsMax = data[H_RUNS_MAX]!;
  const fields = format === STATE_FORMAT ? RUN_FIELDS : RUN_FIELDS_V1;
  if (
    !Number.isInteger(runsMax) || runsMax < 2 || runsMax > RUNS_MAX_LIMIT ||
    data.length !== stateLength(runsMax, fields)
  ) {
    throw new RangeError(
      `Cannot load a collapse state: ${data.length} values do not fit runs_max = ${runsMax}`,
    );
  }
  return format === STATE_FORMAT ? viewState(data) : upgradeV1(data, runsMax);
}

/** Converts a format-1 state (count, mean, sum of squares, prior mean) to the posterior form. */
function upgradeV1(old: Float64Array, runsMax: number): CollapseState {
  const data = new Float64Array(stateLength(runsMax));
  data.set(old.subarray(0, HEADER));
  data[H_FORMAT] = STATE_FORMAT;
  data[H_REGIME] = data[H_CHANGE]!;
  const state = viewState(data);
  const kappa0 = data[H_KAPPA0]!;
  const field = (k: number, i: number) => old[HEADER + k * runsMax + i]!;
  for (let i = 0; i < data[H_RUNS]!; i++) {
    const w = field(2, i);
    const m = field(3, i);
    const dm = m - field(5, i);
    const kap = kappa0 + w;
    state.prob[i] = field(0, i);
    state.start[i] = field(1, i);
    state.kappa[i] = kap;
    state.center[i] = m - kappa0 * dm / kap;
    state.spread[i] = 0.5 * field(4, i) + 0.5 * kappa0 * w * dm * dm / kap;
  }
  const hist = HEADER + RUN_FIELDS_V1 * runsMax;
  state.histV.set(old.subarray(hist, hist + HISTORY_SAMPLES));
  state.histT.set(old.subarray(hist + HISTORY_SAMPLES, hist + 2 * HISTORY_SAMPLES));
  return state;
}

/** Mean and standard deviation of a Welford accumulator, merged with ring entries [from, to). */
function segmentMoments(
  state: CollapseState,
  acc: { n: number; mean: number; m2: number },
  from: number,
  to: number,
): { n: number; mean: number; spread: number } {
  let { n, mean, m2 } = acc;
  for (let i = from; i < to; i++) {
    const x = state.histV[i % HISTORY_SAMPLES]!;
    if (x !== x) continue;
    n++;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  return { n, mean: n > 0 ? mean : NaN, spread: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0 };
}

function scaleFloor(level: number): number {
  return Math.max(SCALE_FLOOR_REL * Math.abs(level), SCALE_FLOOR_ABS);
}

/** Builds the record of a change at `c` confirmed at sample `j`, and starts the new segment. */
function confirmChange(
  state: CollapseState,
  c: number,
  j: number,
  probability: number,
): CollapseChange {
  const { data } = state;
  const segStart = data[H_CHANGE]!;
  const ringFrom = Math.max(segStart, j - HISTORY_SAMPLES + 1);
  const before = segmentMoments(
    state,
    { n: data[H_SEG_N]!, mean: data[H_SEG_MEAN]!, m2: data[H_SEG_M2]! },
    ringFrom,
    c,
  );
  const after = segmentMoments(state, { n: 0, mean: 0, m2: 0 }, c, j + 1);
  const floor = scaleFloor(before.mean);
  const sb = Math.max(before.spread, floor);
  const sa = Math.max(after.spread, floor);
  const severity = Math.min(
    Math.abs(after.mean - before.mean) / sb + Math.abs(log2Fast(sa / sb)),
    SEVERITY_MAX,
  );
  data[H_CHANGE] = c;
  data[H_SEG_N] = 0;
  data[H_SEG_MEAN] = 0;
  data[H_SEG_M2] = 0;
  data[H_CHANGES] = data[H_CHANGES]! + 1;
  return {
    changeIndex: c,
    changeTs: state.histT[c % HISTORY_SAMPLES]!,
    index: j,
    ts: state.histT[j % HISTORY_SAMPLES]!,
    delaySamples: j - c,
    meanBefore: before.mean,
    spreadBefore: before.spread,
    meanAfter: after.mean,
    spreadAfter: after.spread,
    direction: after.mean < before.mean ? "down" : "up",
    severity: severity === severity ? severity : 0,
    probability,
  };
}

/**
 * Merges the pair of neighbouring hypotheses (kept in order of start) that are most alike and least
 * missed: the smallest gap between their starts relative to the age of the newer one (their
 * posteriors are then nearly the same), weighted by the square root of the smaller mass. Recent
 * starts thus stay finely resolved, old regimes coarsely, and a probable start outlives an
 * improbable one. The merged hypothesis keeps the sum of the masses and the statistics of the
 * more probable. A pair on both sides of `newer` (the first start that counts as a new regime) is
 * merged only if no other pair can be, so that merging never moves mass into or out of the change
 * probability. Returns the new count.
 */
function mergeClosest(state: CollapseState, runs: number, j: number, newer: number): number {
  const { prob, start, kappa, center, spread } = state;
  // Scores are compared squared, as gap^2 pmin / age^2, by cross-multiplying.
  let at = -1;
  let numAt = 1;
  let ageAt = 0;
  for (let i = 0; i + 1 < runs; i++) {
    const s0 = start[i]!;
    const s1 = start[i + 1]!;
    if (s0 <= newer && s1 > newer) continue;
    const p0 = prob[i]!;
    const p1 = prob[i + 1]!;
    const gap = s1 - s0;
    const num = gap * gap * (p0 < p1 ? p0 : p1);
    const age = j - s1;
    if (num * ageAt * ageAt < numAt * age * age) {
      at = i;
      numAt = num;
      ageAt = age;
    }
  }
  if (at < 0) at = runs - 2;
  const q = at + 1;
  if (prob[q]! > prob[at]!) {
    start[at] = start[q]!;
    kappa[at] = kappa[q]!;
    center[at] = center[q]!;
    spread[at] = spread[q]!;
  }
  prob[at] = prob[at]! + prob[q]!;
  for (let i = q + 1; i < runs; i++) {
    prob[i - 1] = prob[i]!;
    start[i - 1] = start[i]!;
    kappa[i - 1] = kappa[i]!;
    center[i - 1] = center[i]!;
    spread[i - 1] = spread[i]!;
  }
  return runs - 1;
}

/** Folds one frame into the state. */
function step(state: CollapseState, frame: SampleFrame): CollapseResult {
  const { data, prob, start, kappa, center, spread, histV, histT } = state;
  const ts = frame.t;
  const vs = frame.v;
  const n = vs.length;
  const changeProb = new Float64Array(n);
  const runLength = new Float64Array(n);
  const changes: CollapseChange[] = [];

  const hazard = data[H_HAZARD]!;
  const confirm = data[H_CONFIRM]!;
  const eps = data[H_OUTLIER]!;
  const keep = 1 - eps;
  const gapMin = data[H_GAP_MIN]!;
  const runsMax = state.runsMax;
  const prune = data[H_PRUNE]!;
  const kappa0 = data[H_KAPPA0]!;
  const alpha0 = data[H_ALPHA0]!;
  const scaleRate = data[H_SCALE_RATE]!;
  const gapFactor = data[H_GAP_FACTOR]!;
  const g0 = data[H_G0]!;
  const priorSpread = 2 * (kappa0 + 1) / kappa0;
  const priorScale = Math.sqrt(alpha0 * priorSpread);
  const invPriorScale2 = 1 / (priorScale * priorScale);
  const priorNorm = priorScale / g0;
  // alpha = alpha0 + (kappa - kappa0) / 2.
  const alphaOffset = alpha0 - 0.5 * kappa0;
  const kappa1 = kappa0 + 1;

  let index = data[H_INDEX]!;
  let runs = data[H_RUNS]!;
  let level = data[H_LEVEL]!;
  let absDiff = data[H_ABSDIFF]!;
  let quantum = data[H_QUANTUM]!;
  let diffs = data[H_DIFFS]!;
  let prevX = data[H_PREV_X]!;
  let lastT = data[H_LAST_T]!;
  let interval = data[H_INTERVAL]!;
  let intervals = data[H_INTERVALS]!;
  let missed = data[H_MISSED]!;
  let segStart = data[H_CHANGE]!;
  let regime = data[H_REGIME]!;
  let segN = data[H_SEG_N]!;
  let segMean = data[H_SEG_MEAN]!;
  let segM2 = data[H_SEG_M2]!;
  let lastProb = data[H_PROB]!;
  let lastRun = data[H_RUN_LENGTH]!;
  let valid = 0;
  let probMax = 0;

  let nextSlot = index % HISTORY_SAMPLES;
  for (let k = 0; k < n; k++) {
    const j = index++;
    const t = ts[k]!;
    const x = vs[k]!;

    // Time gaps: samples that should have arrived and did not.
    if (lastT === lastT) {
      const dt = t - lastT;
      if (gapFactor > 0 && intervals >= INTERVALS_WARMUP && dt > gapFactor * interval) {
        missed += Math.min(Math.round(dt / interval) - 1, MISSED_MAX);
      } else if (dt >= 0) {
        intervals++;
        interval += (intervals * INTERVAL_RATE >= 1 ? INTERVAL_RATE : 1 / intervals) *
          (dt - interval);
      }
    }
    lastT = t;

    // History ring: the sample leaving it joins the current segment's moments.
    // (The slot is counted, not taken modulo: j is a double and a float modulo is a library call.)
    const slot = nextSlot;
    nextSlot = slot + 1 === HISTORY_SAMPLES ? 0 : slot + 1;
    if (j - HISTORY_SAMPLES >= segStart) {
      const old = histV[slot]!;
      if (old === old) {
        segN++;
        const d = old - segMean;
        segMean += d / segN;
        segM2 += d * (old - segMean);
      }
    }
    const missing = !(Math.abs(x) <= VALUE_ABS_MAX);
    histV[slot] = missing ? NaN : x;
    histT[slot] = t;
    if (missing) {
      missed++;
      changeProb[k] = NaN;
      runLength[k] = NaN;
      continue;
    }
    valid++;

    let h = hazard;
    if (missed > 0) {
      h = 1 - powFast(1 - hazard, missed + 1);
      missed = 0;
    }

    if (runs === 0) {
      // The first valid sample opens the first regime.
      prob[0] = 1;
      start[0] = j;
      kappa[0] = kappa1;
      center[0] = x;
      spread[0] = 0;
      runs = 1;
      level = x;
      prevX = x;
      segStart = j;
      regime = j;
      missed = 0;
      lastProb = 0;
      lastRun = 0;
      changeProb[k] = 0;
      runLength[k] = 0;
      continue;
    }

    // The prior of a regime beginning now, and 1 / its predictive density at x (in a form that
    // stays finite: every hypothesis' density is taken relative to it).
    const varFloor = quantum * quantum * QUANTUM_VARIANCE;
    // sigma = max(noise scale, floor, sqrt(varFloor)), without a division or a square root.
    let sigma = absDiff * SIGMA_PER_ABS_DIFF;
    const floor = scaleFloor(level);
    if (!(sigma >= floor)) sigma = floor;
    const qs = quantum * QUANTUM_SIGMA;
    if (qs > sigma) sigma = qs;
    const beta0 = alpha0 * sigma * sigma;
    // The prior predictive's scale is sigma * priorScale.
    const u = (x - level) / sigma;
    const logQ0 = (alpha0 + 0.5) * log1pFast(u * u * invPriorScale2);
    const invPrior = sigma * priorNorm * expFast(logQ0 < LOG_RATIO_MAX ? logQ0 : LOG_RATIO_MAX);

    // Growth: every hypothesis scores x with its robust predictive and absorbs x with its
    // posterior inlier weight.
    let total = 0;
    let sumP = 0;
    const grow = 1 - h;
    for (let i = 0; i < runs; i++) {
      const kap = kappa[i]!;
      const mu = center[i]!;
      const a = alphaOffset + 0.5 * kap;
      // The Student-t predictive has nu = 2a and s^2 = b (kap + 1) / (a kap); iden = 1 / (nu s^2).
      // Its variance is kept above the data's quantisation noise.
      const s2 = spread[i]!;
      const b0 = beta0 + s2;
      const bMin = a * varFloor;
      // One division gives both iden and 1 / a', where a' >= GAMMA_SERIES_MIN is the argument
      // of the gamma-ratio series (a itself, or a + 4 after four steps of its recurrence).
      const small = a < 6;
      const as = small ? a + 4 : a;
      const bk = 2 * (kap + 1) * (b0 > bMin ? b0 : bMin);
      const q = 1 / (bk * as);
      const iden = kap * as * q;
      const ia = bk * q;
      const series = 1 +
        ia *
          (-1 / 8 + ia * (1 / 128 + ia * (5 / 1024 + ia * (-21 / 32768 + ia * (-399 / 262144)))));
      const d = x - mu;
      const dd = d * d;
      let norm = Math.sqrt(as * iden) * series;
      if (small) {
        // Four steps of the recurrence G(a) = G(a + 1) a / (a + 1/2) (see _gamma_ratio.ts).
        norm *= a * (a + 1) * (a + 2) * (a + 3) / ((a + 0.5) * (a + 1.5) * (a + 2.5) * (a + 3.5));
      }
      const ratio = invPrior * norm * expFast(-(a + 0.5) * log1pFast(dd * iden));
      const good = keep * ratio;
      const g = good + eps;
      const p = prob[i]!;
      sumP += p;
      const np = p * g * grow;
      prob[i] = np;
      total += np;
      // x joins the run with its posterior inlier weight good / g (1 when outliers are off).
      const wi = g > 0 ? good / g : 1;
      const kap1 = kap + wi;
      const r = wi / kap1;
      center[i] = mu + r * d;
      spread[i] = s2 + 0.5 * kap * r * dd;
      kappa[i] = kap1;
    }

    // At the cap, two neighbouring hypotheses merge to make room: those whose starts are closest
    // relative to their age, so recent starts stay finely resolved and old regimes coarsely.
    if (runs === runsMax) runs = mergeClosest(state, runs, j, regime + gapMin);
    // A regime beginning at x: its predictive is the prior's, so its ratio is 1.
    const pNew = h * sumP;
    prob[runs] = pNew;
    start[runs] = j;
    kappa[runs] = kappa1;
    center[runs] = x;
    spread[runs] = 0;
    total += pNew;
    runs++;

    // Normalise, prune, and read the posterior: the most probable run, and the mass of regimes
    // newer than the last confirmed change.
    const inv = 1 / total;
    const newer = regime + gapMin;
    let kept = 0;
    let best = 0;
    let bestP = -1;
    let mass = 0;
    let cand = -1;
    let candP = -1;
    for (let i = 0; i < runs; i++) {
      const p = prob[i]! * inv;
      if (p < prune) continue;
      if (kept !== i) {
        start[kept] = start[i]!;
        kappa[kept] = kappa[i]!;
        center[kept] = center[i]!;
        spread[kept] = spread[i]!;
      }
      prob[kept] = p;
      if (p > bestP) {
        bestP = p;
        best = kept;
      }
      if (start[kept]! > newer) {
        mass += p;
        if (p > candP) {
          candP = p;
          cand = kept;
        }
      }
      kept++;
    }
    runs = kept;
    level = center[best]!;
    lastRun = j - start[best]!;
    lastProb = mass;
    changeProb[k] = mass;
    runLength[k] = lastRun;
    if (mass > probMax) probMax = mass;

    // The running noise scale, from past differences only (it set this sample's prior).
    let ad = Math.abs(x - prevX);
    if (ad > 0 && (ad < quantum || quantum === 0)) quantum = ad;
    prevX = x;
    diffs++;
    if (diffs > ABS_DIFF_WARMUP && absDiff > 0 && ad > ABS_DIFF_CLIP * absDiff) {
      ad = ABS_DIFF_CLIP * absDiff;
    }
    absDiff += (diffs * scaleRate >= 1 ? scaleRate : Math.max(scaleRate, 1 / diffs)) *
      (ad - absDiff);

    if (mass >= confirm && cand >= 0) {
      const c = Math.max(start[cand]!, j - HISTORY_SAMPLES + 1, segStart + 1);
      data[H_CHANGE] = segStart;
      data[H_SEG_N] = segN;
      data[H_SEG_MEAN] = segMean;
      data[H_SEG_M2] = segM2;
      changes.push(confirmChange(state, c, j, mass));
      segStart = c;
      regime = c;
      segN = 0;
      segMean = 0;
      segM2 = 0;
    }
  }

  data[H_INDEX] = index;
  data[H_RUNS] = runs;
  data[H_LEVEL] = level;
  data[H_ABSDIFF] = absDiff;
  data[H_QUANTUM] = quantum;
  data[H_DIFFS] = diffs;
  data[H_PREV_X] = prevX;
  data[H_LAST_T] = lastT;
  data[H_INTERVAL] = interval;
  data[H_INTERVALS] = intervals;
  data[H_MISSED] = missed;
  data[H_CHANGE] = segStart;
  data[H_REGIME] = regime;
  data[H_SEG_N] = segN;
  data[H_SEG_MEAN] = segMean;
  data[H_SEG_M2] = segM2;
  data[H_PROB] = lastProb;
  data[H_RUN_LENGTH] = lastRun;
  data[H_VALID] = data[H_VALID]! + valid;

  return {
    changes,
    changeProb,
    runLength,
    changeProbMax: probMax,
    changeProbLast: lastProb,
    samplesSinceChange: segStart < 0 ? 0 : index - 1 - segStart,
    validSamples: valid,
    missingSamples: n - valid,
    runs,
  };
}

/** The collapse kernel. */
export const collapseKernel: Kernel<CollapseState, CollapseConfig, CollapseResult> = {
  init,
  step,
  configure,
  save,
  load,
};

/** Read-only figures of a state, for tests and diagnostics. */
export function collapseStats(state: CollapseState): {
  samples: number;
  validSamples: number;
  runs: number;
  level: number;
  noiseScale: number;
  lastChangeIndex: number;
  changes: number;
} {
  const { data } = state;
  return {
    samples: data[H_INDEX]!,
    validSamples: data[H_VALID]!,
    runs: data[H_RUNS]!,
    level: data[H_LEVEL]!,
    noiseScale: data[H_ABSDIFF]! / ABS_DIFF_PER_SIGMA,
    lastChangeIndex: data[H_CHANGE]!,
    changes: data[H_CHANGES]!,
  };
}
