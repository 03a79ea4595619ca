/**
 * The collapse kernel: Bayesian online change-point detection (Adams & MacKay 2007) over one
 * channel, with a regime that can hold a slope. Each kept run-length hypothesis ("the current
 * regime began at sample s") carries the normal-inverse-gamma posterior of a line through its
 * samples: level and slope (with their covariance, in units of the regime's unknown noise
 * variance) and that variance. This is Bayesian linear regression in time since the regime began,
 * updated recursively as a Kalman filter whose covariances all scale with the noise variance, so
 * it stays conjugate and exact; `level_drift` optionally lets the level wander as a random walk
 * (a local linear trend). A sample is scored by each hypothesis' Student-t predictive, the
 * hypotheses grow, a new one begins with a constant hazard, and the posterior over them is
 * renormalised and pruned. At the hard cap (`runs_max`) two neighbouring hypotheses merge (see
 * _merge.ts), so a sample costs O(runs_max) whatever the history.
 *
 * A trend is then one regime, not a staircase of level shifts: a change is a change of the line
 * (a jump, a new slope) or of the noise around it. Two departures from the textbook model make it
 * usable on live feeds:
 * - Heavy tails. Each hypothesis' predictive is a mixture: with probability `outlier_prob` a sample
 *   is drawn from the broad prior predictive. An outlier then costs a bounded log(1/outlier_prob)
 *   instead of an unbounded Gaussian tail, and it enters the posterior with its inlier weight, so
 *   it neither reads as a change nor bends the regime's line.
 * - Scale. Feeds come in any unit. The first sample of a new regime is scored by a prior
 *   predictive centred on where the current regime's line goes, scaled by a running,
 *   outlier-clipped noise scale from consecutive differences, so the same defaults work for CPU
 *   percentages and bitcoin prices. The new hypothesis then centres its prior on that first sample.
 *
 * A change is confirmed when the posterior mass of regimes that began more than `min_gap_samples`
 * after the last confirmed change reaches `confirm_threshold`; it is placed at the start of the most
 * probable such regime, so it reports where the new regime began, not when it was noticed. Missing
 * samples (non-finite values, or time steps of more than `gap_factor` usual intervals) raise the
 * hazard of the next valid sample as if the missed samples had passed, and every line is carried
 * across them. Values beyond VALUE_ABS_MAX count as missing. Quantised data keeps every predictive
 * variance above q^2 / 12, the rounding noise of the smallest step q seen.
 *
 * The lifecycle phase (stable, suspect, collapsed, recovering) is decided per sample here, so the
 * machine's state after a frame is the same however the samples were framed.
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import type { CollapseConfig } from "./config.ts";
import { type CollapseChange, confirmChange, scaleFloor } from "./_change.ts";
import { mergeClosest } from "./_merge.ts";
import {
  type CollapsePhase,
  type CollapseState,
  configureState,
  H_ABOVE,
  H_ABSDIFF,
  H_ALPHA0,
  H_AR_C0,
  H_AR_C1,
  H_AR_E,
  H_AR_MAX,
  H_AR_N,
  H_CHANGE,
  H_CHANGES,
  H_CONFIRM,
  H_CONFIRM_SAMPLES,
  H_DIFFS,
  H_G0,
  H_GAP_FACTOR,
  H_GAP_MIN,
  H_HAZARD,
  H_INDEX,
  H_INTERVAL,
  H_INTERVALS,
  H_KAPPA0,
  H_LAST_T,
  H_LEVEL,
  H_LEVEL_DRIFT,
  H_MISSED,
  H_OUTLIER,
  H_PHASE,
  H_PREV_X,
  H_PREV_Y,
  H_PROB,
  H_PRUNE,
  H_QUANTUM,
  H_RECOVER,
  H_REGIME,
  H_RUN_LENGTH,
  H_RUNS,
  H_SCALE_RATE,
  H_SEASON_M,
  H_SEASON_US,
  H_SEG_M2,
  H_SEG_MEAN,
  H_SEG_N,
  H_SLOPE,
  H_SLOPE_DRIFT,
  H_SLOPE_VAR,
  H_SUSPECT,
  H_VALID,
  HISTORY_SAMPLES,
  initState,
  loadState,
  PHASES,
  saveState,
} from "./_state.ts";
import { expFast, log1pFast, logFast, powFast } from "../portable_math.ts";
import {
  SEASON_COEFFS,
  SEASON_HALF_LIFE_PERIODS,
  seasonFeatures,
  seasonLearn,
  seasonRelevel,
  seasonValue,
} from "./_season.ts";

export { type CollapseChange, SEVERITY_MAX } from "./_change.ts";
export {
  type CollapsePhase,
  type CollapseState,
  describeCollapse,
  HISTORY_SAMPLES,
  PHASES,
} from "./_state.ts";

/** Values beyond this magnitude are treated as missing: their squares would overflow. */
export const VALUE_ABS_MAX = 1e150;

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
  /** The lifecycle phase after the frame's last valid sample. */
  phase: CollapsePhase;
  /** Valid and missing samples in the frame. */
  validSamples: number;
  missingSamples: number;
  /** Run-length hypotheses kept after the frame. */
  runs: number;
}

