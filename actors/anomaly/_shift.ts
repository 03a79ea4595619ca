/**
 * The anomaly kernel's shift view: a two-sided CUSUM (Page 1954) on the standardized residual of a
 * level-plus-season model, for the lasting changes that no single sample shows (a small level
 * shift, a ramp to a new level inside the levels each hour has seen).
 *
 * The model is additive, Holt–Winters style: a slow level offset (span LEVEL_SPAN samples) plus a
 * season, one bucket per `hour_buckets` of the day for each of DAY_TYPES kinds of day (weekdays,
 * weekends: service metrics dip at weekends, and a season blind to that would read every weekend
 * as a shift). A bucket holds the mean of its past visits less the level offset, its first visit
 * shrunk towards the other kind of day's same hour moved by the two kinds' difference (one day is
 * little evidence, and a weekend bucket is visited two days in seven); a visit is folded in when
 * it ends, so a sample is compared with earlier days only, and a sample whose bucket was never
 * visited is learned, not scored (a channel's first day, its first weekend). The season at a
 * sample is its bucket's mean interpolated towards the nearer neighbour's in time (a steep daily
 * curve is not a staircase), across midnight into the other kind of day where the day changes kind:
 * Friday 23:00 UTC is next to Saturday 00:00, not to Friday 00:00, so the hours around a weekend's
 * start and end meet a blend of both kinds, as a gradual change of load does.
 *
 * The residual is standardized by its long-run standard deviation, estimated by batch means (the
 * mean square of sums over blocks of BLOCK_SAMPLES, over the block length): the spread the
 * CUSUM's sums meet, serial correlation and a season learned from few days included. The CUSUM
 * pair has reference value CUSUM_K (tuned to one-sd shifts), and a residual beyond CLIP_SDS sds
 * moves its sums as one of CLIP_SDS sds does, as it weighs in the scale (a Huber-type CUSUM: a
 * spike is one sample, the jump and range views' to report, not a shift, and its size is not
 * taken for the level's). Its threshold is not fitted but set
 * by an average run length: the view scores log2 of the in-control ARL at its current sum
 * (Siegmund's approximation, ARL(s) = (e^(2kb) − 2kb − 1) / 2k², b = s + 1.166) less
 * log2(ARL_TARGET_SAMPLES), plus the default threshold's 5 bits, so it alarms at an excursion an
 * in-control channel makes once in ARL_TARGET_SAMPLES samples. Real channels are not in control
 * (a season learned from a few days echoes their changes), so the score is also capped by the
 * channel's own record: the tail probability of an excursion this high among the channel's past
 * excursions, less OWN_FREE_BITS (as the jump view does for increments); an accepted shift is
 * counted at its alarm, and so is an excursion refused only for the record's youth (none as high
 * on record): at the sum where it passed the ARL alarm (recordExcursion). An excursion that begins
 * in the hour before or after a change of the kind of day (Friday 23:00 to Saturday 01:00 and
 * Sunday 23:00 to Monday 01:00 UTC: SHIFT_SAMPLE[2]) is judged among those that began there, a
 * record of its own: there the season blends two kinds of day and misses every week (a weekend
 * that begins before midnight), and judged among every excursion those misses were accepted as
 * shifts each weekend. When the score reaches
 * the threshold's 5 bits the change is accepted: the level moves by the recent residuals' mean
 * (span RESTART_LEVEL_N samples: where the channel is now, not the mean shift since the excursion
 * began, which lags a drift still climbing), the level and scale are relearned, and both sums
 * restart, so one shift is one alarm. One incident is one change, too: an excursion that met an
 * incident of the channel open (another view reported the change first) is accepted without a
 * score, so its alarm, often tens of samples later, opens no second incident once the first has
 * closed.
 * Below that the view scores 0: a sum still climbing towards the alarm has decided nothing, and its
 * bits are no rarity of the sample (a CUSUM's sum carries every sample since the excursion began);
 * published, they gave the metrics channels a shoulder of scores at 0.3 to 0.45, rising there
 * about 25 times as often as a price's score.
 *
 * O(1) per sample: a handful of multiply-adds, one exp and two logs only while a sum is large, and
 * at most HIST_BINS counter increments when an excursion ends. The state is one Float64Array
 * (SHIFT_SCALARS slots, then an offset and a visit count per bucket).
 */
