/**
 * The collapse kernel's running scalars: loaded from the state's header once per frame, updated per
 * sample in locals, stored back at the frame's end; and the per-sample trackers of time (the usual
 * interval, samples missed in a gap) and scale (the noise scale from differences, the quantum).
 */
import {
  H_ABOVE,
  H_ABSDIFF,
  H_CHANGE,
  H_DIFFS,
  H_INDEX,
  H_INTERVAL,
  H_INTERVALS,
  H_LAST_T,
  H_LEVEL,
  H_MISSED,
  H_PHASE,
  H_PREV_X,
  H_PREV_Y,
  H_PROB,
  H_QUANTUM,
  H_REGIME,
  H_RUN_LENGTH,
  H_RUNS,
  H_SEG_M2,
  H_SEG_MEAN,
  H_SEG_N,
  H_SLOPE,
} from "./_state.ts";

/** Differences over this many running scales are clipped (jumps must not inflate the scale). */
const ABS_DIFF_CLIP = 6;
/** Differences averaged plainly before the running scale starts clipping. */
const ABS_DIFF_WARMUP = 10;
/** Rate of the running sampling interval, and intervals seen before gaps are recognised. */
const INTERVAL_RATE = 1 / 64;
const INTERVALS_WARMUP = 8;
/** Missed samples counted for one time gap at most. */
const MISSED_MAX = 1e9;

/** Running scalars of a frame, loaded from the header and stored back. */
export interface Running {
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

export function loadRunning(data: Float64Array): Running {
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

export function storeRunning(data: Float64Array, r: Running): void {
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
export function trackTime(r: Running, t: number, gapFactor: number): void {
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
 * Whether the running noise scale can be trusted: it has seen ABS_DIFF_WARMUP differences, and at
 * least one that was not 0 (so the quantum, the floor of any variance, is known).
 */
export function scaleSettled(r: Running): boolean {
  return r.diffs > ABS_DIFF_WARMUP && r.quantum > 0;
}

/**
 * The running noise scale, from the differences of the deseasonalised values y, and the quantum,
 * from those of the raw values x: past differences only (x set no prior of its own).
 */
export function trackScale(r: Running, x: number, y: number, scaleRate: number): void {
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