/** E|x_t - x_{t-1}| = 2 sigma / sqrt(pi) for Gaussian noise. */
const ABS_DIFF_PER_SIGMA = 1.1283791670955126;
const SIGMA_PER_ABS_DIFF = 1 / ABS_DIFF_PER_SIGMA;
/** sqrt(QUANTUM_VARIANCE): the standard deviation of rounding to a grid of step 1. */
const QUANTUM_SIGMA = Math.sqrt(1 / 12);
/** Differences over this many running scales are clipped (jumps must not inflate the scale). */
const ABS_DIFF_CLIP = 6;
/** Differences averaged plainly before the running scale starts clipping. */
const ABS_DIFF_WARMUP = 10;
/** Variance of rounding to a grid of step q is q^2 / 12: quantised data is never more precise. */
const QUANTUM_VARIANCE = 1 / 12;
/** Rate of the running sampling interval, and intervals seen before gaps are recognised. */
const INTERVAL_RATE = 1 / 64;
const INTERVALS_WARMUP = 8;
/** Missed samples counted for one time gap at most. */
const MISSED_MAX = 1e9;
/** The prior predictive's log-normaliser is clamped here so ratios stay finite for absurd values. */
const LOG_RATIO_MAX = 600;
/** A sample whose inlier weight is below this leaves a hypothesis' line as it was. */
const WEIGHT_MIN = 1e-12;
/** The residuals' moments: their rate (half-life ~1000 samples) and the largest weight it gives. */
const AR_RATE = 1 / 1443;
const AR_WEIGHT_MAX = 1443;
/** Independent residuals the autocorrelation's estimate is shrunk towards 0 by. */
const AR_PRIOR_SAMPLES = 100;
/** Residuals are clipped at this many noise scales before they enter the autocorrelation. */
const AR_CLIP = 3;
const STABLE = 0, SUSPECT = 1, COLLAPSED = 2, RECOVERING = 3;

/** What every hypothesis' growth at one sample shares. */
interface Growth {
  /** Samples the lines advance (1, more after missed samples). */
  steps: number;
  x: number;
  /** 1 / the prior predictive's density at x: every density is taken relative to it. */
  invPrior: number;
  /** Prior beta of the noise variance, and the variance floor of quantised data. */
  beta0: number;
  varFloor: number;
  /** Growth factor of every hypothesis' mass: 1 - hazard. */
  grow: number;
  /** Variance of the level's step per sample, in noise variances. */
  drift: number;
  /** Variance of the slope's step per sample, in noise variances. */
  slopeDrift: number;
  /**
   * The observation x (prewhitened: y - rho y_prev, rho the residuals' autocorrelation over the
   * steps) is ha level + hb slope + noise, ha = 1 - rho and hb = rho steps.
   */
  ha: number;
  hb: number;
  /** The noise variance of this sample relative to the regime's (its season; 1 without one). */
  g: number;
}

