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
 * across them. Values beyond VALUE_ABS_MAX count as missing, and so, with a season, does a held
 * reading: an exact repeat on a channel far finer than its noise (a gauge pinned at its ceiling, a
 * frozen exporter; _stuck.ts). Quantised data keeps every predictive variance above q^2 / 12, the
 * rounding noise of the smallest step q seen.
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
  H_ABSDIFF,
  H_ALPHA0,
  H_AR_MAX,
  H_CHANGE,
  H_CHANGES,
  H_CONFIRM,
  H_CONFIRM_SAMPLES,
  H_G0,
  H_GAP_FACTOR,
  H_GAP_MIN,
  H_HAZARD,
  H_INDEX,
  H_KAPPA0,
  H_LEVEL,
  H_LEVEL_DRIFT,
  H_NOISE_KEEP,
  H_OUTLIER,
  H_PHASE,
  H_RELEVEL_AT,
  H_RUNS,
  H_SCALE_RATE,
  H_SEASON_FROM,
  H_SEASON_M,
  H_SEASON_US,
  H_SEASON_WARMING,
  H_SEASON_WEEKEND,
  H_SEG_M2,
  H_SEG_MEAN,
  H_SEG_N,
  H_SLOPE,
  H_SLOPE_CARRY,
  H_SLOPE_DRIFT,
  H_VALID,
  HISTORY_SAMPLES,
  initState,
  loadState,
  PHASES,
  saveState,
} from "./_state.ts";
import { type FrameConstants, GROW_SUMS, growRuns, type Growth } from "./_grow.ts";
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
import { WEEKEND_FEATURES } from "./_weekend.ts";
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
/** The prior predictive's log-normaliser is clamped here so ratios stay finite for absurd values. */
const LOG_RATIO_MAX = 600;
/** The noise's seasonal variance factor is kept within exp(+-LOG_G_MAX). */
const LOG_G_MAX = 4.6;
/** Standard deviation of the log of a chi-square variable of one degree of freedom (pi^2 / 2). */
const LOG_CHI2_SD = Math.PI / Math.SQRT2;
/**
 * Of the weekend's features (_weekend.ts), the noise's variance season has the first, the weekend's
 * smooth level: a weekend has its own noise as it has its own level. Service noise grows with the
 * load, so a weekend at two thirds of a weekday's load is quieter than a weekday night, and with the
 * daily features alone the regimes saw each weekend's quieter noise as a change in the noise on
 * Friday night and the louder one back as another on Sunday night or Monday. On the metrics feed
 * (`troupe bench detect`, false changes / labelled changes found) seeds 1 to 5 went from 346 / 460
 * to 272 / 460 (Friday 23:00 to Saturday 02:00 from 72 to 20), and seeds 6 to 8, not looked at
 * before the choice, from 190 / 248 to 139 / 247. With all five of the weekend's features: 314 on
 * seeds 1 to 5 (collapse8 had tried that: more false changes), as a log-variance learnt from two
 * days a week cannot hold five coefficients.
 */
const SPREAD_WEEKEND_FEATURES = 1;
/** The season's harmonics at the current sample. */
const FEATURES = new Float64Array(SEASON_COEFFS);

/*
 * RELEVEL_AFTER_GAP. The season's level is made unknown again (seasonRelevel) when a new regime
 * has lasted min_gap_samples: at its confirmation if it began that long before, else once it
 * has (H_RELEVEL_AT holds when; also for a regime the warm-up confirms). A burst of a few samples
 * (a spike, confirmed at its second or third sample) otherwise became the season's level; the
 * samples after it were clipped at 3 noise scales, so the level came back over hours and the
 * harmonics took the difference as daily shape (on the metrics feed, seed 3's api-memory: a spike
 * of 70 noise scales in the warm-up left a daily swing of 15 where there was 1.5, and 25 false
 * changes over the next four days; none with the relevel after the gap). On the metrics feed
 * (`troupe bench detect`'s runFeed and scorer, false changes / labelled changes found): seeds 1 to
 * 5 from 262 / 460 to 228 / 459; seeds 6 to 8, not looked at before the choice, from 128 / 247 to
 * 110 / 248; seeds 9 to 16, run to see past the channels' chaos (a false change relevels the
 * season, so one moves the next), from 527 / 696 to 462 / 696. Tried with it: each sample's
 * variance widened by the season's own uncertainty, g (1 + f'Pf) as a Kalman filter's predictive
 * has it: 221 / 462, 130 / 248 and 476 / 696, no clear gain, not taken.
 */