import { expFast, log2Fast } from "../math/mod.ts";
import { poissonTailBits } from "./_counts.ts";

// Scalar slots of the shift state.
const LEVEL = 0,
  LEVEL_N = 1,
  LRV = 2,
  BLOCK_SUM = 3,
  BLOCK_N = 4,
  BLOCKS = 5,
  SUM_UP = 6,
  SUM_DOWN = 7,
  N_UP = 8,
  N_DOWN = 9,
  BUCKET = 10,
  ACC_SUM = 11,
  ACC_N = 12,
  EXC_MAX = 13,
  EXCURSIONS = 14,
  PERIOD = 15,
  RECENT = 16,
  HIST = 17;
/** Bins of excursion maxima: half-octaves of the sum from 2 on. */
const HIST_BINS = 16;
/**
 * The record of excursions that began at a change of the kind of day (after the main record's
 * bins): whether the excursion under way began there, their count, their bins.
 */
const EDGE_START = HIST + HIST_BINS,
  EDGE_EXCURSIONS = EDGE_START + 1,
  EDGE_HIST = EDGE_START + 2;
/**
 * 1 while the excursion under way has met an incident of the channel open (after the edge
 * record): its alarm is then that incident's change, accepted without a score of its own.
 */
const REPORTED = EDGE_HIST + HIST_BINS;
/**
 * The sum at which the excursion under way first passed the ARL alarm while its record held no
 * excursion as high (refused for the record's youth alone), 0 if it has not: it is recorded there
 * (recordExcursion).
 */
const UNJUDGED_AT = REPORTED + 1;
/** Scalar slots before the per-bucket pairs (offset, visits). */
export const SHIFT_SCALARS = UNJUDGED_AT + 1;
/** The half-octave bin of an excursion maximum `s` (≥ 2). */
function excBin(s: number): number {
  const b = Math.floor(2 * log2Fast(s / 2));
  return b < HIST_BINS ? b : HIST_BINS - 1;
}

/**
 * Counts an excursion (the sums away from 0 and back, or to an alarm) of maximum `sh[EXC_MAX]` in
 * the record where it began: read from the state, not passed, since a fractional number passed to
 * a call not inlined is allocated at each call. An excursion that passed the ARL alarm
 * while its record held none as high (UNJUDGED_AT) is counted at the sum where it did, not at the
 * height it went on to: there a mature record would have accepted it, as an accepted shift is
 * counted at its alarm. Counted whole, a change a young record could not judge (a channel's first
 * days) became the record's evidence against the channel's next changes of its size, and each
 * change so refused against the next.
 */
function recordExcursion(sh: Float64Array): void {
  const at = sh[UNJUDGED_AT]!;
  if (at > 0 && at < sh[EXC_MAX]!) sh[EXC_MAX] = at;
  sh[UNJUDGED_AT] = 0;
  const m = sh[EXC_MAX]!;
  const count = sh[EDGE_START] === 1 ? EDGE_EXCURSIONS : EXCURSIONS;
  const hist = sh[EDGE_START] === 1 ? EDGE_HIST : HIST;
  sh[count] = sh[count]! + 1;
  if (m >= 2) { for (let j = excBin(m); j >= 0; j--) sh[hist + j] = sh[hist + j]! + 1; }
  sh[EXC_MAX] = 0;
}

/** Span of the slow level, in samples. */
const LEVEL_SPAN = 1000;
/** Samples per block of the batch-means estimate of the residual's long-run variance. */
const BLOCK_SAMPLES = 10;
/**
 * Blocks the long-run variance averages over (an exponential span), and the fewest trusted. The
 * span, 500 samples, is longer than the slow changes the view is for (a ramp over a few hundred
 * samples): a scale that forgot faster would learn such a drift's own residuals as spread and
 * widen as the drift grows (20 blocks did: see actors/anomaly/README.md).
 */
