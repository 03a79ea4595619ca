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

/**
 * The running scalars every frame's step loads into (one kernel runs at a time, and nothing keeps
 * them past the frame, whose end stores them back): one object, not one and a box for each of its
 * numbers a frame.
 */
const RUNNING: Running = {
  index: 0,
  runs: 0,
  level: 0,
  trend: 0,
  absDiff: 0,
  quantum: 0,
  diffs: 0,
  prevX: 0,
  prevY: 0,
  lastT: 0,
  interval: 0,
  intervals: 0,
  missed: 0,
  segStart: 0,
  regime: 0,
  segN: 0,
  segMean: 0,
  segM2: 0,
  lastProb: 0,
  lastRun: 0,
  phase: 0,
  above: 0,
};

/** Loads the header's running scalars into the shared record; good until the next frame's. */
export function loadRunning(data: Float64Array): Running {
  const r = RUNNING;
  r.index = data[H_INDEX]!;
  r.runs = data[H_RUNS]!;
  r.level = data[H_LEVEL]!;
  r.trend = data[H_SLOPE]!;
  r.absDiff = data[H_ABSDIFF]!;
  r.quantum = data[H_QUANTUM]!;
  r.diffs = data[H_DIFFS]!;
  r.prevX = data[H_PREV_X]!;
  r.prevY = data[H_PREV_Y]!;
  r.lastT = data[H_LAST_T]!;
  r.interval = data[H_INTERVAL]!;
  r.intervals = data[H_INTERVALS]!;
  r.missed = data[H_MISSED]!;
  r.segStart = data[H_CHANGE]!;
  r.regime = data[H_REGIME]!;
  r.segN = data[H_SEG_N]!;
  r.segMean = data[H_SEG_MEAN]!;
  r.segM2 = data[H_SEG_M2]!;
  r.lastProb = data[H_PROB]!;
  r.lastRun = data[H_RUN_LENGTH]!;
  r.phase = data[H_PHASE]!;
  r.above = data[H_ABOVE]!;
  return r;
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
