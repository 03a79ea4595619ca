/**
 * The coherence kernel's state (see kernel.ts for what it computes): its layout, the counters of
 * what it skipped, what a step gives back, and how the state is allocated and grows as channels
 * join. Typed arrays throughout, grown by doubling, so a step allocates nothing per sample.
 */
import { powFast } from "../math/mod.ts";
import { type SubspaceWork } from "./_subspace.ts";
import { type CoherenceConfig } from "./config.ts";
import { type CoherencePhase } from "./phase.ts";

export const ENTERED = 1;
export const DORMANT = 2;

/** Why samples were skipped, and what the solver did: indices into `CoherenceState.counters`. */
export const COUNTER_NAMES = [
  "invalid_samples",
  "nonpositive_prices",
  "late_samples",
  "foreign_samples",
  "overflow_samples",
  "restarts",
  "dormant",
  "unconverged_updates",
  "iterations",
  "bars",
  "updates",
] as const;
/** A counter's name. */
export type CounterName = typeof COUNTER_NAMES[number];
export const C_INVALID = 0;
export const C_NONPOSITIVE = 1;
export const C_LATE = 2;
export const C_FOREIGN = 3;
export const C_OVERFLOW = 4;
export const C_RESTARTS = 5;
export const C_DORMANT = 6;
export const C_UNCONVERGED = 7;
export const C_ITERATIONS = 8;
export const C_BARS = 9;
export const C_UPDATES = 10;

/** The state of one group. Typed arrays are sized for `cap` channels; only `m` are in use. */
export interface CoherenceState {
  config: CoherenceConfig;
  group: string;
  names: string[];
  slots: Map<string, number>;
  /** Channels joined (slots in use). */
  m: number;
  /** Channels entered into the covariance (N). */
  entered: number;
  cap: number;
  /** Per channel: the last price turned into a return (NaN: none yet). */
  lastPrice: Float64Array;
  /** Per channel: the bar count when `lastPrice` was taken. */
  lastBar: Float64Array;
  /** Per channel: time of the last accepted sample. */
  lastT: Float64Array;
  /** Per channel: the newest bucket it has data in. */
  latestBucket: Float64Array;
  /** Per channel: EW mean of its returns. */
  mean: Float64Array;
  flags: Uint8Array;
  /** Per channel pending bars: a ring of `qcap` (bucket, price) entries at `c * qcap`. */
  qcap: number;
  qBucket: Float64Array;
  qPrice: Float64Array;
  qHead: Int32Array;
  qLen: Int32Array;
  /** The EW covariance, row-major with leading dimension `cap`. */
  cov: Float64Array;
  /** The tracked top eigenvectors: `kq` columns of leading dimension `cap`. */
  basis: Float64Array;
  kq: number;
  basisCols: number;
  newestBucket: number;
  /** The oldest bucket any channel has had data in: the start of the join window. */
  firstBucket: number;
  closedBucket: number;
  trace: number;
  ratio: number;
  shift: number;
  shortMean: number;
  longMean: number;
  longVar: number;
  /** The ratio's predicted sampling variance, averaged as `longVar` is (the sd's prior). */
  priorVar: number;
  /** The long mean when the current or last episode began (NaN once its level is dropped). */
  preMean: number;
  ratioCount: number;
  lastIterations: number;
  /** The group's phase after the last closed bar. */
  phase: CoherencePhase;
  /** The phase the last bars point to, and for how many bars in a row (`change_for_bars`). */
  pendingPhase: CoherencePhase;
  pendingBars: number;
  /**
   * Bars the baseline (long mean and sd) has been held in this episode (coherent or fragmented).
   */
  heldBars: number;
  counters: Float64Array;
  /** Scratch, rebuilt on load: nothing in it survives a bar. */
  scratch: Scratch;
}

export interface Scratch {
  ret: Float64Array;
  dev: Float64Array;
  work: SubspaceWork | null;
  outT: Float64Array;
  outRatio: Float64Array;
  outShift: Float64Array;
  outCount: number;
  /** The phase changes of the frame being stepped. */
  changes: CoherenceChange[];
}

/** A channel and its loading on the first eigenvector (sign chosen so the loadings sum >= 0). */
export interface Loading {
  channel: string;
  loading: number;
}

/** A change of the group's phase, at the bar that made it. */
export interface CoherenceChange {
  /** Start of the bar, microseconds since the epoch. */
  ts: number;
  from: CoherencePhase;
  to: CoherencePhase;
  ratio: number;
  shift: number;
  /** The channels loading most on the first eigenvector after that bar. */
  topChannels: Loading[];
}

/** The group after the last bar a frame closed. */
export interface CoherenceStep {
  /** Start of the bar, microseconds since the epoch. */
  ts: number;
  ratio: number;
  shift: number;
  /** Past warm-up, with two or more channels and a defined ratio. */
  ready: boolean;
  /** Channels in the covariance (N). */
  channels: number;
  /** Eigenvalues summed (n). */
  top: number;
  /** Block iterations that bar's update took. */
  iterations: number;
}

/** What one frame produced. */
export interface CoherenceResult {
  /** Bars this frame closed that updated the covariance. */
  steps: number;
  /** The group-wide index of the first of them (steps are numbered from 0 as they happen). */
  seq0: number;
  /** Per step: bar start time, ratio and shift (fresh arrays of length `steps`). */
  t: Float64Array;
  ratio: Float64Array;
  shift: Float64Array;
  /** The last step, or null when the frame closed none. */
  last: CoherenceStep | null;
  /** The channels loading most on the first eigenvector after the last step. */
  topChannels: Loading[];
  /** Samples of this frame that were skipped (see `coherenceCounters` for why). */
  rejected: number;
  /** The phase changes of this frame's bars, in order. */
  changes: readonly CoherenceChange[];
}

