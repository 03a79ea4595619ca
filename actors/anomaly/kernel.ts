/**
 * The anomaly kernel: scores each sample of a channel in [0, 1] from the past alone, in constant
 * time and bounded memory, and gives the expected value and a prediction band the dashboard draws.
 *
 * The score asks "has this channel ever looked like this?" in several views, and answers with the
 * surprise of a novelty under a Witten–Bell escape estimate:
 * - level: the value's bin;
 * - level at this hour of the day (UTC), where the day has a season (_season.ts): its bin there;
 * - slope: the bin of the exponentially weighted first difference;
 * - increment: the bin of the sample-to-sample change over the channel's recent mean absolute
 *   change (a jump, measured against the channel's current volatility); a move new there is not
 *   new where, against the very recent mean absolute change when larger, its linear bin is known;
 * - flat run: how long the value has stayed put (within FLAT_TOLERANCE of the mean absolute
 *   change), so a frozen exporter is seen: a run of 7 samples or more scores the tail probability
 *   of runs that long among the channel's finished runs, -log2((longer + 1) / (runs + 2)) bits,
 *   less 5 on a channel where more than 1% of runs last a sample or more (counts, coarse
 *   readings: runs there are ordinary, and only one longer than 1 run in 1,024 scores);
 * - jump: an increment beyond the increment bins' range (measured against the larger of the recent
 *   and the very recent mean absolute change, so a switch to a wilder regime is not a run of
 *   jumps, and on a count channel against one count at least, its resolution) scores the tail
 *   probability of increments that large among all the channel's samples,
 *   -log2((larger + 1) / (samples + 2)) bits less 5 (so a jump alarms when fewer than about one
 *   sample in 1,024 has moved as far): a tail probability, not a novelty, so a channel's second
 *   jump of similar size is found too, and a channel that jumps often learns that it does;
 * - shift (_shift.ts, whose comment gives its threshold and records): a two-sided CUSUM on the
 *   residual of a slow level plus a season per hour of weekdays and of weekends, for lasting
 *   changes no single sample shows (a small level shift, a ramp inside known levels); not scored
 *   on random walks, and scoring only when it alarms (its 5 bits or more).
 * - count reference (_counts.ts): on a sample that is a count (it and the last one non-negative
 *   integers), the binned views' surprise and the range rule are also capped by the Poisson tail
 *   of the value at the expected value or at the shift view's season per kind of day, whichever
 *   finds it less improbable, less 5 bits: a count's spread follows its level, so a value new to
 *   the bins that a count at that level draws once in a few hundred samples is not an anomaly; a
 *   flat run of counts is capped by the Poisson probability of its repeats at the lower of the
 *   two rates as it began, less 5 bits (zeros for half an hour where a few a day are expected are
 *   no frozen counter); jumps and the shift view keep their own references.
 * Bins are fixed after the warm-up: `bins` across the warm-up range, then wider bins beyond it
 * (`tail_bins_per_octave` per doubling of the distance), so a far excursion is one novelty, not
 * many; increments have fixed bins over ±6 mean absolute changes. A pair (context, bin) never seen
 * before is a novelty; in a context that has seen N samples fall into D distinct bins, its surprise
 * is -log2((D + 1) / (N + D + 1)) bits: a settled context that rarely meets anything new is
 * surprised a lot, a context still exploring hardly at all. There are `grids` such binnings, each
 * shifted by 1/grids of a bin from the last, each with its own contexts; a grid's surprise is the
 * largest over its views, the grids' average is the binned surprise (averaged shifted histograms),
 * and the sample's surprise is the largest of it, the flat run's, the jump's and the shift's
 * (bits of a rare event). The raw score is that surprise divided by `full_score_bits` (capped at
 * 1), and 1 when the value leaves the range seen so far by more than `spatial_tolerance` of that
 * range (HTM's spatial anomaly rule in its NAB detector).
 * Calibration (_calibration.ts): the published score is the raw score capped by how often the
 * channel's own raw scores have recently risen that high (an empirical tail over a span of 8,192
 * samples), so that no channel rises to a threshold
 * more often than the threshold claims.
 *
 * Lasting changes are reported once, not again and again: a range still growing (a neighbouring
 * bin first met less than a week ago) is no news; a level bin first seen less than `settle_hours`
 * ago is not new at any hour; after an alarm, time-of-day novelties wait `settle_hours` and the
 * range rule gives way to the views; a channel that wanders like a random walk (WALK_RATIO, judged
 * at its age: _walk.ts) is scored by its increments, slope and flat runs only.
 * actors/anomaly/README.md ("Lasting changes are reported once") is where each rule and its reason
 * are written, once.
 * A refractory period then reports a score only if it beats every score reported in the last
 * `refractory_samples` samples, so one incident makes one peak.
 *
 * Incidents are decided here, per sample, so that framing never changes one: an incident opens at
 * a sample scoring at or above `threshold` while none is open, and closes at the `clear_samples`-th
 * valid sample in a row below it; the frame's result lists every opening and closing in order.
 *
 * The expected value is the better, by recent mean absolute error, of an exponentially weighted
 * level and a time-of-day profile; the band is it ± `band_sigmas` standard deviations estimated
 * from that predictor's absolute errors.
 *
 * Bad input: a sample whose value or time is not finite, or whose value exceeds 1e100 in size, is
 * skipped and counted (`skipped`): it scores 0, repeats the expected value and band of the last
 * valid sample (0 before any), and changes no state but the counter. Gaps and repeated timestamps
 * need nothing special (slope is per sample, the time of day per timestamp). A constant series gets
 * bins of width 1e-3 of its value (1e-9 at zero), so any departure is a novelty; its one endless
 * run is never compared with anything. A series that starts with a spike has that spike in its
 * warm-up range: bins are coarser, and the spike counts as seen.
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import { log2Fast } from "../math/mod.ts";
import type { AnomalyConfig } from "./config.ts";
import {
  binOf,
  CALL,
  GRID_SHIFT,
  INCREMENT_RANGE,
  jumpBin,
  KNOWN,
  LAST_BORN_OF,
  LAST_KEY,
  learnWarmup,
  runBin,
  surprise,
  surpriseKnown,
  tailBinCached,
  useTailCache,
  VIEWS,
  widthOf,
} from "./_bins.ts";
import { bornOf, KEY_TIME, keyOf, LAST_BORN, neighbourBornAfter, observe } from "./_table.ts";
import { kindEdge, seasonRate, seasonTailBits, SHIFT_SAMPLE, SHIFT_VISIT } from "./_shift.ts";
import { stepShift } from "./_shift.ts";
import { seasonless } from "./_season.ts";
import { calibrate } from "./_calibration.ts";
import { WALK_ALPHA, WALK_LEAVE, walkYoungShare } from "./_walk.ts";
import { COUNT_FREE_BITS, COUNT_REFERENCE_MAX, isCount, poissonPointBits } from "./_counts.ts";
import { addChange, type AnomalyResult, NO_CHANGES, resultColumns } from "./_result.ts";
import * as S from "./_state.ts";
import { binnedView, clearViews, keepViewBits, VIEW, type ViewCode } from "./_views.ts";

type AnomalyState = S.AnomalyState;

/** Values beyond this size are skipped: they would overflow the running sums. */
export const VALUE_ABS_MAX = 1e100;
const DAY_US = 86_400_000_000;
/**
 * A level or time-of-day novelty next to a bin its context first met less than this long ago
 * (a week: the longest season the kernel knows, the weekly one of the shift view) is not scored:
 * see the module comment.
 */
