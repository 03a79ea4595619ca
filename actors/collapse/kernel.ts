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
 * after the last confirmed change reaches `confirm_threshold`; it is placed at the start of the
 * most probable such regime, so it reports where the new regime began, not when it was noticed.
 * Missing samples (non-finite values, or time steps of more than `gap_factor` usual intervals)
 * raise the hazard of the next valid sample as if the missed samples had passed, and every line is
 * carried across them. Values beyond VALUE_ABS_MAX count as missing, and so, with a season, does a
 * held reading: an exact repeat on a channel far finer than its noise (a gauge pinned at its
 * ceiling, a frozen exporter; _stuck.ts). Quantised data keeps every predictive variance above q^2
 * / 12, the rounding noise of the smallest step q seen.
 *
 * The lifecycle phase (stable, suspect, collapsed, recovering) is decided per sample here, so the
 * machine's state after a frame is the same however the samples were framed.
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import type { CollapseConfig } from "./config.ts";
import { type CollapseChange, confirmChange, scaleFloor } from "./_change.ts";
import { countFloor, learnDispersion } from "./_count_floor.ts";
import { mergeClosest } from "./_merge.ts";
import {
  type CollapsePhase,
  type CollapseState,
  configureState,
  ensureHistory,
  H_ABSDIFF,
  H_CHANGE,
  H_CHANGES,
  H_GAP_MIN,
  H_INDEX,
  H_LEVEL,
  H_PHASE,
  H_RELEVEL_AT,
  H_RUNS,
  H_SEASON_M,
  H_SEASON_WARMING,
  H_SEG_M2,
  H_SEG_MEAN,
  H_SEG_N,
  H_SLOPE,
  H_VALID,
  HISTORY_SAMPLES,
  initState,
  PHASES,
} from "./_state.ts";
import { loadState, saveState } from "./_saved_state.ts";
import { GROW_SUMS, growRuns } from "./_grow.ts";
import { relevelAfterGap, warmUp, warmUpRelevel } from "./_relevel.ts";
import { type FrameScope, frameScope } from "./_frame_scope.ts";
import {
  loadRunning,
  type Running,
  scaleSettled,
  storeRunning,
  trackScale,
  trackTime,
} from "./_running.ts";
import { autocorrelation, trackResiduals } from "./_residuals.ts";
import { isStuck } from "./_stuck.ts";
import { nextPhase, normalise, openFirst, openRun, PICK } from "./_regimes.ts";
import { expFast, log1pFast, logFast, powFast } from "../math/mod.ts";
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
  /** Per sample: posterior probability of a regime newer than the last confirmed change (NaN:
   * missing; a held reading, _stuck.ts, repeats the last). */
  changeProb: Float64Array;
  /** Per sample: the most probable run length, in samples (NaN: missing; held: the last). */
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
/** Variance of rounding to a grid of step q is q^2 / 12: quantised data is never more precise. */
const QUANTUM_VARIANCE = 1 / 12;
/**
 * The prior predictive's log-normaliser is clamped here so ratios stay finite for absurd values.
 */
const LOG_RATIO_MAX = 600;
/** The noise's seasonal variance factor is kept within exp(+-LOG_G_MAX). */
const LOG_G_MAX = 4.6;
/** Standard deviation of the log of a chi-square variable of one degree of freedom (pi^2 / 2). */
const LOG_CHI2_SD = Math.PI / Math.SQRT2;
/** The season's harmonics at the current sample. */
const FEATURES = new Float64Array(SEASON_COEFFS);

/*
 * SLOPE_CARRIED. A regime that begins now has its slope's prior centred on the slope of the most
 * probable regime (`slope_carry` 1, the default), not on 0: a level shift in a trending series
 * (a price jump in a rising market, a step in a growing stock) does not stop the trend, and a new
 * regime presumed flat must first unlearn its flatness over its first samples, where it fits worse
 * than a line that goes on; on a flat channel the slope carried is about 0 and nothing changes.
 * Carried, TCPD's cross-validation and the synthetic suite score higher; the settings for service
 * metrics keep 0, where carrying it scored lower on some of the metrics feed's seeds. The scores
 * of both are on docs/methods/collapse.md ("How settings were chosen").
 */

/** A sample leaving the history ring joins the current segment's moments (NaN: a missing one). */
function joinSegment(r: Running, old: number): void {
  if (old !== old) return;
  r.segN++;
  const d = old - r.segMean;
  r.segMean += d / r.segN;
  r.segM2 += d * (old - r.segMean);
}

/**
 * A change confirmed at sample j, of the regime begun at hypothesis `cand`: the segment before it
 * is closed and reported, a new one opens at its start, and the season is relevelled now if the
 * regime has lasted min_gap_samples, else once it has (RELEVEL_AFTER_GAP).
 */