const SCALE_BLOCKS = 50;
const BLOCKS_MIN = 3;
/**
 * A bucket's offset averages its last few visits (weights 1, 1/2, ... down to 1/SEASON_VISITS; from
 * the first, 1/SEASON_VISITS, where the other kind of day's same hour gives a prior: foldVisit).
 */
const SEASON_VISITS = 4;
/**
 * The span of the recent residuals' mean a shift just accepted moves the level by, in samples, and
 * the level's weight on that estimate after the move.
 */
const RESTART_LEVEL_N = 20;
/**
 * Residuals beyond this many long-run sds count as this many in the scale and in the CUSUM's sums
 * (an anomaly's own: one sample moves neither the spread nor the sums by more).
 */
const CLIP_SDS = 4;
/** The CUSUM's reference value, in long-run sds: tuned to shifts of 2 * CUSUM_K = 1 sd. */
const CUSUM_K = 0.5;
/** In-control average run length at which the view alarms (the default threshold's 5 bits). */
export const ARL_TARGET_SAMPLES = 131_072;
const LOG2_ARL_TARGET = 17; // log2(ARL_TARGET_SAMPLES)
const ALARM_BITS = 5;
/** Below this sum the view scores nothing (its ARL is about 2^11 samples there): no exp or log. */
const SUM_MIN = 6;
/**
 * Bits an excursion's tail probability among the channel's own must exceed before it scores: 3,
 * chosen with both NAB-dev halves as the constraint and both bench detect seeds as the objective
 * (see actors/anomaly/README.md).
 */
const OWN_FREE_BITS = 3;

/** A fresh shift state for `hours` buckets per day, each of the DAY_TYPES kinds of day. */
export function createShiftState(hours: number): Float64Array {
  const sh = new Float64Array(SHIFT_SCALARS + 2 * DAY_TYPES * hours);
  sh[BUCKET] = -1;
  sh[PERIOD] = hours;
  return sh;
}

/** The slot of the season bucket of the visit under way (-1 before the first sample). */
export const SHIFT_VISIT = BUCKET;

/** Kinds of day with a season of their own: weekdays, and Saturday and Sunday (UTC). */
export const DAY_TYPES = 2;

/** The shift view's state for people (`troupe replay --inspect`). */
export function describeShift(sh: Float64Array): Record<string, number> {
  let visited = 0;
  for (let o = SHIFT_SCALARS + 1; o < sh.length; o += 2) if (sh[o]! > 0) visited++;
  return {
    level_offset: sh[LEVEL]!,
    long_run_sd: Math.sqrt(sh[LRV]!),
    cusum_up: sh[SUM_UP]!,
    cusum_down: sh[SUM_DOWN]!,
    excursions: sh[EXCURSIONS]!,
    edge_excursions: sh[EDGE_EXCURSIONS]!,
    buckets_visited: visited,
    buckets: shiftBuckets(sh),
  };
}

/** Season buckets of a shift state (DAY_TYPES times the hour buckets). */
export function shiftBuckets(sh: Float64Array): number {
  return (sh.length - SHIFT_SCALARS) / 2;
}

/**
 * Folds the visit just ended (its mean less the level offset, from ACC_SUM and ACC_N: read here,
 * not passed, as recordExcursion's maximum is) into bucket `b`. A bucket's offset averages its
 * visits, each weighing at most 1/SEASON_VISITS once the bucket is settled; its second slot counts
 * them. A first visit weighs no more than that either when the same hour of the other kind of day
 * has been visited: that hour, moved by how the two kinds differ (priorOf), stands in for the
 * bucket's missing past (SEASON_VISITS - 1 visits), and the bucket's own visits replace it as
 * they come. A first visit is one day, and a weekend bucket is visited two days in seven: taken
 * alone, a first visit inside a lasting change (a level the slow level had not caught up with)
 * stood for weeks, and each weekend after it kicked the level with a false shift and the bucket,
 * learnt against the kicked level, kept its error.
 */