export const CAP_MIN = 8;
export const QCAP_MIN = 4;

export function alphaOf(halfLife: number): number {
  return 1 - powFast(2, -1 / halfLife);
}

export function newScratch(cap: number): Scratch {
  return {
    ret: new Float64Array(cap),
    dev: new Float64Array(cap),
    work: null,
    outT: new Float64Array(16),
    outRatio: new Float64Array(16),
    outShift: new Float64Array(16),
    outCount: 0,
    changes: [],
  };
}

export function allocate(config: CoherenceConfig, group: string, cap: number, qcap: number) {
  const state: CoherenceState = {
    config,
    group,
    names: [],
    slots: new Map(),
    m: 0,
    entered: 0,
    cap,
    lastPrice: new Float64Array(cap).fill(NaN),
    lastBar: new Float64Array(cap),
    lastT: new Float64Array(cap).fill(-Infinity),
    latestBucket: new Float64Array(cap).fill(-Infinity),
    mean: new Float64Array(cap),
    flags: new Uint8Array(cap),
    qcap,
    qBucket: new Float64Array(cap * qcap),
    qPrice: new Float64Array(cap * qcap),
    qHead: new Int32Array(cap),
    qLen: new Int32Array(cap),
    cov: new Float64Array(cap * cap),
    basis: new Float64Array(0),
    kq: 0,
    basisCols: 0,
    newestBucket: -Infinity,
    firstBucket: Infinity,
    closedBucket: -Infinity,
    trace: 0,
    ratio: NaN,
    shift: NaN,
    shortMean: 0,
    longMean: 0,
    longVar: 0,
    priorVar: NaN,
    preMean: NaN,
    ratioCount: 0,
    lastIterations: 0,
    phase: "normal",
    pendingPhase: "normal",
    pendingBars: 0,
    heldBars: 0,
    counters: new Float64Array(COUNTER_NAMES.length),
    scratch: newScratch(cap),
  };
  return state;
}

/** Creates the state of group `group`. */
export function initCoherence(config: CoherenceConfig, group: string): CoherenceState {
  return allocate(config, group, CAP_MIN, QCAP_MIN);
}

export function growChannels(s: CoherenceState, need: number): void {
  let cap = s.cap;
  while (cap < need) cap *= 2;
  if (cap === s.cap) return;
  const old = s.cap;
  const copy = (a: Float64Array, fill: number) => {
    const b = new Float64Array(cap).fill(fill);
    b.set(a.subarray(0, s.m));
    return b;
  };
  s.lastPrice = copy(s.lastPrice, NaN);
  s.lastBar = copy(s.lastBar, 0);
  s.lastT = copy(s.lastT, -Infinity);
  s.latestBucket = copy(s.latestBucket, -Infinity);
  s.mean = copy(s.mean, 0);
  const flags = new Uint8Array(cap);
  flags.set(s.flags.subarray(0, s.m));
  s.flags = flags;
  const qBucket = new Float64Array(cap * s.qcap);
  const qPrice = new Float64Array(cap * s.qcap);
  qBucket.set(s.qBucket.subarray(0, s.m * s.qcap));
  qPrice.set(s.qPrice.subarray(0, s.m * s.qcap));
  s.qBucket = qBucket;
  s.qPrice = qPrice;
  const qHead = new Int32Array(cap);
  const qLen = new Int32Array(cap);
  qHead.set(s.qHead.subarray(0, s.m));
  qLen.set(s.qLen.subarray(0, s.m));
  s.qHead = qHead;
  s.qLen = qLen;
  const cov = new Float64Array(cap * cap);
  for (let i = 0; i < s.m; i++) {
    cov.set(s.cov.subarray(i * old, i * old + s.m), i * cap);
  }
  s.cov = cov;
  const basis = new Float64Array(cap * s.basisCols);
  for (let j = 0; j < s.kq; j++) {
    basis.set(s.basis.subarray(j * old, j * old + s.m), j * cap);
  }
  s.basis = basis;
  s.cap = cap;
  const outs = s.scratch;
  s.scratch = newScratch(cap);
  s.scratch.outT = outs.outT;
  s.scratch.outRatio = outs.outRatio;
  s.scratch.outShift = outs.outShift;
  s.scratch.outCount = outs.outCount;
  s.scratch.changes = outs.changes;
}

export function growQueues(s: CoherenceState): void {
  const qcap = s.qcap * 2;
  const qBucket = new Float64Array(s.cap * qcap);
  const qPrice = new Float64Array(s.cap * qcap);
  for (let c = 0; c < s.m; c++) {
    const head = s.qHead[c]!;
    const len = s.qLen[c]!;
    for (let e = 0; e < len; e++) {
      const from = c * s.qcap + (head + e) % s.qcap;
      qBucket[c * qcap + e] = s.qBucket[from]!;
      qPrice[c * qcap + e] = s.qPrice[from]!;
    }
    s.qHead[c] = 0;
  }
  s.qcap = qcap;
  s.qBucket = qBucket;
  s.qPrice = qPrice;
}

export function join(s: CoherenceState, channel: string): number {
  if (s.m >= s.config.channels_max) return -1;
  if (s.m === s.cap) growChannels(s, s.m + 1);
  const c = s.m++;
  // Dormant until its first valid sample: a channel that never sends must not hold bars back.
  s.flags[c] = DORMANT;
  s.names.push(channel);
  s.slots.set(channel, c);
  return c;
}