/*
 * SLOPE_CARRIED. A regime that begins now has its slope's prior centred on the slope of the most
 * probable regime (`slope_carry` 1, the default), not on 0: a level shift in a trending series
 * (a price jump in a rising market, a step in a growing stock) does not stop the trend, and a new
 * regime presumed flat must first unlearn its flatness over its first samples, where it fits worse
 * than a line that goes on; on a flat channel the slope carried is about 0 and nothing changes. On
 * TCPD's dev split (`troupe bench cpd --data ../shared/datasets/tcpd-dev`, F1 with a margin of 5
 * over the 12 scored series) the 2-fold cross-validation (`--cv`, its fixed grid of slope_prior,
 * outlier_prob and hazard) went from 0.702 held out on B and 0.636 on A to 0.720 and 0.656, and the
 * setting chosen on both halves (slope_prior 0.1, hazard 3/10,000, now the defaults) scores 0.716
 * (0.699 before): brent_spot 0.775 -> 0.821, construction 0.709 -> 0.833, global_co2 0.481 ->
 * 0.587, seatbelts 0.683 -> 0.824, well_log 0.914 -> 0.950, but businv 0.533 -> 0.413 and
 * rail_lines 0.966 -> 0.846. The synthetic suite (seed 1) went from F1 0.910 to 0.930, delay p50
 * 4 to 5 samples, false alarms per 10k 0.12 to 0.10. The settings for service metrics keep 0 (and
 * the hazard and slope prior they were measured with): carried there, `troupe bench detect`'s
 * collapse_f1 fell on seeds 2 and 8 (0.927 -> 0.916, 0.867 -> 0.853) while it rose on 1, 3, 5, 6.
 */

/**
 * A change the regimes confirm in the season's warm-up: none is reported (a swing cannot be told
 * from a change before a period has been seen), but the season's level is made unknown again, as
 * after a confirmed change, so that it moves to the new regime instead of the harmonics taking the
 * shift as daily shape. Without it, a level shift in a channel's first day (service memory moves by
 * 30 noise scales or more, over a daily swing of a few) was learned as a daily swing, unlearned over
 * a week or more (the season's residuals are clipped at 3 noise scales), and read as a change
 * every few hours meanwhile: on the metrics feed (`troupe bench detect`) the memory channels' false
 * changes on seeds 1 to 5 went from 114 to 55, and on seeds 6 to 8, not looked at before the
 * choice, from 308 to 19. A regime under min_gap_samples old is relevelled to once it has lasted
 * that long (RELEVEL_AFTER_GAP).
 */
function warmUpRelevel(
  state: CollapseState,
  r: Running,
  cand: number,
  j: number,
  gapMin: number,
): void {
  r.regime = state.start[cand]!;
  if (j - r.regime >= gapMin) seasonRelevel(state.season);
  state.data[H_RELEVEL_AT] = j - r.regime >= gapMin ? 0 : r.regime + gapMin;
}

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

/**
 * The season's warm-up, at a sample at time t: until one period has been seen, a swing cannot be
 * told from a change, so no change is counted (the regimes' origin follows the samples); when it
 * ends the regimes start afresh, on values the season now explains. The residuals'
 * autocorrelation learned meanwhile is kept: forgotten, the first hours after the warm-up took
 * correlated noise as independent and read it as changes (on the metrics feed, `troupe bench
 * detect`, false changes on seeds 1 to 5 went from 361 to 346, and on seeds 6 to 8, not looked at
 * before the choice, from 203 to 190). Returns whether the sample is still in the warm-up.
 */