const GROWING_US = 7 * DAY_US;
const SIGMA_PER_MAE = 1.2533141373155003; // sqrt(pi / 2): sigma over mean absolute error, Gaussian
const LEVEL_ALPHA = 0.1;
const ERROR_ALPHA = 0.02;
const PROFILE_ALPHA_MIN = 0.1;
const PROFILE_SHRINK = 3;
/** Weight of the latest increment in its mean absolute value and mean square (span 100). */
const INCREMENT_ALPHA = 0.01;
/** Weight of the latest increment in the very recent mean absolute increment (span 10). */
const INCREMENT_FAST_ALPHA = 0.1;
/** The flat-run view scores channels whose value stayed put in at most this share of samples. */
const FLAT_SHARE_MAX = 0.01;
/** Bits a run's tail probability must exceed on a channel whose value often stays put. */
const FLAT_FREE_BITS = 5;
/** Flat runs score from this bin on (3: runs of 7 samples or more). */
const FLAT_BIN_MIN = 3;
/** Bits a jump's tail probability must exceed before it scores (see the module comment). */
const JUMP_FREE_BITS = 5;
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
  const warmup = s[S.WARMUP]!, bins = s[S.BINS]!, perOctave = s[S.TAIL_PER_OCTAVE]!;
  const hours = s[S.HOURS]!, slopeAlpha = 1 / s[S.SLOPE_SPAN]!;
  const tol = s[S.SPATIAL_TOL]!, fullBits = s[S.FULL_BITS]!, refractory = s[S.REFRACTORY]!;
  const band = s[S.BAND_SIGMAS]! * SIGMA_PER_MAE;
  const settleUs = s[S.SETTLE_US]!, flatTol = s[S.FLAT_TOL]!, walkThreshold = s[S.WALK_THRESHOLD]!;
  let seen = s[S.SEEN]!, prev = s[S.PREV]!, slope = s[S.SLOPE]!;
  let rangeLo = s[S.RANGE_LO]!, rangeHi = s[S.RANGE_HI]!;
  let reported = s[S.REPORTED]!, age = s[S.AGE]!;
  let level = s[S.LEVEL]!, levelMae = s[S.LEVEL_MAE]!, errLevel = s[S.ERR_LEVEL]!;
  let errProfile = s[S.ERR_PROFILE]!;
  let lastExpected = s[S.LAST_EXPECTED]!, lastSpread = s[S.LAST_SPREAD]!;
  const runs = st.runs, jumps = st.jumps, calib = st.calib;
  let run = s[S.RUN]!,
    incMad = s[S.INC_MAD]!,
    incMadFast = s[S.INC_MAD_FAST]!,
    incSq = s[S.INC_SQ]!,
    incSqSlow = s[S.INC_SQ_SLOW]!;
  let walkMean = s[S.WALK_MEAN]!, walkVar = s[S.WALK_VAR]!;
  let walkOn = s[S.WALK_ON]!, runRate = s[S.RUN_RATE]!;
  let lastAlarm = s[S.LAST_ALARM]!, lastAlarmSize = s[S.LAST_ALARM_SIZE]!;
  const threshold = s[S.THRESHOLD]!, clear = s[S.CLEAR]!;
  let alerting = s[S.ALERTING]!, quiet = s[S.QUIET]!, sinceAlarm = s[S.SINCE_ALARM]!;
  let changes = NO_CHANGES;
  let valid = 0, skipped = 0;
  const grids = s[S.GRIDS]!, perGrid = S.contextsPerGrid(hours);
  // Scratch shared by every call (reset here, so no state carries over): no allocation per frame.
  // The scratch arrays as locals: the hot loop reads them per sample, not through the import.
  const lastKey = LAST_KEY, lastBornOf = LAST_BORN_OF;
  lastKey.fill(-1, 0, VIEWS * grids);
  CALL[0] = CALL[0]! + 1; // wraps to 0 after 2^32 calls: start the stamps afresh
  if (CALL[0] === 0) {
    KNOWN.fill(0);
    CALL[0] = 1;
  }
  const known = bins <= 4096, stamp = CALL[0]!, ctx = st.ctx;
  // Each grid's shift in bins, g / grids: divided once per frame, not per sample.
  const gridShift = GRID_SHIFT;
  for (let g = 0; g < grids; g++) gridShift[g] = g / grids;
  useTailCache(bins, perOctave);
  let dayStart = Infinity, weekDay = 0;
  const shift = st.shift;
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
    // The hour bucket; the start of the day (an exact multiple of a day) is recomputed only
    // when the time leaves the current day, so a restored state finds the same bucket.
    let sinceDay = ti - dayStart;
    if (!(sinceDay >= 0 && sinceDay < DAY_US)) {
      dayStart = ti - (((ti % DAY_US) + DAY_US) % DAY_US);
      sinceDay = ti - dayStart;
      weekDay = (((dayStart / DAY_US) % 7) + 7) % 7;
    }
    const hourPos = sinceDay / hourSpan;
    let hour = Math.floor(hourPos);
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

    // The shift view's bucket: the hour of a weekday, or of a weekend day (week days count from
    // Thursday 1 January 1970: 2 is Saturday, 3 Sunday); and the bucket next to it in time on
    // the side of the sample's position in its hour, of the kind of day that hour is on (after
    // 23:00 on Friday comes Saturday's 00:00).
    const weekBucket = (weekDay === 2 || weekDay === 3 ? hours : 0) + hour;
    const frac = hourPos - hour;
    const nearBucket = frac >= 0.5
      ? (hour + 1 < hours ? weekBucket + 1 : weekDay === 1 || weekDay === 2 ? hours : 0)
      : (hour > 0 ? weekBucket - 1 : (weekDay === 3 || weekDay === 4 ? hours : 0) + hours - 1);
    // Features: slope, the increment against the recent mean absolute increment, the flat run.
    const d = seen === 0 ? 0 : x - prev;
    const ad = d < 0 ? -d : d;
    slope += (d - slope) * slopeAlpha;
    const z = incMad > 0 ? d / incMad : d === 0 ? 0 : d > 0 ? 1e9 : -1e9;
    // Jumps are measured against the larger of the recent and the very recent volatility, so a
    // calm-to-stressed switch does not read as a run of jumps.
    // On a count (both values non-negative integers) a jump is measured in counts at least: a
    // channel of errors at night moves by less than one count on average, and a move of 2 or 3
    // counts is 2 or 3 steps of its resolution, not 8 to 12 of its mean absolute changes.
    const counts = seen > 0 && isCount(x) && isCount(prev);
    let madJ = incMadFast > incMad ? incMadFast : incMad;
    if (madJ < 1 && counts) madJ = 1;
    const zj = madJ > 0 ? d / madJ : d === 0 ? 0 : d > 0 ? 1e9 : -1e9;
    // The increment against the very recent volatility, in increment bins, where that is the
    // larger (NaN otherwise): after a switch to a wilder regime a move new against the recent
    // volatility may be one the channel has seen against the one it has now.
    const incNowU = incMadFast > incMad ? (d / incMadFast + INCREMENT_RANGE) / incW : NaN;
    const flat = seen > 0 && ad <= flatTol * incMad;
    let runBits = 0;
    if (flat) {
      run++;
      // The rate a run of counts is judged at: the value expected as it began (later ones follow
      // the run itself), or what the shift view's season per kind of day expects if lower.
      if (run === 1) runRate = seasonRate(shift, weekBucket, nearBucket, frac, exp);
      // A run as long as few finished runs of the past were: its tail probability, with one
      // pseudo-run each side, in bits; on a channel whose value often stays put (more than
      // FLAT_SHARE_MAX of its runs: counts, coarse readings), less FLAT_FREE_BITS, so a run
      // scores where fewer than one run in 1,024 lasted as long; fewer than 1 / FLAT_SHARE_MAX
      // finished runs cannot tell.
      const b = runBin(run);
      if (b >= FLAT_BIN_MIN && seen >= warmup && runs[0]! * FLAT_SHARE_MAX >= 1) {
        runBits = -log2Fast((runs[b]! + 1) / (runs[0]! + 2));
        if (runs[1]! > FLAT_SHARE_MAX * runs[0]!) runBits -= FLAT_FREE_BITS;
      }
    } else if (seen > 0) {
      // A run ends (of 0 samples when the value moved twice in a row): count the bins it reached.
      for (let b = runBin(run); b >= 0; b--) runs[b] = runs[b]! + 1;
      run = 0;
    }
    // A jump: an increment beyond the increment bins' range scores its tail probability among
    // the channel's increments, with one pseudo-count each side, less JUMP_FREE_BITS.
    let jumpBits = 0;
    const az = zj < 0 ? -zj : zj;
    if (az >= INCREMENT_RANGE && seen > 0) {
      const b = jumpBin(az);
      if (seen >= warmup) jumpBits = -log2Fast((jumps[b]! + 1) / (seen + 2)) - JUMP_FREE_BITS;
      for (let j = b; j >= 0; j--) jumps[j] = jumps[j]! + 1;
    }
    let out = 0, view: ViewCode = VIEW.none, kept = 0; // kept: the grids with bits, a bit each
    // A new day's first visit (its hour not past the last visit's): has the day a season?
    const visit = shift[SHIFT_VISIT]!;
    if (weekBucket !== visit && hour <= visit % hours) s[S.NO_SEASON] = seasonless(shift, profile);
    if (seen < warmup) {
      SHIFT_SAMPLE[0] = x;
      SHIFT_SAMPLE[1] = frac;
      stepShift(shift, weekBucket, false, nearBucket);
      if (x < s[S.LVL_LO]!) s[S.LVL_LO] = x;
      if (x > s[S.LVL_HI]!) s[S.LVL_HI] = x;
      if (slope < s[S.SLP_LO]!) s[S.SLP_LO] = slope;
      if (slope > s[S.SLP_HI]!) s[S.SLP_HI] = slope;
      const warm = st.warm;
      warm[3 * seen] = x;
      warm[3 * seen + 1] = slope;
      warm[3 * seen + 2] = hour;
      // Increments have fixed bins: learned as they come.
      for (let g = 0; g < grids; g++) {
        const c = g * perGrid + hours + 2;
        observe(st, c, keyOf(c, binOf(z, -INCREMENT_RANGE, incW, g / grids, bins, perOctave)));
      }
      if (seen + 1 === warmup) {
        s[S.LVL_W] = widthOf(s[S.LVL_LO]!, s[S.LVL_HI]!, bins, x);
        s[S.SLP_W] = widthOf(s[S.SLP_LO]!, s[S.SLP_HI]!, bins, slope);
        learnWarmup(st, ti);
        lvlLo = s[S.LVL_LO]!, lvlW = s[S.LVL_W]!, slpLo = s[S.SLP_LO]!, slpW = s[S.SLP_W]!;
      }
    } else {
      // A random walk is scored without its level views: the test and its reasons in _walk.ts.
      const stepSq = incSqSlow < incSq ? incSqSlow : incSq;
      const walk = walkThreshold > 0 &&
        walkVar * 2 * WALK_ALPHA >
          walkYoungShare(seen) * (walkOn !== 0 ? WALK_LEAVE : 1) * walkThreshold * stepSq;
      walkOn = walk ? 1 : 0;
      let total = 0;
      // Each feature in bin widths (binOf's division, the same for every grid), then per grid
      // its bin: linear, or the tail's through the cache.
      const levelU = (x - lvlLo) / lvlW, slopeU = (slope - slpLo) / slpW;
      const incU = (z + INCREMENT_RANGE) / incW;
      for (let g = 0; g < grids; g++) {
        const shift = gridShift[g]!, c = g * perGrid;
        let levelBin = Math.floor(levelU + shift), slopeBin = Math.floor(slopeU + shift);
        let incBin = Math.floor(incU + shift);
        if (!(levelBin >= 0 && levelBin < bins)) {
          levelBin = tailBinCached(levelBin, bins, perOctave);
        }
        if (!(slopeBin >= 0 && slopeBin < bins)) {
          slopeBin = tailBinCached(slopeBin, bins, perOctave);
        }
        if (!(incBin >= 0 && incBin < bins)) incBin = tailBinCached(incBin, bins, perOctave);
        const slot = VIEWS * g;
        // The level view, with the birth of its key (a repeated key keeps the last one's).
        const k1 = keyOf(c, levelBin);
        let b1 = 0;
        if (k1 === lastKey[slot]) st.ctx[2 * c] = st.ctx[2 * c]! + 1;
        else {
          lastKey[slot] = k1;
          b1 = observe(st, c, k1);
          lastBornOf[g] = LAST_BORN[0]!;
          // A new bin next to one first seen within the last week extends a range still growing.
          if (b1 > 0 && neighbourBornAfter(st, c, levelBin, t, i, GROWING_US)) b1 = 0;
        }
        // The hour's view, the slope's and the increment's: `surprise` and `surpriseKnown`, with
        // their answers that need no lookup (a repeated key, a bin known this frame) inline.
        const ch = c + 1 + hour, k2 = keyOf(ch, levelBin);
        let b2 = 0;
        if (k2 === lastKey[slot + 1]) ctx[2 * ch] = ctx[2 * ch]! + 1;
        else {
          lastKey[slot + 1] = k2;
          b2 = observe(st, ch, k2);
        }
        if (b2 > 0 && neighbourBornAfter(st, c + 1 + hour, levelBin, t, i, GROWING_US)) b2 = 0;
        if (
          b2 > 0 &&
          (ti - lastBornOf[g]! < settleUs || ti - lastAlarm < settleUs || s[S.NO_SEASON] !== 0)
        ) b2 = 0;
        let bits = 0, b4 = 0;
        if (known) {
          const cs = c + 1 + hours, ci = cs + 1;
          if (slopeBin >= 0 && slopeBin < bins && KNOWN[2 * g * bins + slopeBin] === stamp) {
            ctx[2 * cs] = ctx[2 * cs]! + 1;
          } else bits = surpriseKnown(st, slot + 2, cs, slopeBin, bins, 2 * g);
          if (incBin >= 0 && incBin < bins && KNOWN[(2 * g + 1) * bins + incBin] === stamp) {
            ctx[2 * ci] = ctx[2 * ci]! + 1;
          } else b4 = surpriseKnown(st, slot + 3, ci, incBin, bins, 2 * g + 1);
        } else {
          bits = surprise(st, slot + 2, c + 1 + hours, slopeBin);
          b4 = surprise(st, slot + 3, c + 2 + hours, incBin);
        }
        // The slope, a smoothed feature like the level, grows its range as the level does.
        if (bits > 0 && neighbourBornAfter(st, c + 1 + hours, slopeBin, t, i, GROWING_US)) bits = 0;
        // A move new to the increments against the recent volatility but, against the very recent
        // one (the jump view's reference), in a linear bin this context has seen is not new: the
        // channel has turned wilder. Only a lookup: the move's own bin is learnt as before.
        if (b4 > 0 && incNowU === incNowU) {
          const nowBin = Math.floor(incNowU + shift), ci = c + 2 + hours;
          if (nowBin >= 0 && nowBin < bins && bornOf(st, keyOf(ci, nowBin)) > -Infinity) b4 = 0;
        }
        let most = b4 > bits ? b4 : bits;
        if (!walk) {
          if (b1 > most) most = b1;
          if (b2 > most) most = b2;
        }
        // Kept for the view only where the grid has bits (few samples do): the others add none.
        if (most > 0) kept |= keepViewBits(g, bits, b4, walk ? 0 : b1, walk ? 0 : b2);
        total += most;
      }
      let raw = total / grids;
      if (views !== undefined) view = binnedView(grids, kept);
      // On a count (this value and the last non-negative integers), the binned views and the
      // range rule are judged against a Poisson count at the expected value (or the shift view's
      // season, where the value is less improbable there: _shift.ts) too: a level new to
      // the bins, or a move new to the increments, that such a count reaches once in a few
      // hundred draws is its spread at that level (a channel of errors at 20 a minute moves by
      // 4 or 5, at 0.5 by one), not an anomaly; flat runs, below, likewise. Jumps and the shift
      // view keep their own references: a spike of a few counts is a jump at any level.
      let countBits = Infinity;
      if (counts && x <= COUNT_REFERENCE_MAX) {
        if (raw > 0 || x > rangeHi || x < rangeLo) {
          countBits = seasonTailBits(shift, weekBucket, nearBucket, frac, x, exp) - COUNT_FREE_BITS;
          if (countBits < raw) raw = countBits > 0 ? countBits : 0;
        }
        // A run of counts is that many repeats of its value: their Poisson probability at the
        // rate expected when the run began, less the runs' free bits, caps its tail. Zeros for
        // half an hour at night, when a channel of errors expects a few a day, are no frozen
        // counter, however rare runs that long are among its runs by day.
        if (runBits > 0 && runRate === runRate) {
          const cap = run * poissonPointBits(x, runRate > 0 ? runRate : 0) - FLAT_FREE_BITS;
          if (cap < runBits) runBits = cap > 0 ? cap : 0;
        }
      }
      if (runBits > raw) raw = runBits, view = VIEW.flatRun;
      if (jumpBits > raw) raw = jumpBits, view = VIEW.jump;
      // The shift view: a CUSUM on the level-and-weekly-season residual (not on random walks).
      SHIFT_SAMPLE[0] = x;
      SHIFT_SAMPLE[1] = frac;
      SHIFT_SAMPLE[2] = kindEdge(weekDay, hour, hours);
      SHIFT_SAMPLE[3] = alerting;
      const shiftBits = stepShift(shift, weekBucket, !walk, nearBucket);
      if (shiftBits > raw) raw = shiftBits, view = VIEW.shift;
      raw /= fullBits;
      if (raw > 1) raw = 1;
      const span = rangeHi - rangeLo > 0 ? rangeHi - rangeLo : lvlW;
      const beyond = x > rangeHi ? x - rangeHi : rangeLo - x;
      // Within settle_hours of an incident, a value beyond the range that departs from its
      // expected value by no more than the incident's sample did is that change meeting the old
      // range's edge (a shift up, at its next daily peak): it is scored by its views, not 1. So is
      // a count whose Poisson tail at the expected value is short of a full score's bits.
      const departs = x > exp ? x - exp : exp - x;
      if (
        !walk && beyond > tol * span && countBits >= fullBits &&
        (ti - lastAlarm >= settleUs || departs > lastAlarmSize)
      ) raw = 1, view = VIEW.range;
      // Calibration: the score may not claim more than the channel's own record of rises to it
      // supports (see the module comment); the rise is recorded after, from the past alone.
      raw = calibrate(calib, raw, fullBits);
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
      if (sinceAlarm >= clear) lastAlarmSize = x > exp ? x - exp : exp - x;
      if (sinceAlarm >= clear) lastAlarm = ti;
      sinceAlarm = 0;
    }
    // Incidents, per sample: one opens at a high score, closes after `clear` low ones in a row.
    if (out >= threshold && out > 0) {
      quiet = 0;
      if (alerting === 0) {
        alerting = 1;
        // The view: the binned one is summed here only, when the column did not ask it already.
        changes = addChange(changes, i, true, view !== VIEW.none ? view : binnedView(grids, kept));
      }
    } else if (alerting !== 0 && ++quiet >= clear) {
      alerting = 0;
      quiet = 0;
      changes = addChange(changes, i, false, VIEW.none);
    }

    // Learn.
    if (x < rangeLo) rangeLo = x;
    if (x > rangeHi) rangeHi = x;
    if (seen === 0) {
      level = x;
      walkMean = x;
    } else {
      const e = Math.abs(x - level);
      errLevel += (e - errLevel) * ERROR_ALPHA;
      levelMae += (e - levelMae) * (seen < 10 ? 1 / (seen + 1) : LEVEL_ALPHA);
      level += (x - level) * LEVEL_ALPHA;
      const a = seen < 100 ? 1 / seen : INCREMENT_ALPHA;
      incMad += (ad - incMad) * a;
      incMadFast += (ad - incMadFast) * (seen < 10 ? 1 / seen : INCREMENT_FAST_ALPHA);
      incSq += (d * d - incSq) * a;
      incSqSlow += (d * d - incSqSlow) * (seen < 1000 ? 1 / seen : WALK_ALPHA);
      const w = x - walkMean;
      walkMean += w * WALK_ALPHA;
      walkVar += (w * w * (1 - WALK_ALPHA) - walkVar) * WALK_ALPHA;
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
    seen++;
  }
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
  s[S.LAST_EXPECTED] = lastExpected;
  s[S.LAST_SPREAD] = lastSpread;
  s[S.LAST_UPPER] = lastExpected + lastSpread;
  s[S.ALERTING] = alerting;
  s[S.QUIET] = quiet;
  s[S.RUN] = run;
  s[S.INC_MAD] = incMad;
  s[S.INC_MAD_FAST] = incMadFast;
  s[S.INC_SQ] = incSq;
  s[S.INC_SQ_SLOW] = incSqSlow;
  s[S.WALK_MEAN] = walkMean;
  s[S.WALK_VAR] = walkVar;
  s[S.LAST_ALARM] = lastAlarm;
  s[S.WALK_ON] = walkOn;
  s[S.RUN_RATE] = runRate;
  s[S.LAST_ALARM_SIZE] = lastAlarmSize;
  s[S.SINCE_ALARM] = sinceAlarm;
  return { score, expected, spread, changes, valid, skipped, seen };
}

/** The anomaly kernel. */
export const anomalyKernel: Kernel<AnomalyState, AnomalyConfig, AnomalyResult> = {
  init: (config) => S.createAnomalyState(config),
  step: stepAnomaly,
  configure(st, config) {
    S.applyLive(st.s, config);
  },
  save: S.saveAnomalyState,
  load: S.loadAnomalyState,
};