function foldVisit(sh: Float64Array, b: number): void {
  const m = sh[ACC_SUM]! / sh[ACC_N]!;
  const o = SHIFT_SCALARS + 2 * b;
  const seen = sh[o + 1]!;
  if (seen > 0) {
    const visits = seen + 1;
    const w = visits < SEASON_VISITS ? 1 / visits : 1 / SEASON_VISITS;
    sh[o] = sh[o]! + (m - sh[o]!) * w;
    sh[o + 1] = visits;
    return;
  }
  const prior = priorOf(sh, b);
  if (prior === prior) {
    sh[o] = prior + (m - prior) / SEASON_VISITS;
    sh[o + 1] = SEASON_VISITS;
  } else {
    sh[o] = m;
    sh[o + 1] = 1;
  }
}

/**
 * What unvisited bucket `b` is expected to hold: the other kind of day's same hour, moved by the
 * mean difference between the two kinds at the hours both have visited (a weekend's dip); NaN
 * when the other kind has not visited that hour. O(hours), on a bucket's first visit only.
 */
function priorOf(sh: Float64Array, b: number): number {
  const hours = sh[PERIOD]!;
  const own = b >= hours ? hours : 0, other = hours - own;
  const base = SHIFT_SCALARS + 2 * (other + b - own);
  if (!(sh[base + 1]! > 0)) return NaN;
  let diff = 0, n = 0;
  for (let h = 0; h < hours; h++) {
    const x = SHIFT_SCALARS + 2 * (own + h), y = SHIFT_SCALARS + 2 * (other + h);
    if (sh[x + 1]! > 0 && sh[y + 1]! > 0) {
      diff += sh[x]! - sh[y]!;
      n++;
    }
  }
  return n > 0 ? sh[base]! + diff / n : sh[base]!;
}

/**
 * At each scored sample, with `moving` whether the sums are away from 0 now (their values in the
 * state are still the last sample's): an excursion that ends is recorded, and one that begins
 * notes where (SHIFT_SAMPLE[2]), for the record it is judged among (see the module comment). An
 * excursion notes too whether an incident of the channel was open at any of its samples
 * (SHIFT_SAMPLE[3]).
 */
function noteExcursion(sh: Float64Array, moving: boolean): void {
  if (!moving) {
    if (sh[EXC_MAX]! > 0) recordExcursion(sh);
    return;
  }
  const open = SHIFT_SAMPLE[3]!;
  if (sh[SUM_UP] === 0 && sh[SUM_DOWN] === 0) {
    sh[EDGE_START] = SHIFT_SAMPLE[2]!;
    sh[REPORTED] = open;
  } else if (open === 1) sh[REPORTED] = 1;
}

/**
 * The cap's bits at sum `s`: the tail probability of an excursion this high among the record the
 * one under way began in, with one pseudo-excursion each side, less OWN_FREE_BITS. With none as
 * high on record, a cap under the alarm is the record's youth alone (below about 2^8 excursions):
 * the first sum so capped past the ARL alarm (`passed`) is noted (UNJUDGED_AT), and the excursion
 * is counted there.
 */
function ownBits(sh: Float64Array, s: number, passed: boolean): number {
  const edge = sh[EDGE_START] === 1;
  const seen = sh[edge ? EDGE_EXCURSIONS : EXCURSIONS]!;
  const higher = sh[(edge ? EDGE_HIST : HIST) + excBin(s)]!;
  const bits = -log2Fast((higher + 1) / (seen + 2)) - OWN_FREE_BITS;
  if (passed && higher === 0 && bits < ALARM_BITS && sh[UNJUDGED_AT] === 0) sh[UNJUDGED_AT] = s;
  return bits;
}