function confirmRegime(
  state: CollapseState,
  r: Running,
  cand: number,
  j: number,
  mass: number,
): CollapseChange {
  const { data, start } = state;
  const seasonM = data[H_SEASON_M]!;
  const gapMin = data[H_GAP_MIN]!;
  const c = Math.max(start[cand]!, j - HISTORY_SAMPLES + 1, r.segStart + 1);
  data[H_CHANGE] = r.segStart;
  data[H_SEG_N] = r.segN;
  data[H_SEG_MEAN] = r.segMean;
  data[H_SEG_M2] = r.segM2;
  const change = confirmChange(state, c, j, mass);
  r.segStart = c;
  r.regime = c;
  if (seasonM > 0 && j - c >= gapMin) {
    seasonRelevel(state.season);
    seasonRelevel(state.spreadSeason);
  }
  data[H_RELEVEL_AT] = seasonM > 0 && j - c < gapMin ? c + gapMin : 0;
  r.segN = 0;
  r.segMean = 0;
  r.segM2 = 0;
  r.above = 0;
  return change;
}

/** One sample's noise as the regimes see it, set by its views in turn. */
interface SampleNoise {
  /** The sample less the channel's season, and its noise variance relative to the regime's. */
  y: number;
  g: number;
  /** The noise scale from differences (autocorrelation allowed for), and this sample's. */
  sigma: number;
  sigmaT: number;
  /** The variance floor of quantised data. */
  varFloor: number;
  /** y less where the current regime's line goes. */
  residual: number;
}

/** The sample the views of `step` share (one kernel runs at a time: no sample is shared). */
const SAMPLE: SampleNoise = { y: 0, g: 1, sigma: 0, sigmaT: 0, varFloor: 0, residual: 0 };

/**
 * `spent`, a column of a result its caller is done with (the kernel's `reuse`), when it is `n`
 * long, else a fresh one: every value of it is written by the step.
 */
function column(spent: Float64Array | undefined, n: number): Float64Array {
  return spent !== undefined && spent.length === n ? spent : new Float64Array(n);
}

/**
 * Folds one frame into the state. Each valid sample goes through its views in turn: into the
 * history ring (intoHistory), less its season (deseason), the regimes grown by it (growRegimes:
 * priorOfNew, growRuns, openNew), the mass of newer regimes (newerMass), what learns from it
 * (learnFrom), then a change confirmed (confirmRegime) or the season relevelled (relevelAfterGap).
 */