/** The constants of a frame, read once from the header. */
interface FrameConstants {
  keep: number;
  eps: number;
  alpha0: number;
}

/** The noise's seasonal variance factor is kept within exp(+-LOG_G_MAX). */
const LOG_G_MAX = 4.6;
/** Standard deviation of the log of a chi-square variable of one degree of freedom (pi^2 / 2). */
const LOG_CHI2_SD = Math.PI / Math.SQRT2;
/** The season's harmonics at the current sample. */
const FEATURES = new Float64Array(SEASON_COEFFS);

/** Sum of the grown masses and of the masses before growth (a typed array: no boxed doubles). */
const SUMS = new Float64Array(2);

/**
 * Growth: every hypothesis carries its line `steps` samples ahead, scores x with its robust
 * Student-t predictive (relative to the prior's), and absorbs x with its posterior inlier weight.
 * This is the hot loop (runs_max times per sample): one division, one square root, one exp and
 * one log1p per hypothesis.
 */
function growRuns(state: CollapseState, runs: number, growth: Growth, c: FrameConstants): void {
  const { prob, weight, level, slope, p00, p01, p11, spread } = state;
  const { steps, x, invPrior, beta0, varFloor, grow, drift, slopeDrift, ha, hb, g } = growth;
  const { keep, eps, alpha0 } = c;
  let total = 0;
  let sumP = 0;
  for (let i = 0; i < runs; i++) {
    const s = slope[i]!;
    const lv = level[i]! + steps * s;
    const q11 = p11[i]!;
    const c01 = p01[i]! + steps * q11;
    const c00 = p00[i]! + steps * (p01[i]! + c01) + steps * drift;
    const c11 = q11 + steps * slopeDrift;
    const a = alpha0 + 0.5 * weight[i]!;
    const s2 = spread[i]!;
    const b0 = beta0 + s2;
    const bMin = a * varFloor;
    // The Student-t predictive has nu = 2a and s^2 = b (1 + c00) / a; iden = 1 / (nu s^2). One
    // division gives both iden and 1 / a', where a' >= GAMMA_SERIES_MIN is the argument of the
    // gamma-ratio series (a itself, or a + 4 after four steps of its recurrence).
    const small = a < 6;
    const as = small ? a + 4 : a;
    // The sample observes ha level + hb slope (prewhitened; ha 1 and hb 0 without autocorrelation):
    // m = P h, hph = h' P h.
    const m0 = ha * c00 + hb * c01;
    const m1 = ha * c01 + hb * c11;
    const hph = ha * m0 + hb * m1;
    const bk = 2 * (g + hph) * (b0 > bMin ? b0 : bMin);
    const q = 1 / (bk * as);
    const iden = as * q;
    const ia = bk * q;
    const series = 1 +
      ia *
        (-1 / 8 + ia * (1 / 128 + ia * (5 / 1024 + ia * (-21 / 32768 + ia * (-399 / 262144)))));
    const d = x - (ha * lv + hb * s);
    const dd = d * d;
    let norm = Math.sqrt(as * iden) * series;
    if (small) {
      // Four steps of the recurrence G(a) = G(a + 1) a / (a + 1/2) (see _gamma_ratio.ts).
      norm *= a * (a + 1) * (a + 2) * (a + 3) / ((a + 0.5) * (a + 1.5) * (a + 2.5) * (a + 3.5));
    }
    const ratio = invPrior * norm * expFast(-(a + 0.5) * log1pFast(dd * iden));
    const good = keep * ratio;
    const gm = good + eps;
    const p = prob[i]!;
    sumP += p;
    const np = p * gm * grow;
    prob[i] = np;
    total += np;
    // x enters with inlier weight wi = good / gm: as one observation of variance sigma^2 / wi, a
    // Kalman update of the line whose gain is P h / (h' P h + 1 / wi).
    if (good > WEIGHT_MIN * gm) {
      // One division: kg = 1 / (hph + g / wi) and wi itself.
      const den = hph * good + g * gm;
      const r = 1 / (gm * den);
      const kg = good * gm * r;
      const g0 = m0 * kg;
      const g1 = m1 * kg;
      level[i] = lv + g0 * d;
      slope[i] = s + g1 * d;
      p00[i] = c00 - g0 * m0;
      p01[i] = c01 - g0 * m1;
      p11[i] = c11 - g1 * m1;
      spread[i] = s2 + 0.5 * dd * kg;
      weight[i] = weight[i]! + good * den * r;
    } else {
      level[i] = lv;
      p00[i] = c00;
      p01[i] = c01;
    }
  }
  SUMS[0] = total;
  SUMS[1] = sumP;
}