/** log2 of the two-sided CUSUM's in-control ARL at sum `s` (Siegmund), less the target's bits. */
function excessBits(s: number): number {
  const b2k = 2 * CUSUM_K * (s + 1.166);
  const arl = (expFast(b2k) - b2k - 1) / (2 * CUSUM_K * CUSUM_K);
  return log2Fast(arl) - LOG2_ARL_TARGET;
}

/**
 * 1 in the hour before or after a change of the kind of day (Friday 23:00 to Saturday 01:00 and
 * Sunday 23:00 to Monday 01:00 UTC), else 0: `weekDay` counts days from Thursday 1 January 1970
 * (2 is Saturday, 3 Sunday), `hour` is the hour bucket of `hours`.
 */
export function kindEdge(weekDay: number, hour: number, hours: number): number {
  if (hour === 0) return weekDay === 2 || weekDay === 4 ? 1 : 0;
  return hour === hours - 1 && (weekDay === 1 || weekDay === 3) ? 1 : 0;
}

/**
 * `stepShift`'s sample: [0] its value `x`, [1] `frac`, its position in its bucket, [2] 1 in the
 * hour before or after a change of the kind of day, else 0, [3] 1 while an incident of the
 * channel is open (as the sample before left it), else 0. Written by the caller right before
 * each call and read at its start (scratch, no state). Not arguments: the
 * kernel's step is too large for the optimizer to inline the call, and a fractional number passed
 * to a call that is not inlined is a heap number, allocated at each call (32 bytes a sample, issue
 * 33); a typed array's slots need none.
 */
export const SHIFT_SAMPLE = new Float64Array(4);

/**
 * Folds sample `x` (SHIFT_SAMPLE[0]) into the shift state: `b` is its time-of-week bucket, `frac`
 * (SHIFT_SAMPLE[1]) its position in it (0 at the bucket's start, 1 at its end) and `near` the
 * bucket next to it in time on the side of `frac` (the previous hour's before the middle, the next
 * hour's after it, of whatever kind of day that hour is). Returns the view's bits (0 when it is
 * not scored: `scored` false, an unvisited bucket, a scale not yet trusted, a sum below the
 * alarm).
 */
export function stepShift(sh: Float64Array, b: number, scored: boolean, near: number): number {
  const x = SHIFT_SAMPLE[0]!, frac = SHIFT_SAMPLE[1]!;
  const cur = sh[BUCKET]!;
  if (b !== cur) {
    // A visit ends: fold its mean (less the level offset) into its bucket.
    if (cur >= 0 && sh[ACC_N]! > 0) foldVisit(sh, cur);
    sh[BUCKET] = b;
    sh[ACC_SUM] = 0;
    sh[ACC_N] = 0;
  }
  const o = SHIFT_SCALARS + 2 * b;
  const level = sh[LEVEL]!;
  if (!(sh[o + 1]! > 0)) {
    // A bucket never visited: learn it, score nothing.
    sh[ACC_SUM] = sh[ACC_SUM]! + (x - level);
    sh[ACC_N] = sh[ACC_N]! + 1;
    return 0;
  }
  const season = seasonAt(sh, o, near, frac);
  const e = x - level - season;
  const sd = Math.sqrt(sh[LRV]!);
  learnRecent(sh, e, sd);
  let bits = 0, shift = 0, accepted = false;
  if (!scored || sh[BLOCKS]! < BLOCKS_MIN || !(sd > 0)) {
    sh[SUM_UP] =
      sh[SUM_DOWN] =
      sh[N_UP] =
      sh[N_DOWN] =
        0;
  } else {
    // A residual clipped at CLIP_SDS sds: unclipped, a spike of 20 sds took a sum to 19.5 at once,
    // was accepted as a shift of its own size when its record allowed, and otherwise entered the
    // record as an excursion as high as a change's, capping the next drift.
    const limit = CLIP_SDS * sd;
    const z = (e > limit ? limit : e < -limit ? -limit : e) / sd;
    let up = sh[SUM_UP]! + z - CUSUM_K, down = sh[SUM_DOWN]! - z - CUSUM_K;
    let nUp = up > 0 ? sh[N_UP]! + 1 : 0, nDown = down > 0 ? sh[N_DOWN]! + 1 : 0;
    if (up < 0) up = 0;
    if (down < 0) down = 0;
    const s = up > down ? up : down;
    if (s > sh[EXC_MAX]!) sh[EXC_MAX] = s;
    noteExcursion(sh, s > 0);
    if (s > SUM_MIN) {
      bits = excessBits(s) + ALARM_BITS;
      const own = ownBits(sh, s, bits >= ALARM_BITS);
      if (own < bits) bits = own;
      if (bits >= ALARM_BITS) {
        sh[EXC_MAX] = s; // an alarm ends the excursion at its sum now
        recordExcursion(sh);
        // Accepted: the level moves to where the channel is now (learnRecent); both sums restart.
        shift = sh[RECENT]!;
        accepted = true;
        up =
          down =
          nUp =
          nDown =
            0;
      }
      // Below its alarm the view has decided nothing: a sum still climbing is no rarity of this
      // sample, and scoring it let a threshold under 0.5 see ~20x more rises on a metrics channel
      // than on a price.
      if (bits < ALARM_BITS) bits = 0;
    }
    sh[SUM_UP] = up;
    sh[SUM_DOWN] = down;
    sh[N_UP] = nUp;
    sh[N_DOWN] = nDown;
  }
  if (accepted) return restartAfterShift(sh, level + shift) ? 0 : bits;
  learnScale(sh, e, sd);
  learnLevel(sh, x, level, e);
  return bits;
}

