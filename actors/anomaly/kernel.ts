/**
 * The anomaly kernel: scores each sample of a channel in [0, 1] from the past alone, in constant
 * time and bounded memory, decides its incidents, and gives the expected value and a prediction
 * band the dashboard draws. The method, each view's reference and each constant's origin are on
 * one page, docs/methods/anomaly.md; the loop below does it in that page's order (forecast and
 * band, features, the views' surprises in bits, the score, the refractory period, the incident),
 * per sample, so framing changes nothing.
 *
 * Bad input: a sample whose value or time is not finite, or whose value exceeds VALUE_ABS_MAX in
 * size, is skipped and counted: it scores 0, repeats the last valid sample's expected value and
 * band (0 before any), and changes no state but the counter.
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import { log2Fast } from "../math/mod.ts";
import type { AnomalyConfig } from "./config.ts";
import { binOf, DAY_START, INCREMENT_RANGE, jumpBin, KNOWN } from "./_bins.ts";
import { gridBin, LAST_KEY, learnWarmup, runBin, scratchFor, surpriseKnown } from "./_bins.ts";
import { VIEWS, widthOf } from "./_bins.ts";
import { bornOf, KEY_TIME, keyOf, neighbourBornAfter, observe } from "./_table.ts";
import { COUNT_FREE_BITS, COUNT_REFERENCE_MAX, isCount } from "./_counts.ts";
import { poissonPointBits, poissonTailBits } from "./_counts.ts";
import { addChange, type AnomalyChange, type AnomalyResult } from "./_result.ts";
import { NO_CHANGES, resultColumns } from "./_result.ts";
import { holdReference, restatedSigma } from "./_restate.ts";
import * as S from "./_state.ts";
import { moveClass, observeMoves } from "./_moves.ts";
import { decimalQuantum, findingSigma, LONG_ALPHA, SIGMA_PER_MAE } from "./_scale.ts";
import { binnedView, clearViews, VIEW, type ViewCode } from "./_views.ts";

type AnomalyState = S.AnomalyState;

/** Values beyond this size are skipped: they would overflow the running sums. */
export const VALUE_ABS_MAX = 1e100;
const DAY_US = 86_400_000_000;
/**
 * A novelty next to a bin its context first met less than a week ago (the longest cycle of the
 * services' metrics, weekdays against weekends) extends a range still growing: it is not scored.
 */
const GROWING_US = 7 * DAY_US;
/** After an incident the time-of-day view waits a day: each hour meets the change once. */
const SETTLE_US = DAY_US;
// Exponential weights (span 1 / weight): the level, its error and the local slope 10 samples,
// the forecasters' errors compared over 50; a profile's hour a mean of its first 10 visits, then
// span 10 (it forecasts from its third visit, its error shrunk to the level's by 3); the mean
// absolute increment over 100 samples and the very recent one over 10.
const LEVEL_ALPHA = 0.1, ERROR_ALPHA = 0.02, PROFILE_ALPHA_MIN = 0.1, PROFILE_SHRINK = 3;
const SLOPE_ALPHA = 0.1, INCREMENT_ALPHA = 0.01, INCREMENT_FAST_ALPHA = 0.1;
// A flat run: consecutive values within 1% of the mean absolute increment; scored from 7 samples
// (bin 3) once 100 runs have finished, less FREE_BITS where more than 1% of runs last a sample.
const FLAT_TOLERANCE = 0.01, FLAT_SHARE_MAX = 0.01, FLAT_BIN_MIN = 3;
/**
 * Bits a tail probability must exceed before it scores (jumps; runs and counts where the channel
 * often stays put): 5, so a sample scores where fewer than about 1 in 1,024 went as far.
 */
const FREE_BITS = 5;

/**
 * Folds one frame into the state; see the module comment for the model. Each opening names the
 * view that raised its sample's score (_views.ts); with `views` (at least a frame long), the step
 * also writes there the code of that view for every sample.
 */