function warmUp(state: CollapseState, r: Running, t: number): boolean {
  const data = state.data;
  const from = data[H_SEASON_FROM]!;
  if (from !== from) data[H_SEASON_FROM] = t;
  else if (t - from >= data[H_SEASON_US]!) {
    data[H_SEASON_WARMING] = 0;
    data[H_RELEVEL_AT] = 0;
    r.runs = 0;
    seasonRelevel(state.season);
    seasonRelevel(state.spreadSeason);
  }
  return data[H_SEASON_WARMING] === 1;
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
    keepNoise: 1,
    ha: 1,
    hb: 0,
    g: 1,
  };
  const levelDrift = data[H_LEVEL_DRIFT]!;
  const keepNoise = data[H_NOISE_KEEP]!;
  const seasonUs = data[H_SEASON_US]!;
  const seasonM = data[H_SEASON_M]!;
  const weekend = data[H_SEASON_WEEKEND] === 1;
  const harmonics = (seasonM - 1 - (weekend ? WEEKEND_FEATURES : 0)) / 2;
  // The noise's variance season has the daily features and the weekend's smooth level (see
  // SPREAD_WEEKEND_FEATURES).
  const spreadM = 1 + 2 * harmonics + (weekend ? SPREAD_WEEKEND_FEATURES : 0);
  const season = state.season;
  const spreadSeason = state.spreadSeason;
  const arMax = data[H_AR_MAX]!;
  const slopeCarry = data[H_SLOPE_CARRY] === 1;
  // The season's forgetting factor depends on the sampling interval only, which is constant on a
  // regular feed: computed when the interval moves, not per sample.
  let forgetInterval = NaN;
  let forget = 1;

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
    if (j - HISTORY_SAMPLES >= r.segStart) joinSegment(r, histV[slot]!);
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
    // A held reading (_stuck.ts; with a season only, the metrics settings): time passes, nothing
    // is learnt from it.
    if (seasonM > 0 && isStuck(r, x, r.absDiff * SIGMA_PER_ABS_DIFF)) {
      r.missed++;
      changeProb[k] = r.lastProb;
      runLength[k] = r.lastRun;
      continue;
    }
    // y: x less the channel's season, and g: its noise variance relative to the regime's (both
    // as learned from the samples before this one).
    let y = x;
    let g = 1;
    if (seasonM > 0) {
      seasonFeatures(ts[k]!, seasonUs, harmonics, FEATURES, weekend);
      y = x - seasonValue(season, FEATURES, seasonM);
      let lg = seasonValue(spreadSeason, FEATURES, spreadM);
      lg = lg > LOG_G_MAX ? LOG_G_MAX : lg < -LOG_G_MAX ? -LOG_G_MAX : lg;
      g = expFast(lg);
    }
    const warming = seasonM > 0 && data[H_SEASON_WARMING] === 1 && warmUp(state, r, ts[k]!);
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
    // Few counts: at least their quasi-Poisson variance, phi x the predicted rate (metrics
    // settings only: the default path is unchanged). phi is learnt out of the season's warm-up.
    if (seasonM > 0) {
      const predicted = x - y + r.level + steps * r.trend;
      growth.varFloor = countFloor(data, x, predicted, r.quantum, g, varFloor);
      if (!warming) learnDispersion(data, x, predicted, r.quantum);
    } else {
      growth.varFloor = varFloor;
    }
    growth.grow = 1 - h;
    growth.drift = levelDrift;
    growth.keepNoise = steps === 1 || keepNoise === 1 ? keepNoise : powFast(keepNoise, steps);
    growRuns(state, r.runs, growth, consts);
    let total = GROW_SUMS[0]!;

    // At the cap, two neighbouring hypotheses merge to make room.
    if (r.runs === runsMax) r.runs = mergeClosest(state, r.runs, j, r.regime + gapMin);
    // A regime beginning at x: its predictive is the prior's, so its ratio is 1.
    const pNew = h * GROW_SUMS[1]!;
    prob[r.runs] = pNew;
    start[r.runs] = j;
    // Its slope's prior is centred on the slope the channel had (SLOPE_CARRIED).
    openRun(state, r.runs, y, kappa0, slopeCarry ? r.trend : 0);
    total += pNew;
    r.runs++;

    let mass = normalise(state, r, total, r.regime + gapMin);
    if (warming) {
      // No change is counted in the season's warm-up, but the regimes still see one: a shift the
      // season's slow level cannot follow would be learned as daily shape (see warmUpRelevel).
      if (mass >= confirm && PICK[0]! >= 0) warmUpRelevel(state, r, PICK[0]!, j, gapMin);
      mass = 0;
      PICK[0] = -1;
    }
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
      if (r.interval !== forgetInterval) {
        forgetInterval = r.interval;
        forget = powFast(2, -r.interval / (SEASON_HALF_LIFE_PERIODS * seasonUs));
      }
      const e = y - season[0]!;
      seasonLearn(season, FEATURES, seasonM, x, sigmaT, forget);
      const e2 = e * e + varFloor + 1e-12 * sigma * sigma;
      // The noise's season learns once the running scale has seen enough differences: a
      // channel's first residuals (a run of equal counts, say) are 0 or nearly, and their logs
      // taught it daily swings of hundreds that it never unlearned (seen on errors counts that
      // start with zeros, every day a change at the same hours).
      if (scaleSettled(r)) {
        seasonLearn(spreadSeason, FEATURES, spreadM, logFast(e2), LOG_CHI2_SD, forget);
      }
    }

    r.above = mass >= confirm && cand >= 0 ? r.above + 1 : 0;
    const confirmed = r.above >= confirmSamples;
    if (confirmed) {
      changes.push(confirmRegime(state, r, cand, j, mass));
    } else if (data[H_RELEVEL_AT]! > 0 && j >= data[H_RELEVEL_AT]!) {
      // The regime began under min_gap_samples before it was confirmed: the season is relevelled
      // now that it has lasted that long (or at the first valid sample after; RELEVEL_AFTER_GAP).
      seasonRelevel(season);
      if (!warming) seasonRelevel(spreadSeason);
      data[H_RELEVEL_AT] = 0;
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
