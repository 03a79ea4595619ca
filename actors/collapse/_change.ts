/**
 * The record of a confirmed change: where the new regime began, when it was confirmed, and the
 * level and spread of the regimes on either side, measured over the samples the kernel still holds
 * (the older part of the previous regime is summarised by a running Welford accumulator).
 */
import { log2Fast } from "../math/mod.ts";
import {
  type CollapseState,
  H_CHANGE,
  H_CHANGES,
  H_SEG_M2,
  H_SEG_MEAN,
  H_SEG_N,
  HISTORY_SAMPLES,
} from "./_state.ts";

/** Samples before a change its level before is measured on, at least (when the ring holds them). */
export const LEVEL_SAMPLES_MIN = 5;
/** The largest severity reported (a step out of a perfectly flat line would be infinite). */
export const SEVERITY_MAX = 1e6;
/** The noise scale is at least this fraction of the level (and never below SCALE_FLOOR_ABS). */
const SCALE_FLOOR_REL = 1e-9;
const SCALE_FLOOR_ABS = 1e-150;

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
  /**
   * The level just before the change (the mean of the last valid samples before it, as many as
   * the new regime has so far, at least LEVEL_SAMPLES_MIN) and the new regime's level so far. The
   * previous regime's mean can be far from where it ended: a price that rose through a regime and
   * then fell 10% has a regime mean below its fall (a crash once read "up: mean 146.80 → 149.87").
   */
  levelBefore: number;
  levelAfter: number;
  /** "up" when the level after the change is at or above the level just before it. */
  direction: "up" | "down";
  /** |level shift| / old spread + |log2(spread ratio)|, spreads floored, capped at SEVERITY_MAX. */
  severity: number;
  /** Posterior probability of a new regime when it was confirmed. */
  probability: number;
}

/** The smallest noise scale taken for a series at `level`. */
export function scaleFloor(level: number): number {
  return Math.max(SCALE_FLOOR_REL * Math.abs(level), SCALE_FLOOR_ABS);
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

/**
 * Builds the record of a change at `c` confirmed at sample `j`, and starts the new segment: the
 * header's segment fields must hold the previous segment's accumulator when it is called.
 */
export function confirmChange(
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
  const k = Math.max(j + 1 - c, LEVEL_SAMPLES_MIN);
  const lastBefore = segmentMoments(state, { n: 0, mean: 0, m2: 0 }, Math.max(ringFrom, c - k), c);
  const levelBefore = lastBefore.n > 0 ? lastBefore.mean : before.mean;
  const floor = scaleFloor(before.mean);
  const sb = Math.max(before.spread, floor);
  const sa = Math.max(after.spread, floor);
  const severity = Math.min(
    Math.abs(after.mean - levelBefore) / sb + Math.abs(log2Fast(sa / sb)),
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
    levelBefore,
    levelAfter: after.mean,
    direction: after.mean < levelBefore ? "down" : "up",
    severity: severity === severity ? severity : 0,
    probability,
  };
}