export function stepAnomaly(
  st: AnomalyState,
  frame: SampleFrame,
  reuse?: AnomalyResult,
  views?: Uint8Array,
): AnomalyResult {
  // One hot loop over the samples: its state lives in locals, written back at the end.
  const { t, v } = frame;
  const n = v.length;
  if (views !== undefined) clearViews(views, n);
  // The columns, in `reuse`'s buffer when it is large enough: every value is written below.
  const columns = resultColumns(n, reuse);
  const score = columns[0], expected = columns[1], spread = columns[2];
  const s = st.s;
  const profile = st.profile;
  const warmup = s[S.WARMUP]!, bins = s[S.BINS]!, hours = S.HOURS;
  const tol = s[S.SPATIAL_TOL]!, fullBits = s[S.FULL_BITS]!, refractory = s[S.REFRACTORY]!;
  const bandSigmas = s[S.BAND_SIGMAS]!, band = bandSigmas * SIGMA_PER_MAE;
  let seen = s[S.SEEN]!, prev = s[S.PREV]!, slope = s[S.SLOPE]!;
  let rangeLo = s[S.RANGE_LO]!, rangeHi = s[S.RANGE_HI]!;
  let reported = s[S.REPORTED]!, age = s[S.AGE]!;
  let level = s[S.LEVEL]!, levelMae = s[S.LEVEL_MAE]!, errLevel = s[S.ERR_LEVEL]!;
  let errProfile = s[S.ERR_PROFILE]!, quantum = s[S.QUANTUM]!;
  let upMean = s[S.UP_MEAN]!, downMean = s[S.DOWN_MEAN]!;
  let lastExpected = s[S.LAST_EXPECTED]!, lastSpread = s[S.LAST_SPREAD]!;
  const runs = st.runs, jumps = st.jumps;
  let run = s[S.RUN]!, incMad = s[S.INC_MAD]!, incMadFast = s[S.INC_MAD_FAST]!;
  let runRate = s[S.RUN_RATE]!, lastAlarm = s[S.LAST_ALARM]!;
  let move1 = s[S.MOVE1]!, move2 = s[S.MOVE2]!; // the classes of the last two moves
  const threshold = s[S.THRESHOLD]!, clear = refractory > 1 ? refractory : 1;
  let alerting = s[S.ALERTING]!, quiet = s[S.QUIET]!, sinceAlarm = s[S.SINCE_ALARM]!;
  let changes = NO_CHANGES;
  let valid = 0, skipped = 0;
  const grids = s[S.GRIDS]!, perGrid = S.CONTEXTS_PER_GRID;
  // Scratch shared by every call, no allocation per frame (_bins.ts: kept for the same state).
  // The scratch arrays as locals: the hot loop reads them per sample, not through the import.
  scratchFor(st);
  const lastKey = LAST_KEY, known = KNOWN, ctx = st.ctx;
  let dayStart = DAY_START[0]!;
  const hourSpan = DAY_US / hours;
  const incW = (2 * INCREMENT_RANGE) / bins;
  // The bins, fixed at the end of the warm-up.
  let lvlLo = s[S.LVL_LO]!, lvlW = s[S.LVL_W]!, slpLo = s[S.SLP_LO]!, slpW = s[S.SLP_W]!;
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    const ti = t[i]!;
    if (!(Math.abs(x) <= VALUE_ABS_MAX) || !Number.isFinite(ti)) {
      skipped++;
      score[i] = 0;
      expected[i] = lastExpected;
      spread[i] = lastSpread;
      continue;
    }
    valid++;
    KEY_TIME[0] = ti; // the time a key this sample inserts is first seen at
    // The hour; the start of the day (an exact multiple of a day) is recomputed only when the
    // time leaves the current day, so a restored state finds the same hour.
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
    lastSpread = band * mae;
    expected[i] = lastExpected;
    spread[i] = lastSpread;

    // Features: slope, the increment against the recent mean absolute increment, the flat run.
    const d = seen === 0 ? 0 : x - prev;
    const ad = d < 0 ? -d : d;
    slope += (d - slope) * SLOPE_ALPHA;
    const z = incMad > 0 ? d / incMad : d === 0 ? 0 : d > 0 ? 1e9 : -1e9;
    // Jumps are measured against the larger of the recent and the very recent volatility, so a
    // calm-to-stressed switch does not read as a run of jumps; on a count, against one count at
    // least (its resolution: a move of 2 counts on a channel that moves by 0.2 is 2 steps).
    const counts = seen > 0 && isCount(x) && isCount(prev);
    let madJ = incMadFast > incMad ? incMadFast : incMad;
    if (madJ < 1 && counts) madJ = 1;
    const zj = madJ > 0 ? d / madJ : d === 0 ? 0 : d > 0 ? 1e9 : -1e9;
    // The increment against the very recent volatility, in increment bins, where that is the
    // larger (NaN otherwise): after a switch to a wilder regime a move new against the recent
    // volatility may be one the channel has seen against the one it has now.
    const incNowU = incMadFast > incMad ? (d / incMadFast + INCREMENT_RANGE) / incW : NaN;
    let runBits = 0;
    if (seen > 0 && ad <= FLAT_TOLERANCE * incMad) {
      run++;
      if (run === 1) runRate = exp; // a run of counts is judged at the rate expected as it began
      // A run as long as few finished runs were: its tail probability, one pseudo-run each side;
      // on a channel whose value often stays put (counts, coarse readings) less FREE_BITS.
      const b = runBin(run);
      if (b >= FLAT_BIN_MIN && seen >= warmup && runs[0]! * FLAT_SHARE_MAX >= 1) {
        runBits = -log2Fast((runs[b]! + 1) / (runs[0]! + 2));
        if (runs[1]! > FLAT_SHARE_MAX * runs[0]!) runBits -= FREE_BITS;
      }
    } else if (seen > 0) {
      // A run ends (of 0 samples when the value moved twice in a row): count the bins it reached.
      for (let b = runBin(run); b >= 0; b--) runs[b] = runs[b]! + 1;
      run = 0;
    }
    // A jump: an increment beyond the increment bins' range scores its tail probability among
    // the channel's samples, one pseudo-count each side, less FREE_BITS.
    let jumpBits = 0;
    const az = zj < 0 ? -zj : zj;
    if (az >= INCREMENT_RANGE && seen > 0) {
      const b = jumpBin(az);
      if (seen >= warmup) jumpBits = -log2Fast((jumps[b]! + 1) / (seen + 2)) - FREE_BITS;
      for (let j = b; j >= 0; j--) jumps[j] = jumps[j]! + 1;
    }
    let out = 0, view: ViewCode = VIEW.none;
    let sumLevel = 0, sumHour = 0, sumSlope = 0, sumInc = 0; // the binned views' bits, summed
    if (seen < warmup) {
      if (x < s[S.LVL_LO]!) s[S.LVL_LO] = x;
      if (x > s[S.LVL_HI]!) s[S.LVL_HI] = x;
      if (slope < s[S.SLP_LO]!) s[S.SLP_LO] = slope;
      if (slope > s[S.SLP_HI]!) s[S.SLP_HI] = slope;
      const warm = S.warmRoom(st, seen);
      warm[3 * seen] = x;
      warm[3 * seen + 1] = slope;
      warm[3 * seen + 2] = hour;
      // Increments have fixed bins: learned as they come.
      for (let g = 0; g < grids; g++) {
        const c = g * perGrid + hours + 2;
        const incBin = binOf(z, -INCREMENT_RANGE, incW, g / grids, bins);
        observe(st, c, keyOf(c, incBin));
        observeMoves(st, g * perGrid, move2, move1, incBin);
      }
      if (seen + 1 === warmup) {
        s[S.LVL_W] = widthOf(s[S.LVL_LO]!, s[S.LVL_HI]!, bins, x);
        s[S.SLP_W] = widthOf(s[S.SLP_LO]!, s[S.SLP_HI]!, bins, slope);
        learnWarmup(st, ti);
        lvlLo = s[S.LVL_LO]!, lvlW = s[S.LVL_W]!, slpLo = s[S.SLP_LO]!, slpW = s[S.SLP_W]!;
      }
    } else {
      let total = 0;
      // Each feature in bin widths (binOf's division, the same for every grid), then per grid
      // its bin: linear, or the tail's through the cache.
      const levelU = (x - lvlLo) / lvlW, slopeU = (slope - slpLo) / slpW;
      const incU = (z + INCREMENT_RANGE) / incW;
      const settling = ti - lastAlarm < SETTLE_US;
      for (let g = 0; g < grids; g++) {
        const shift = g / grids, c = g * perGrid;
        let levelBin = Math.floor(levelU + shift), slopeBin = Math.floor(slopeU + shift);
        let incBin = Math.floor(incU + shift);
        if (!(levelBin >= 0 && levelBin < bins)) levelBin = gridBin(levelBin, bins);
        if (!(slopeBin >= 0 && slopeBin < bins)) slopeBin = gridBin(slopeBin, bins);
        if (!(incBin >= 0 && incBin < bins)) incBin = gridBin(incBin, bins);
        const slot = VIEWS * g;
        // The level view and the hour's: `surprise`'s work inline (a repeated key only counts).
        // A new bin next to one first seen within GROWING_US extends a range still growing.
        const k1 = keyOf(c, levelBin);
        let b1 = 0;
        if (k1 === lastKey[slot]) ctx[2 * c] = ctx[2 * c]! + 1;
        else {
          lastKey[slot] = k1;
          b1 = observe(st, c, k1);
          if (b1 > 0 && neighbourBornAfter(st, c, levelBin, t, i, GROWING_US)) b1 = 0;
        }
        const ch = c + 1 + hour, k2 = keyOf(ch, levelBin);
        let b2 = 0;
        if (k2 === lastKey[slot + 1]) ctx[2 * ch] = ctx[2 * ch]! + 1;
        else {
          lastKey[slot + 1] = k2;
          b2 = observe(st, ch, k2);
        }
        if (b2 > 0 && (settling || neighbourBornAfter(st, ch, levelBin, t, i, GROWING_US))) b2 = 0;
        // The slope's view and the increment's, with the bins known this frame skipping lookups.
        let bits = 0, b4 = 0;
        const cs = c + 1 + hours, ci = cs + 1;
        if (slopeBin >= 0 && slopeBin < bins && known[2 * g * bins + slopeBin] === 1) {
          ctx[2 * cs] = ctx[2 * cs]! + 1;
        } else bits = surpriseKnown(st, slot + 2, cs, slopeBin, bins, 2 * g);
        if (incBin >= 0 && incBin < bins && known[(2 * g + 1) * bins + incBin] === 1) {
          ctx[2 * ci] = ctx[2 * ci]! + 1;
        } else b4 = surpriseKnown(st, slot + 3, ci, incBin, bins, 2 * g + 1);
        // The slope, a smoothed feature like the level, grows its range as the level does.
        if (bits > 0 && neighbourBornAfter(st, cs, slopeBin, t, i, GROWING_US)) bits = 0;
        // A move new to the increments against the recent volatility but, against the very recent
        // one (the jump view's reference), in a linear bin this context has seen is not new: the
        // channel has turned wilder. Only a lookup: the move's own bin is learnt as before.
        if (b4 > 0 && incNowU === incNowU) {
          const nowBin = Math.floor(incNowU + shift);
          if (nowBin >= 0 && nowBin < bins && bornOf(st, keyOf(ci, nowBin)) > -Infinity) b4 = 0;
        }
        // A new move costs the escape of the longest context of moves before it met (_moves.ts).
        const after = observeMoves(st, c, move2, move1, incBin);
        if (b4 > 0 && after >= 0) b4 = after;
        let most = b4 > bits ? b4 : bits;
        if (b1 > most) most = b1;
        if (b2 > most) most = b2;
        if (most > 0) sumLevel += b1, sumHour += b2, sumSlope += bits, sumInc += b4;
        total += most;
      }
      let raw = total / grids;
      if (views !== undefined) view = binnedView(sumLevel, sumHour, sumSlope, sumInc);
      // On a count, the binned views and the range rule are judged against a Poisson count at
      // the expected value too: a new level or move such a count reaches once in a few hundred
      // draws is its spread at that level, not an anomaly. A run of counts is that many repeats
      // of its value: their Poisson probability at the rate as it began caps its tail. Jumps
      // keep their own reference: a spike of a few counts is a jump at any level.
      let countBits = Infinity;
      if (counts && x <= COUNT_REFERENCE_MAX) {
        if (raw > 0 || x > rangeHi || x < rangeLo) {
          countBits = poissonTailBits(x, exp > 0 ? exp : 0) - COUNT_FREE_BITS;
          if (countBits < raw) raw = countBits > 0 ? countBits : 0;
        }
        if (runBits > 0 && runRate === runRate) {
          const cap = run * poissonPointBits(x, runRate > 0 ? runRate : 0) - FREE_BITS;
          if (cap < runBits) runBits = cap > 0 ? cap : 0;
        }
      }
      if (runBits > raw) raw = runBits, view = VIEW.flatRun;
      if (jumpBits > raw) raw = jumpBits, view = VIEW.jump;
      raw /= fullBits;
      if (raw > 1) raw = 1;
      // Beyond the range seen by more than `spatial_tolerance` of it: 1 outright.
      const span = rangeHi - rangeLo > 0 ? rangeHi - rangeLo : lvlW;
      const beyond = x > rangeHi ? x - rangeHi : rangeLo - x;
      if (beyond > tol * span && countBits >= fullBits) raw = 1, view = VIEW.range;
      // Refractory: within the period, only a stronger score than the last reported one passes.
      age++;
      if (raw > (age < refractory ? reported : 0)) {
        out = raw;
        reported = raw;
        age = 0;
      }
    }
    score[i] = out;
    if (views !== undefined && out > 0) views[i] = view;
    // The settling's alarms: incidents at a level the threshold does not move (S.ALARM_LEVEL).
    if (out < S.ALARM_LEVEL) sinceAlarm++;
    else {
      if (sinceAlarm >= clear) lastAlarm = ti;
      sinceAlarm = 0;
    }
    // Incidents, per sample: one opens at a high score, closes after `clear` low ones in a row.
    if (out >= threshold && out > 0) {
      quiet = 0;
      if (alerting === 0) {
        alerting = 1;
        // The view: the binned one is chosen here only, when the column did not ask it already.
        const binned = binnedView(sumLevel, sumHour, sumSlope, sumInc);
        // The finding's band: its σ made honest for paging (_scale.ts), on the side x went.
        const sigmaUp = findingSigma(mae, upMean, quantum);
        const sigmaDown = findingSigma(mae, downMean, quantum);
        changes = addChange(changes, i, true, view !== VIEW.none ? view : binned, {
          spread: bandSigmas * (x >= exp ? sigmaUp : sigmaDown),
        });
        holdReference(s, ti, x, exp, sigmaUp, sigmaDown);
      } else changes = restate(s, changes, i, ti, x, bandSigmas);
    } else if (alerting !== 0) {
      if (++quiet >= clear) {
        alerting = 0;
        quiet = 0;
        changes = addChange(changes, i, false, VIEW.none);
      } else changes = restate(s, changes, i, ti, x, bandSigmas);
    }

    // Learn.
    if (x < rangeLo) rangeLo = x;
    if (x > rangeHi) rangeHi = x;
    if (seen === 0) {
      level = x;
      quantum = decimalQuantum(x);
    } else {
      // The long-run departures, each side's: a plain mean until a span's samples, then
      // LONG_ALPHA's; every departure counts, outliers included (Chebyshev's σ is all of them).
      const r = x - level, a = seen * LONG_ALPHA < 1 ? 1 / seen : LONG_ALPHA;
      upMean += ((r > 0 ? r : 0) - upMean) * a;
      downMean += ((r < 0 ? -r : 0) - downMean) * a;
      const e = r < 0 ? -r : r;
      if (ad > 0 && ad < quantum) quantum = ad;
      errLevel += (e - errLevel) * ERROR_ALPHA;
      levelMae += (e - levelMae) * (seen < 10 ? 1 / (seen + 1) : LEVEL_ALPHA);
      level += (x - level) * LEVEL_ALPHA;
      incMad += (ad - incMad) * (seen < 100 ? 1 / seen : INCREMENT_ALPHA);
      incMadFast += (ad - incMadFast) * (seen < 10 ? 1 / seen : INCREMENT_FAST_ALPHA);
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
    move2 = move1;
    move1 = moveClass(z);
    seen++;
  }
  DAY_START[0] = dayStart;
  s[S.SEEN] = seen;
  s[S.SKIPPED] = s[S.SKIPPED]! + skipped;
  s[S.PREV] = prev;
  s[S.SLOPE] = slope;
  s[S.RANGE_LO] = rangeLo;
  s[S.RANGE_HI] = rangeHi;
  s[S.REPORTED] = reported;
  s[S.AGE] = age;
  s[S.LEVEL] = level;
  s[S.LEVEL_MAE] = levelMae;
  s[S.ERR_LEVEL] = errLevel;
  s[S.ERR_PROFILE] = errProfile;
  s[S.UP_MEAN] = upMean;
  s[S.DOWN_MEAN] = downMean;
  s[S.QUANTUM] = quantum;
  s[S.LAST_EXPECTED] = lastExpected;
  s[S.LAST_SPREAD] = lastSpread;
  s[S.ALERTING] = alerting;
  s[S.QUIET] = quiet;
  s[S.RUN] = run;
  s[S.INC_MAD] = incMad;
  s[S.INC_MAD_FAST] = incMadFast;
  s[S.LAST_ALARM] = lastAlarm;
  s[S.RUN_RATE] = runRate;
  s[S.SINCE_ALARM] = sinceAlarm;
  s[S.MOVE1] = move1, s[S.MOVE2] = move2;
  return { score, expected, spread, changes, valid, skipped, seen };
}

/** `changes` with a restatement of the open finding at sample `i` when it has one (_restate.ts). */
function restate(
  s: Float64Array,
  changes: readonly AnomalyChange[],
  i: number,
  t: number,
  x: number,
  bandSigmas: number,
): readonly AnomalyChange[] {
  const sigma = restatedSigma(s, t, x);
  if (!(sigma > 0)) return changes;
  return addChange(changes, i, true, VIEW.none, {
    spread: bandSigmas * sigma,
    expected: s[S.HELD_EXPECTED]!,
  });
}

/** The anomaly kernel. */
export const anomalyKernel: Kernel<AnomalyState, AnomalyConfig, AnomalyResult> = {
  init: (config) => S.createAnomalyState(config),
  step: stepAnomaly,
  configure(st, config) {
    S.applyLive(st.s, config);
  },
  save: S.saveAnomalyState,
  savesFresh: true,
  loadsCopy: true,
  load: S.loadAnomalyState,
};