/** The next lifecycle phase after a valid sample (the machine's states, decided per sample). */
function nextPhase(
  phase: number,
  confirmed: boolean,
  mass: number,
  sinceChange: number,
  data: Float64Array,
): number {
  if (confirmed) return COLLAPSED;
  const suspect = data[H_SUSPECT]!;
  switch (phase) {
    case STABLE:
      return mass >= suspect ? SUSPECT : STABLE;
    case SUSPECT:
      return mass < suspect ? STABLE : SUSPECT;
    case COLLAPSED:
      return RECOVERING;
    default:
      return sinceChange >= data[H_RECOVER]! && mass < suspect ? STABLE : RECOVERING;
  }
}

/** Running scalars of a frame, loaded from the header and stored back. */
interface Running {
  index: number;
  runs: number;
  level: number;
  trend: number;
  absDiff: number;
  quantum: number;
  diffs: number;
  prevX: number;
  prevY: number;
  lastT: number;
  interval: number;
  intervals: number;
  missed: number;
  segStart: number;
  regime: number;
  segN: number;
  segMean: number;
  segM2: number;
  lastProb: number;
  lastRun: number;
  phase: number;
  above: number;
}

function loadRunning(data: Float64Array): Running {
  return {
    index: data[H_INDEX]!,
    runs: data[H_RUNS]!,
    level: data[H_LEVEL]!,
    trend: data[H_SLOPE]!,
    absDiff: data[H_ABSDIFF]!,
    quantum: data[H_QUANTUM]!,
    diffs: data[H_DIFFS]!,
    prevX: data[H_PREV_X]!,
    prevY: data[H_PREV_Y]!,
    lastT: data[H_LAST_T]!,
    interval: data[H_INTERVAL]!,
    intervals: data[H_INTERVALS]!,
    missed: data[H_MISSED]!,
    segStart: data[H_CHANGE]!,
    regime: data[H_REGIME]!,
    segN: data[H_SEG_N]!,
    segMean: data[H_SEG_MEAN]!,
    segM2: data[H_SEG_M2]!,
    lastProb: data[H_PROB]!,
    lastRun: data[H_RUN_LENGTH]!,
    phase: data[H_PHASE]!,
    above: data[H_ABOVE]!,
  };
}