/**
 * The season at position `frac` of the bucket whose offset is at slot `o`: the bucket's mean,
 * interpolated towards the nearer neighbour's in time, bucket `near` (a bucket's mean stands for
 * its middle; a steep daily curve is not a staircase).
 */
function seasonAt(sh: Float64Array, o: number, near: number, frac: number): number {
  const d = frac - 0.5;
  const on = SHIFT_SCALARS + 2 * near;
  return sh[on + 1]! > 0 ? sh[o]! + (sh[on]! - sh[o]!) * (d >= 0 ? d : -d) : sh[o]!;
}

/**
 * The rate a run of counts is judged at (kernel.ts): `otherwise` (the time-of-day forecast as the
 * run began), or what the model expects at bucket `b` (position `frac`, neighbour `near`, as
 * `stepShift` takes them; at least 0) where that is lower and the bucket has been visited. The
 * forecast's hour mixes weekdays and weekends; the season tells them apart, and a run of zeros on a
 * Saturday night would be capped as if at a weekday's rate (on the metrics feed most of the
 * errors channels' flat-run false events fell on a Saturday or a Sunday). A run is no
 * rarity where either finds it ordinary.
 */
export function seasonRate(
  sh: Float64Array,
  b: number,
  near: number,
  frac: number,
  otherwise: number,
): number {
  const o = SHIFT_SCALARS + 2 * b;
  if (!(sh[o + 1]! > 0)) return otherwise;
  const r = sh[LEVEL]! + seasonAt(sh, o, near, frac);
  return r < otherwise ? (r > 0 ? r : 0) : otherwise;
}

/**
 * -log2 of count `x`'s Poisson tail at the time-of-day forecast `expected`, or at what the model
 * expects at bucket `b` (as `seasonRate` takes it) where that makes `x` less improbable: a count
 * is no rarity where either forecast finds it ordinary (the forecast's hour mixes weekdays and
 * weekends, so a weekday's count would be judged at a rate the weekends had lowered).
 */
export function seasonTailBits(
  sh: Float64Array,
  b: number,
  near: number,
  frac: number,
  x: number,
  expected: number,
): number {
  const bits = poissonTailBits(x, expected > 0 ? expected : 0);
  const o = SHIFT_SCALARS + 2 * b;
  if (!(sh[o + 1]! > 0)) return bits;
  const r = sh[LEVEL]! + seasonAt(sh, o, near, frac);
  const other = poissonTailBits(x, r > 0 ? r : 0);
  return other < bits ? other : bits;
}