function step(state: CollapseState, frame: SampleFrame, reuse?: CollapseResult): CollapseResult {
  const { data } = state;
  const ts = frame.t;
  const vs = frame.v;
  const n = vs.length;
  const changeProb = column(reuse?.changeProb, n);
  const runLength = column(reuse?.runLength, n);
  const changes: CollapseChange[] = [];
  ensureHistory(state, n);
  const f = frameScope(state);
  const s = SAMPLE;

  const r = loadRunning(data);
  let valid = 0;
  let probMax = 0;
  let nextSlot = r.index % HISTORY_SAMPLES;
  for (let k = 0; k < n; k++) {
    const j = r.index++;
    const x = vs[k]!;
    trackTime(r, ts[k]!, f.gapFactor);

    // The history ring's slot is counted, not taken modulo: j is a double and a float modulo is a
    // library call.
    const slot = nextSlot;
    nextSlot = slot + 1 === HISTORY_SAMPLES ? 0 : slot + 1;
    if (!intoHistory(state, r, { slot, j, x, t: ts[k]! })) {
      r.missed++;
      changeProb[k] = NaN;
      runLength[k] = NaN;
      continue;
    }
    valid++;
    // A held reading (_stuck.ts; with a season only, the metrics settings): time passes, nothing
    // is learnt from it.
    if (f.seasonM > 0 && isStuck(r, x, r.absDiff * SIGMA_PER_ABS_DIFF)) {
      r.missed++;
      changeProb[k] = r.lastProb;
      runLength[k] = r.lastRun;
      continue;
    }
    deseason(state, f, s, x, ts[k]!);
    const warming = f.seasonM > 0 && data[H_SEASON_WARMING] === 1 && warmUp(state, r, ts[k]!);
    if (r.runs === 0) {
      openFirst(state, r, s.y, j);
      r.prevX = x;
      if (f.seasonM > 0) state.season[0] = x;
      changeProb[k] = 0;
      runLength[k] = 0;
      continue;
    }
    const total = growRegimes(state, r, f, { x, j, warming });
    const mass = newerMass(state, r, f, { total, j, warming });
    const cand = PICK[0]!;
    r.lastProb = mass;
    changeProb[k] = mass;
    runLength[k] = r.lastRun;
    if (mass > probMax) probMax = mass;
    learnFrom(state, r, f, x);
    r.above = mass >= f.confirm && cand >= 0 ? r.above + 1 : 0;
    const confirmed = r.above >= f.confirmSamples;
    if (confirmed) changes.push(confirmRegime(state, r, cand, j, mass));
    else relevelAfterGap(state, j, warming);
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

/**
 * The regimes grown by sample `j` (its noise in SAMPLE): the hazard over the steps since the last
 * valid sample, every hypothesis carried ahead and scored, and a regime begun at it; the
 * posterior's total mass, unnormalised.
 */
function growRegimes(
  state: CollapseState,
  r: Running,
  f: FrameScope,
  at: { x: number; j: number; warming: boolean },
): number {
  const steps = 1 + r.missed;
  const h = r.missed > 0 ? 1 - powFast(1 - f.hazard, steps) : f.hazard;
  r.missed = 0;
  priorOfNew(state, r, f, SAMPLE, { x: at.x, steps, warming: at.warming });
  f.growth.grow = 1 - h;
  growRuns(state, r.runs, f.growth, f.consts);
  return GROW_SUMS[0]! + openNew(state, r, f, { y: SAMPLE.y, j: at.j, h });
}

/**
 * Sample `j` (value `x` at time `t`) into the history ring's `slot`, whose sample leaving it joins
 * the current segment's moments; false when the sample is missing (kept as NaN).
 */
function intoHistory(
  state: CollapseState,
  r: Running,
  at: { slot: number; j: number; x: number; t: number },
): boolean {
  const { slot, x } = at;
  if (at.j - HISTORY_SAMPLES >= r.segStart) joinSegment(r, state.histV[slot]!);
  const missing = !(Math.abs(x) <= VALUE_ABS_MAX);
  state.histV[slot] = missing ? NaN : x;
  state.histT[slot] = at.t;
  return !missing;
}

/**
 * The posterior's mass of regimes newer than the last confirmed change, once normalised from
 * `total`, its most probable such regime in PICK[0]. In the season's warm-up no change is counted
 * (0, and no regime picked), but the regimes still see one: a shift the season's slow level cannot
 * follow would be learned as daily shape (see warmUpRelevel).
 */
function newerMass(
  state: CollapseState,
  r: Running,
  f: FrameScope,
  at: { total: number; j: number; warming: boolean },
): number {
  const mass = normalise(state, r, at.total, r.regime + f.gapMin);
  if (!at.warming) return mass;
  if (mass >= f.confirm && PICK[0]! >= 0) warmUpRelevel(state, r, PICK[0]!, at.j, f.gapMin);
  PICK[0] = -1;
  return 0;
}

/**
 * The sample `x` at time `t` as the regimes see it: `s.y`, x less the channel's season, and
 * `s.g`, its noise variance relative to the regime's (both as learned from the samples before it).
 */
function deseason(
  state: CollapseState,
  f: FrameScope,
  s: SampleNoise,
  x: number,
  t: number,
): void {
  s.y = x;
  s.g = 1;
  if (f.seasonM > 0) {
    seasonFeatures(t, f.seasonUs, f.harmonics, FEATURES, f.weekend);
    s.y = x - seasonValue(state.season, FEATURES, f.seasonM);
    let lg = seasonValue(state.spreadSeason, FEATURES, f.spreadM);
    lg = lg > LOG_G_MAX ? LOG_G_MAX : lg < -LOG_G_MAX ? -LOG_G_MAX : lg;
    s.g = expFast(lg);
  }
}

/**
 * The prior of a regime beginning now, centred where the current regime's line goes, and 1 / its
 * predictive density at the sample (every hypothesis' density is taken relative to it): the
 * sample's noise scale into `s`, and what the hypotheses' growth shares into `f.growth` (all but
 * its growth factor).
 */
function priorOfNew(
  state: CollapseState,
  r: Running,
  f: FrameScope,
  s: SampleNoise,
  at: { x: number; steps: number; warming: boolean },
): void {
  const { x, steps } = at;
  const { data } = state;
  const { growth, alpha0 } = f;
  const y = s.y;
  const g = s.g;
  const varFloor = r.quantum * r.quantum * QUANTUM_VARIANCE;
  let sigma = r.absDiff * SIGMA_PER_ABS_DIFF;
  const floor = scaleFloor(r.level);
  if (!(sigma >= floor)) sigma = floor;
  const qs = r.quantum * QUANTUM_SIGMA;
  if (qs > sigma) sigma = qs;
  // With autocorrelation phi, the noise scale from differences is sigma sqrt(1 - phi) for a
  // residual sd sigma, and the innovations' sd is sigma sqrt(1 - phi^2): sigma sqrt(1 + phi).
  let rho = 0;
  if (f.arMax > 0) {
    const phi = autocorrelation(data, f.arMax);
    rho = steps === 1 ? phi : powFast(phi, steps);
    sigma *= Math.sqrt(1 + phi);
  }
  // A new regime's prior predictive has this sample's noise scale.
  const sigmaT = g === 1 ? sigma : sigma * Math.sqrt(g);
  const u = (y - r.level - steps * r.trend) / sigmaT;
  const logQ0 = (alpha0 + 0.5) * log1pFast(u * u * f.invPriorScale2);
  growth.steps = steps;
  growth.x = y - rho * r.prevY;
  growth.g = g;
  growth.ha = 1 - rho;
  growth.hb = rho * steps;
  s.residual = y - r.level - steps * r.trend;
  growth.invPrior = sigmaT * f.priorNorm * expFast(logQ0 < LOG_RATIO_MAX ? logQ0 : LOG_RATIO_MAX);
  growth.beta0 = alpha0 * sigma * sigma;
  // Few counts: at least their quasi-Poisson variance, phi x the predicted rate (metrics
  // settings only: the default path is unchanged). phi is learnt out of the season's warm-up.
  if (f.seasonM > 0) {
    const predicted = x - y + r.level + steps * r.trend;
    growth.varFloor = countFloor(data, x, predicted, r.quantum, g, varFloor);
    if (!at.warming) learnDispersion(data, x, predicted, r.quantum);
  } else {
    growth.varFloor = varFloor;
  }
  growth.drift = f.levelDrift;
  const keepNoise = f.keepNoise;
  growth.keepNoise = steps === 1 || keepNoise === 1 ? keepNoise : powFast(keepNoise, steps);
  s.sigma = sigma;
  s.sigmaT = sigmaT;
  s.varFloor = varFloor;
}

/**
 * A regime beginning at sample `j` with value `y`, made room for at the cap by merging two
 * neighbouring hypotheses; its mass, which the posterior's total gains. Its predictive is the
 * prior's, so its ratio is 1.
 */
function openNew(
  state: CollapseState,
  r: Running,
  f: FrameScope,
  at: { y: number; j: number; h: number },
): number {
  if (r.runs === f.runsMax) r.runs = mergeClosest(state, r.runs, at.j, r.regime + f.gapMin);
  const pNew = at.h * GROW_SUMS[1]!;
  state.prob[r.runs] = pNew;
  state.start[r.runs] = at.j;
  // Its slope's prior is centred on the slope the channel had (SLOPE_CARRIED).
  openRun(state, r.runs, at.y, f.kappa0, f.slopeCarry ? r.trend : 0);
  r.runs++;
  return pNew;
}

/** What learns from the sample `x` (its noise in SAMPLE): the noise scale, residuals, season. */
function learnFrom(state: CollapseState, r: Running, f: FrameScope, x: number): void {
  trackScale(r, x, SAMPLE.y, f.scaleRate);
  if (f.arMax > 0) trackResiduals(state.data, SAMPLE.residual, SAMPLE.sigma);
  if (f.seasonM > 0) learnSeason(state, r, f, SAMPLE, x);
}

/**
 * The season learns from the sample `x`, and the noise's season from the log of the squared
 * residual (log chi-square noise: sd LOG_CHI2_SD; its mean offset goes into the level, not used).
 */
function learnSeason(
  state: CollapseState,
  r: Running,
  f: FrameScope,
  s: SampleNoise,
  x: number,
): void {
  const { season } = state;
  if (r.interval !== f.forgetInterval) {
    f.forgetInterval = r.interval;
    f.forget = powFast(2, -r.interval / (SEASON_HALF_LIFE_PERIODS * f.seasonUs));
  }
  const e = s.y - season[0]!;
  seasonLearn(season, FEATURES, f.seasonM, x, s.sigmaT, f.forget);
  const e2 = e * e + s.varFloor + 1e-12 * s.sigma * s.sigma;
  // The noise's season learns once the running scale has seen enough differences: a
  // channel's first residuals (a run of equal counts, say) are 0 or nearly, and their logs
  // taught it daily swings of hundreds that it never unlearned (seen on errors counts that
  // start with zeros, every day a change at the same hours).
  if (scaleSettled(r)) {
    seasonLearn(state.spreadSeason, FEATURES, f.spreadM, logFast(e2), LOG_CHI2_SD, f.forget);
  }
}

/** The collapse kernel. */
export const collapseKernel: Kernel<CollapseState, CollapseConfig, CollapseResult> = {
  init: initState,
  step,
  configure: configureState,
  save: saveState,
  savesFresh: true,
  loadsCopy: true,
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