function storeRunning(data: Float64Array, r: Running): void {
  data[H_INDEX] = r.index;
  data[H_RUNS] = r.runs;
  data[H_LEVEL] = r.level;
  data[H_SLOPE] = r.trend;
  data[H_ABSDIFF] = r.absDiff;
  data[H_QUANTUM] = r.quantum;
  data[H_DIFFS] = r.diffs;
  data[H_PREV_X] = r.prevX;
  data[H_PREV_Y] = r.prevY;
  data[H_LAST_T] = r.lastT;
  data[H_INTERVAL] = r.interval;
  data[H_INTERVALS] = r.intervals;
  data[H_MISSED] = r.missed;
  data[H_CHANGE] = r.segStart;
  data[H_REGIME] = r.regime;
  data[H_SEG_N] = r.segN;
  data[H_SEG_MEAN] = r.segMean;
  data[H_SEG_M2] = r.segM2;
  data[H_PROB] = r.lastProb;
  data[H_RUN_LENGTH] = r.lastRun;
  data[H_PHASE] = r.phase;
  data[H_ABOVE] = r.above;
}

/** Counts samples missed in a gap of time before `t`, and keeps the usual interval. */
function trackTime(r: Running, t: number, gapFactor: number): void {
  if (r.lastT === r.lastT) {
    const dt = t - r.lastT;
    if (gapFactor > 0 && r.intervals >= INTERVALS_WARMUP && dt > gapFactor * r.interval) {
      r.missed += Math.min(Math.round(dt / r.interval) - 1, MISSED_MAX);
    } else if (dt >= 0) {
      r.intervals++;
      r.interval += (r.intervals * INTERVAL_RATE >= 1 ? INTERVAL_RATE : 1 / r.intervals) *
        (dt - r.interval);
    }
  }
  r.lastT = t;
}

/**
 * The running noise scale, from the differences of the deseasonalised values y, and the quantum,
 * from those of the raw values x: past differences only (x set no prior of its own).
 */
function trackScale(r: Running, x: number, y: number, scaleRate: number): void {
  const aq = Math.abs(x - r.prevX);
  if (aq > 0 && (aq < r.quantum || r.quantum === 0)) r.quantum = aq;
  r.prevX = x;
  let ad = Math.abs(y - r.prevY);
  r.prevY = y;
  r.diffs++;
  if (r.diffs > ABS_DIFF_WARMUP && r.absDiff > 0 && ad > ABS_DIFF_CLIP * r.absDiff) {
    ad = ABS_DIFF_CLIP * r.absDiff;
  }
  r.absDiff += (r.diffs * scaleRate >= 1 ? scaleRate : Math.max(scaleRate, 1 / r.diffs)) *
    (ad - r.absDiff);
}

/**
 * The residuals' lag-1 autocorrelation so far, within [0, cap], shrunk towards 0 by a prior of
 * AR_PRIOR_SAMPLES independent residuals: a change not yet confirmed also makes residuals
 * correlated, and short series cannot tell the two apart.
 */
function autocorrelation(data: Float64Array, cap: number): number {
  const c0 = data[H_AR_C0]!;
  const c1 = data[H_AR_C1]!;
  if (!(c0 > 0 && c1 > 0)) return 0;
  const n = data[H_AR_N]!;
  const w = n < AR_WEIGHT_MAX ? n : AR_WEIGHT_MAX;
  const phi = c1 / c0 * (w / (w + AR_PRIOR_SAMPLES));
  return phi < cap ? phi : cap;
}

/**
 * The running moments of the most probable regime's one-step residuals (clipped, so a jump or an
 * outlier adds a bounded amount): variance and lag-1 covariance, rate as the noise scale's.
 */
function trackResiduals(data: Float64Array, e: number, sigma: number): void {
  const lim = AR_CLIP * sigma;
  if (e > lim) e = lim;
  else if (e < -lim) e = -lim;
  const n = data[H_AR_N]! + 1;
  data[H_AR_N] = n;
  const rate = n * AR_RATE >= 1 ? AR_RATE : 1 / n;
  data[H_AR_C0] = data[H_AR_C0]! + rate * (e * e - data[H_AR_C0]!);
  if (n > 1) data[H_AR_C1] = data[H_AR_C1]! + rate * (e * data[H_AR_E]! - data[H_AR_C1]!);
  data[H_AR_E] = e;
}