/**
 * Learns the recent residuals' mean (span RESTART_LEVEL_N samples; residuals clipped at CLIP_SDS
 * sds once the scale is trusted, as the sums' are): where the channel is now against the model,
 * what an accepted shift moves the level by. Not the CUSUM's estimate of the mean shift since the
 * excursion began (k + s / n sds), which under a drift still climbing lags the channel by about
 * half the climb, left to the slow level to catch up over a day.
 */
function learnRecent(sh: Float64Array, e: number, sd: number): void {
  let ec = e;
  if (sh[BLOCKS]! >= BLOCKS_MIN && sd > 0) {
    const limit = CLIP_SDS * sd;
    ec = e > limit ? limit : e < -limit ? -limit : e;
  }
  sh[RECENT] = sh[RECENT]! + (ec - sh[RECENT]!) / RESTART_LEVEL_N;
}

/**
 * After an accepted shift the level is relearned quickly (the average since the alarm, with
 * RESTART_LEVEL_N samples' weight on the estimate) and the scale afresh: after a shift, the spread
 * may differ too. Returns whether the excursion met an incident open (REPORTED): then the change
 * is that incident's, already reported, and the alarm scores nothing (a level shift the jump view
 * opened an incident on was accepted here tens of samples later and, scored, opened a second
 * once the first had closed).
 */
function restartAfterShift(sh: Float64Array, level: number): boolean {
  const reported = sh[REPORTED] === 1;
  sh[LEVEL] = level;
  sh[LEVEL_N] = RESTART_LEVEL_N;
  sh[RECENT] = 0; // the recent residuals, against the level just set
  sh[REPORTED] = 0;
  sh[LRV] =
    sh[BLOCK_SUM] =
    sh[BLOCK_N] =
    sh[BLOCKS] =
      0;
  return reported;
}

/**
 * The residual's long-run variance by batch means: the mean square of block sums over the block
 * length (residuals clipped at CLIP_SDS sds once the scale is trusted: an anomaly does not widen
 * it). It is the variance the CUSUM's sums see, serial correlation and a season learned from few
 * weeks included.
 */
function learnScale(sh: Float64Array, e: number, sd: number): void {
  let ec = e;
  if (sh[BLOCKS]! >= BLOCKS_MIN) {
    const limit = CLIP_SDS * sd;
    ec = e > limit ? limit : e < -limit ? -limit : e;
  }
  const bn = sh[BLOCK_N]! + 1;
  const bs = sh[BLOCK_SUM]! + ec;
  if (bn >= BLOCK_SAMPLES) {
    const blocks = sh[BLOCKS]! + 1;
    const w = blocks < SCALE_BLOCKS ? 1 / blocks : 1 / SCALE_BLOCKS;
    sh[LRV] = sh[LRV]! + ((bs * bs) / BLOCK_SAMPLES - sh[LRV]!) * w;
    sh[BLOCKS] = blocks;
    sh[BLOCK_SUM] = 0;
    sh[BLOCK_N] = 0;
  } else {
    sh[BLOCK_SUM] = bs;
    sh[BLOCK_N] = bn;
  }
}

/**
 * Learns the level offset from residual `e` (of a level that was `level`); the visit's mean only
 * once the scale is trusted (the samples just after a shift are the new level's, not the bucket's
 * usual value).
 */
function learnLevel(sh: Float64Array, x: number, level: number, e: number): void {
  const ln = sh[LEVEL_N]!;
  const la = ln < LEVEL_SPAN ? 1 / (ln + 1) : 1 / LEVEL_SPAN;
  sh[LEVEL] = level + e * la;
  sh[LEVEL_N] = ln + 1;
  if (sh[BLOCKS]! >= BLOCKS_MIN) {
    sh[ACC_SUM] = sh[ACC_SUM]! + (x - level);
    sh[ACC_N] = sh[ACC_N]! + 1;
  }
}
