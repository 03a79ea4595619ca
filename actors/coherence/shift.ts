/**
 * The coherence shift: the absorption ratio's short mean measured against the long mean of a
 * normal group, in sds of the ratio's noise, and how that baseline learns bar by bar.
 */
import { clippedNormalVariance } from "./_clipped_normal.ts";
import { alphaOf, type CoherenceState } from "./_coherence_state.ts";

/** The standard deviation the shift divides by is at least this: below it the ratio is flat. */
export const SHIFT_STD_FLOOR = 1e-6;

/**
 * Folds the bar's ratio into the shift: its short mean, and the long mean and sd of a normal
 * group, the baseline the short mean is measured against.
 *
 * The baseline is a normal group's: a stressed spell's mean ratio stands several calm sds above the
 * calm mean, and a baseline that learnt the spell would no longer see it. An episode, declared
 * (coherent or fragmented) or pending (the shift past an entry level for fewer than
 * `change_for_bars`), is measured against the level before it rather than absorbed into it: the
 * long mean holds still through both, so a long stressed spell stays coherent and its end reads as
 * a return to normal. A pending episode learnt until it was declared would raise the baseline until
 * the spell no longer reached the entry level. The sd keeps learning through a pending episode
 * (only a declared one holds it): leaving the pending bars out would cut the calm noise's tails
 * from it, and a steady feed would cross the entry levels more often. A bar beyond an entry level
 * moves the baseline no more than a bar at that level would (a Huber step bounded by the entry
 * levels), so one burst does not widen the sd. The first bars weigh as a plain average until the
 * long half-life's weight takes over, so the first ratio (of a covariance of a few bars, near 1) is
 * not the baseline for hundreds of bars. An episode longer than the long half-life is a new level:
 * the mean learns it again. The sd does not: it is the calm noise, and a declared episode's bars
 * are not (an sd that learnt a long spell's bars would leave the next spell, as far above the calm,
 * fewer of its sds above, and miss it). Nor is the learnt sd all the sd: it starts from the ratio's
 * predicted sampling noise (`shiftStd`, _ratio_noise.ts), which a young group's few independent
 * ratios cannot yet outweigh (consecutive ratios share most of their returns, so a few hundred bars
 * hold only a few independent ratios).
 */
export function updateShift(s: CoherenceState, ratio: number, predicted: number): void {
  const cfg = s.config;
  if (s.ratioCount === 0) {
    s.shortMean = ratio;
    s.longMean = ratio;
    s.longVar = 0;
    s.priorVar = predicted;
  } else {
    s.shortMean += alphaOf(cfg.shift_short_half_life_bars) * (ratio - s.shortMean);
    const declared = s.phase !== "normal";
    const held = declared || s.pendingBars > 0;
    if (held && s.heldBars === 0) s.preMean = s.longMean;
    // An episode that ended before its level was relearnt leaves the baseline as it found it.
    if (!held && s.heldBars > 0 && s.heldBars <= cfg.shift_long_half_life_bars) s.preMean = NaN;
    s.heldBars = held ? s.heldBars + 1 : 0;
    const relearn = s.heldBars > cfg.shift_long_half_life_bars;
    let d = ratio - s.longMean;
    let consistency = 1;
    if (s.ratioCount >= cfg.warmup_bars) {
      const sd = shiftStd(s);
      const lo = Math.min(0, cfg.fragmented_enter) * sd;
      const hi = Math.max(0, cfg.coherent_enter) * sd;
      d = Math.max(lo, Math.min(hi, d));
      consistency = clippedNormalVariance(lo / sd, hi / sd);
    }
    const al = Math.max(alphaOf(cfg.shift_long_half_life_bars), 1 / (s.ratioCount + 1));
    if (s.heldBars === 0 || relearn) s.longMean += al * d;
    // Between an episode's relearnt level and the level before it, the ratio is in transit.
    const transit = s.preMean === s.preMean && (ratio - s.longMean) * (ratio - s.preMean) < 0;
    if (!declared && !transit) s.longVar = (1 - al) * (s.longVar + al * d * d / consistency);
    if (!declared && predicted === predicted) {
      const prior = s.priorVar;
      s.priorVar = prior === prior ? prior + al * (predicted - prior) : predicted;
    }
  }
  s.ratioCount++;
  s.shift = nearerShift(s);
  backToBefore(s);
}

/**
 * Drops a relearnt level once the group, normal again, is back within the exit band of the level
 * its episode began at: the episode was a long spell, not a new level.
 */
function backToBefore(s: CoherenceState): void {
  const pre = s.preMean;
  if (!(pre === pre) || s.phase !== "normal" || s.heldBars !== 0) return;
  const then = Math.abs(s.shortMean - pre) / shiftStd(s);
  if (then > Math.min(s.config.coherent_exit, -s.config.fragmented_exit)) return;
  s.longMean = pre;
  s.preMean = NaN;
  s.shift = (s.shortMean - pre) / shiftStd(s);
}

/**
 * The sd the shift divides by: the ratio's predicted sampling variance (`priorVar`) as a prior the
 * learnt variance (`longVar`) takes over from as it gathers independent ratios. Consecutive ratios
 * share most of their returns: one is independent of another about every (2 - α) / α bars of the
 * covariance's half-life, so the learnt variance holds `bars / that` of them, at most the long
 * window's worth. The prior weighs half a long window's worth: in a young group it is most of the
 * sd, at length a third.
 */
export function shiftStd(s: CoherenceState): number {
  let v = s.longVar;
  if (s.priorVar === s.priorVar) {
    const a = alphaOf(s.config.half_life_bars);
    const al = alphaOf(s.config.shift_long_half_life_bars);
    const window = (2 - al) / al / ((2 - a) / a);
    const learnt = Math.min(s.ratioCount * a / (2 - a), window);
    v = (0.5 * window * s.priorVar + learnt * s.longVar) / (0.5 * window + learnt);
  }
  return Math.max(Math.sqrt(v), SHIFT_STD_FLOOR);
}

/**
 * The short mean's distance from the baseline in sds, or from the baseline an episode began with
 * when that is nearer (0 between the two): an episode's relearnt level is not the calm's.
 */
function nearerShift(s: CoherenceState): number {
  const sd = shiftStd(s);
  const now = (s.shortMean - s.longMean) / sd;
  const pre = s.preMean;
  if (!(pre === pre)) return now;
  const then = (s.shortMean - pre) / sd;
  if (now * then <= 0) return 0;
  return Math.abs(then) < Math.abs(now) ? then : now;
}