/** Opens the first regime at the channel's first valid sample j (x: deseasonalised). */
function openFirst(state: CollapseState, r: Running, x: number, j: number): void {
  const kappa0 = state.data[H_KAPPA0]!;
  state.prob[0] = 1;
  state.start[0] = j;
  openRun(state, 0, x, kappa0);
  r.runs = 1;
  r.level = x;
  r.trend = 0;
  r.prevY = x;
  r.segStart = j;
  r.regime = j;
  r.missed = 0;
  r.lastProb = 0;
  r.lastRun = 0;
}

/** A regime that began at x: its prior, centred on x and updated by it, and flat. */
function openRun(state: CollapseState, i: number, x: number, kappa0: number): void {
  state.weight[i] = 1;
  state.level[i] = x;
  state.slope[i] = 0;
  state.p00[i] = 1 / (kappa0 + 1);
  state.p01[i] = 0;
  state.p11[i] = state.data[H_SLOPE_VAR]!;
  state.spread[i] = 0;
}

/**
 * Normalises the grown hypotheses, drops those under `prune_prob`, and reads the posterior: the
 * most probable run (its line becomes the running level and trend), and the mass and most probable
 * start of the regimes newer than `newer`. Returns that mass; the candidate's slot is in PICK[0].
 */
const PICK = new Int32Array(1);
function normalise(state: CollapseState, r: Running, total: number, newer: number): number {
  const { prob, start, columns } = state;
  const prune = state.data[H_PRUNE]!;
  const inv = 1 / total;
  const runs = r.runs;
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
      for (let f = 1; f < columns.length; f++) columns[f]![kept] = columns[f]![i]!;
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
  r.runs = kept;
  r.level = state.level[best]!;
  r.trend = state.slope[best]!;
  r.lastRun = r.index - 1 - start[best]!;
  PICK[0] = cand;
  return mass;
}

/** Folds one frame into the state. */
function step(state: CollapseState, frame: SampleFrame): CollapseResult {
  const { data, prob, start, histV, histT } = state;
  const ts = frame.t;
  const vs = frame.v;
  const n = vs.length;
  const changeProb = new Float64Array(n);
  const runLength = new Float64Array(n);
  const changes: CollapseChange[] = [];

  const hazard = data[H_HAZARD]!;
  const confirm = data[H_CONFIRM]!;
  const confirmSamples = data[H_CONFIRM_SAMPLES]!;
  const eps = data[H_OUTLIER]!;
  const gapMin = data[H_GAP_MIN]!;
  const runsMax = state.runsMax;
  const kappa0 = data[H_KAPPA0]!;
  const alpha0 = data[H_ALPHA0]!;
  const scaleRate = data[H_SCALE_RATE]!;
  const gapFactor = data[H_GAP_FACTOR]!;
  const priorSpread = 2 * (kappa0 + 1) / kappa0;
  const priorScale = Math.sqrt(alpha0 * priorSpread);
  const invPriorScale2 = 1 / (priorScale * priorScale);
  const priorNorm = priorScale / data[H_G0]!;
  const consts: FrameConstants = { keep: 1 - eps, eps, alpha0 };
  const growth: Growth = {
    steps: 1,
    x: 0,
    invPrior: 1,
    beta0: 0,
    varFloor: 0,
    grow: 1,
    drift: 0,
    slopeDrift: data[H_SLOPE_DRIFT]!,
    ha: 1,
    hb: 0,
    g: 1,
  };
  const levelDrift = data[H_LEVEL_DRIFT]!;
  const seasonUs = data[H_SEASON_US]!;
  const seasonM = data[H_SEASON_M]!;
  const season = state.season;
  const spreadSeason = state.spreadSeason;
  const arMax = data[H_AR_MAX]!;

  const r = loadRunning(data);
  let valid = 0;
  let probMax = 0;
  let nextSlot = r.index % HISTORY_SAMPLES;
  for (let k = 0; k < n; k++) {
    const j = r.index++;
    const x = vs[k]!;
    trackTime(r, ts[k]!, gapFactor);

    // History ring: the sample leaving it joins the current segment's moments.
    // (The slot is counted, not taken modulo: j is a double and a float modulo is a library call.)
    const slot = nextSlot;
    nextSlot = slot + 1 === HISTORY_SAMPLES ? 0 : slot + 1;
    if (j - HISTORY_SAMPLES >= r.segStart) {
      const old = histV[slot]!;
      if (old === old) {
        r.segN++;
        const d = old - r.segMean;
        r.segMean += d / r.segN;
        r.segM2 += d * (old - r.segMean);
      }
    }
    const missing = !(Math.abs(x) <= VALUE_ABS_MAX);
    histV[slot] = missing ? NaN : x;
    histT[slot] = ts[k]!;
    if (missing) {
      r.missed++;
      changeProb[k] = NaN;
      runLength[k] = NaN;
      continue;
    }
    valid++;
    // y: x less the channel's season, and g: its noise variance relative to the regime's (both
    // as learned from the samples before this one).
    let y = x;
    let g = 1;
    if (seasonM > 0) {
      seasonFeatures(ts[k]!, seasonUs, (seasonM - 1) / 2, FEATURES);
      y = x - seasonValue(season, FEATURES, seasonM);
      let lg = seasonValue(spreadSeason, FEATURES, seasonM);
      lg = lg > LOG_G_MAX ? LOG_G_MAX : lg < -LOG_G_MAX ? -LOG_G_MAX : lg;
      g = expFast(lg);
    }
    if (r.runs === 0) {
      openFirst(state, r, y, j);
      r.prevX = x;
      if (seasonM > 0) season[0] = x;
      changeProb[k] = 0;
      runLength[k] = 0;
      continue;
    }
    const steps = 1 + r.missed;
    const h = r.missed > 0 ? 1 - powFast(1 - hazard, steps) : hazard;
    r.missed = 0;

    // The prior of a regime beginning now, centred where the current regime's line goes, and
    // 1 / its predictive density at x (every hypothesis' density is taken relative to it).
    const varFloor = r.quantum * r.quantum * QUANTUM_VARIANCE;
    let sigma = r.absDiff * SIGMA_PER_ABS_DIFF;
    const floor = scaleFloor(r.level);
    if (!(sigma >= floor)) sigma = floor;
    const qs = r.quantum * QUANTUM_SIGMA;
    if (qs > sigma) sigma = qs;
    // With autocorrelation phi, the noise scale from differences is sigma sqrt(1 - phi) for a
    // residual sd sigma, and the innovations' sd is sigma sqrt(1 - phi^2): sigma sqrt(1 + phi).
    let rho = 0;
    if (arMax > 0) {
      const phi = autocorrelation(data, arMax);
      rho = steps === 1 ? phi : powFast(phi, steps);
      sigma *= Math.sqrt(1 + phi);
    }
    // A new regime's prior predictive has this sample's noise scale.
    const sigmaT = g === 1 ? sigma : sigma * Math.sqrt(g);
    const u = (y - r.level - steps * r.trend) / sigmaT;
    const logQ0 = (alpha0 + 0.5) * log1pFast(u * u * invPriorScale2);
    growth.steps = steps;
    growth.x = y - rho * r.prevY;
    growth.g = g;
    growth.ha = 1 - rho;
    growth.hb = rho * steps;
    const residual = y - r.level - steps * r.trend;
    growth.invPrior = sigmaT * priorNorm * expFast(logQ0 < LOG_RATIO_MAX ? logQ0 : LOG_RATIO_MAX);
    growth.beta0 = alpha0 * sigma * sigma;
    growth.varFloor = varFloor;
    growth.grow = 1 - h;
    growth.drift = levelDrift;
    growRuns(state, r.runs, growth, consts);
    let total = SUMS[0]!;

    // At the cap, two neighbouring hypotheses merge to make room.
    if (r.runs === runsMax) r.runs = mergeClosest(state, r.runs, j, r.regime + gapMin);
    // A regime beginning at x: its predictive is the prior's, so its ratio is 1.
    const pNew = h * SUMS[1]!;
    prob[r.runs] = pNew;
    start[r.runs] = j;
    openRun(state, r.runs, y, kappa0);
    total += pNew;
    r.runs++;

    const mass = normalise(state, r, total, r.regime + gapMin);
    const cand = PICK[0]!;
    r.lastProb = mass;
    changeProb[k] = mass;
    runLength[k] = r.lastRun;
    if (mass > probMax) probMax = mass;
    trackScale(r, x, y, scaleRate);
    if (arMax > 0) trackResiduals(data, residual, sigma);
    if (seasonM > 0) {
      // The season learns from x, and the noise's season from the log of the squared residual
      // (log chi-square noise: sd LOG_CHI2_SD; its mean offset goes into the level, not used).
      const forget = powFast(2, -r.interval / (SEASON_HALF_LIFE_PERIODS * seasonUs));
      const e = y - season[0]!;
      seasonLearn(season, FEATURES, seasonM, x, sigmaT, forget);
      const e2 = e * e + varFloor + 1e-12 * sigma * sigma;
      seasonLearn(spreadSeason, FEATURES, seasonM, logFast(e2), LOG_CHI2_SD, forget);
    }

    r.above = mass >= confirm && cand >= 0 ? r.above + 1 : 0;
    const confirmed = r.above >= confirmSamples;
    if (confirmed) {
      const c = Math.max(start[cand]!, j - HISTORY_SAMPLES + 1, r.segStart + 1);
      data[H_CHANGE] = r.segStart;
      data[H_SEG_N] = r.segN;
      data[H_SEG_MEAN] = r.segMean;
      data[H_SEG_M2] = r.segM2;
      changes.push(confirmChange(state, c, j, mass));
      r.segStart = c;
      r.regime = c;
      if (seasonM > 0) {
        seasonRelevel(season);
        seasonRelevel(spreadSeason);
      }
      r.segN = 0;
      r.segMean = 0;
      r.segM2 = 0;
      r.above = 0;
    }
    r.phase = nextPhase(r.phase, confirmed, mass, j - r.segStart, data);
  }

  storeRunning(data, r);
  data[H_VALID] = data[H_VALID]! + valid;
  return {
    changes,
    changeProb,
    runLength,
    changeProbMax: probMax,
    changeProbLast: r.lastProb,
    samplesSinceChange: r.segStart < 0 ? 0 : r.index - 1 - r.segStart,
    phase: PHASES[r.phase]!,
    validSamples: valid,
    missingSamples: n - valid,
    runs: r.runs,
  };
}

/** The collapse kernel. */
export const collapseKernel: Kernel<CollapseState, CollapseConfig, CollapseResult> = {
  init: initState,
  step,
  configure: configureState,
  save: saveState,
  load: loadState,
};

/** Read-only figures of a state, for tests and diagnostics. */
export function collapseStats(state: CollapseState): {
  samples: number;
  validSamples: number;
  runs: number;
  level: number;
  slope: number;
  noiseScale: number;
  lastChangeIndex: number;
  changes: number;
  phase: CollapsePhase;
} {
  const { data } = state;
  return {
    samples: data[H_INDEX]!,
    validSamples: data[H_VALID]!,
    runs: data[H_RUNS]!,
    level: data[H_LEVEL]!,
    slope: data[H_SLOPE]!,
    noiseScale: data[H_ABSDIFF]! / ABS_DIFF_PER_SIGMA,
    lastChangeIndex: data[H_CHANGE]!,
    changes: data[H_CHANGES]!,
    phase: PHASES[data[H_PHASE]!]!,
  };
}
