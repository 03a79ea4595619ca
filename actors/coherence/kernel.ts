/**
 * The coherence kernel: how much a group of channels moves as one. It aligns the channels' prices
 * on bars, folds each bar's log returns into an exponentially weighted covariance, tracks the
 * covariance's top eigenvectors by warm-started subspace iteration, and reports the absorption
 * ratio (Kritzman, Li, Page and Rigobon 2011: the top `n` eigenvalues' share of the total
 * variance) and its standardized shift (short mean of the ratio minus its long mean, over its long
 * standard deviation).
 *
 * Alignment. A frame carries samples of one channel, so the group's bars are assembled here. A
 * sample at time `t` falls in bar `floor(t / bar_us)`; a channel's price in a bar is its last
 * valid sample there. A bar closes once every live channel has data in a later bar (frames of
 * different channels arrive in any interleaving), or at the latest when a bar more than
 * `lag_bars_max` newer has data; a channel that held a bar back that long is marked dormant and no
 * longer waited for until it sends again. So the lag must cover the span of one frame when
 * channels send frames of many bars in turn. Nothing closes before the group has data spanning
 * more than the lag (the join window), so that channels whose first frame comes after another
 * channel's are in the group before its first bars close. Bars where no channel has data do not exist (a market's night
 * is not a run of zero returns). At a closing bar, a channel with a price there gets the log return
 * from its previous price; one without carries its price forward (return 0), and its next return
 * spans the gap, unless it was silent for more than `gap_bars_max` bars, in which case it restarts:
 * its next price is a new base. A channel enters the covariance with its first return, so a late
 * joiner starts with zero variance and builds up over a few half-lives; N, the number of channels
 * counted by `n = ceil(N / 5)`, is the number that have entered.
 *
 * Bad input never throws and never poisons the state: a non-finite time or value, a price at or
 * below zero (no log return), a sample older than the channel's previous one or older than the
 * last closed bar, a channel not in the group, or a channel beyond `channels_max` is skipped and
 * counted (`coherenceCounters`). A constant channel just has zero variance; when the whole group
 * has none, the ratio is undefined: NaN, and the shift statistics skip that bar.
 *
 * Phase. Every bar past warm-up moves the group's phase by its shift (phase.ts), here, bar by bar,
 * so that the machine is handed every change in order, with the bar's ratio, shift and top
 * loadings, whatever the framing of the samples (issue 12: a frame of many bars was judged by its
 * last bar only).
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import { ByteReader, ByteWriter } from "./_bytes.ts";
import { logFast, powFast } from "../portable_math.ts";
import {
  fillColumn,
  KRYLOV_DEPTH,
  type SubspaceWork,
  subspaceWork,
  trackTopSubspace,
} from "./_subspace.ts";
import { type CoherenceConfig, isMember, parseCoherenceConfig } from "./config.ts";
import { type CoherencePhase, nextPhase } from "./phase.ts";

/** The standard deviation the shift divides by is at least this: below it the ratio is flat. */
export const SHIFT_STD_FLOOR = 1e-6;

const ENTERED = 1;
const DORMANT = 2;

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
const C_INVALID = 0;
const C_NONPOSITIVE = 1;
const C_LATE = 2;
const C_FOREIGN = 3;
const C_OVERFLOW = 4;
const C_RESTARTS = 5;
const C_DORMANT = 6;
const C_UNCONVERGED = 7;
const C_ITERATIONS = 8;
const C_BARS = 9;
const C_UPDATES = 10;

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
  ratioCount: number;
  lastIterations: number;
  /** The group's phase after the last closed bar. */
  phase: CoherencePhase;
  counters: Float64Array;
  /** Scratch, rebuilt on load: nothing in it survives a bar. */
  scratch: Scratch;
}

interface Scratch {
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

const CAP_MIN = 8;
/** Updates between re-orthonormalisations of the tracked basis. */
const REORTHOGONALIZE_EVERY = 64;
const QCAP_MIN = 4;

function alphaOf(halfLife: number): number {
  return 1 - powFast(2, -1 / halfLife);
}

function newScratch(cap: number): Scratch {
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

function allocate(config: CoherenceConfig, group: string, cap: number, qcap: number) {
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
    ratioCount: 0,
    lastIterations: 0,
    phase: "normal",
    counters: new Float64Array(COUNTER_NAMES.length),
    scratch: newScratch(cap),
  };
  return state;
}

/** Creates the state of group `group`. */
export function initCoherence(config: CoherenceConfig, group: string): CoherenceState {
  return allocate(config, group, CAP_MIN, QCAP_MIN);
}

function growChannels(s: CoherenceState, need: number): void {
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

function growQueues(s: CoherenceState): void {
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

function join(s: CoherenceState, channel: string): number {
  if (s.m >= s.config.channels_max) return -1;
  if (s.m === s.cap) growChannels(s, s.m + 1);
  const c = s.m++;
  // Dormant until its first valid sample: a channel that never sends must not hold bars back.
  s.flags[c] = DORMANT;
  s.names.push(channel);
  s.slots.set(channel, c);
  return c;
}

/** Folds one frame into the group; returns the bars it closed. */
export function stepCoherence(s: CoherenceState, frame: SampleFrame): CoherenceResult {
  s.scratch.outCount = 0;
  s.scratch.changes.length = 0;
  const n = frame.t.length;
  let rejected = 0;
  if (!isMember(frame.channel, s.group, s.config)) {
    s.counters[C_FOREIGN]! += n;
    return emptyResult(n);
  }
  let c = s.slots.get(frame.channel);
  if (c === undefined) {
    c = join(s, frame.channel);
    if (c < 0) {
      s.counters[C_OVERFLOW]! += n;
      return emptyResult(n);
    }
  }
  const barUs = s.config.bar_us;
  const { t, v } = frame;
  for (let i = 0; i < n; i++) {
    const ti = t[i]!;
    const vi = v[i]!;
    if (!Number.isFinite(ti) || !Number.isFinite(vi)) {
      s.counters[C_INVALID]!++;
      rejected++;
      continue;
    }
    if (vi <= 0) {
      s.counters[C_NONPOSITIVE]!++;
      rejected++;
      continue;
    }
    const b = Math.floor(ti / barUs);
    if (ti < s.lastT[c]! || b <= s.closedBucket) {
      s.counters[C_LATE]!++;
      rejected++;
      continue;
    }
    s.lastT[c] = ti;
    s.flags[c]! &= ~DORMANT;
    if (b === s.latestBucket[c]) {
      // Same bar as the channel's newest pending entry: the later price wins.
      const tail = (s.qHead[c]! + s.qLen[c]! - 1) % s.qcap;
      s.qPrice[c * s.qcap + tail] = vi;
      continue;
    }
    if (s.qLen[c] === s.qcap) growQueues(s);
    const slot = c * s.qcap + (s.qHead[c]! + s.qLen[c]!) % s.qcap;
    s.qBucket[slot] = b;
    s.qPrice[slot] = vi;
    s.qLen[c]!++;
    s.latestBucket[c] = b;
    if (b > s.newestBucket) s.newestBucket = b;
    if (b < s.firstBucket) s.firstBucket = b;
    closeReady(s);
  }
  return result(s, rejected);
}

function emptyResult(rejected: number): CoherenceResult {
  const none = new Float64Array(0);
  return {
    steps: 0,
    seq0: 0,
    t: none,
    ratio: none,
    shift: none,
    last: null,
    topChannels: [],
    rejected,
    changes: NO_CHANGES,
  };
}

const NO_CHANGES: readonly CoherenceChange[] = Object.freeze([]);

/** Closes every bar that is complete, or overdue by more than `lag_bars_max`. */
function closeReady(s: CoherenceState): void {
  const lag = s.config.lag_bars_max;
  // The join window: until the group has data spanning more than the lag, nothing closes, so
  // channels whose first frames arrive after another channel's have joined before bars close.
  if (s.newestBucket - s.firstBucket <= lag) return;
  const m = s.m;
  for (;;) {
    let bar = Infinity;
    for (let c = 0; c < m; c++) {
      if (s.qLen[c]! > 0) {
        const head = s.qBucket[c * s.qcap + s.qHead[c]!]!;
        if (head < bar) bar = head;
      }
    }
    if (bar === Infinity) return;
    if (s.newestBucket - bar > lag) {
      for (let c = 0; c < m; c++) {
        if ((s.flags[c]! & DORMANT) === 0 && s.latestBucket[c]! <= bar) {
          s.flags[c]! |= DORMANT;
          s.counters[C_DORMANT]!++;
        }
      }
    } else {
      for (let c = 0; c < m; c++) {
        if ((s.flags[c]! & DORMANT) === 0 && s.latestBucket[c]! <= bar) return;
      }
    }
    closeBar(s, bar);
  }
}

function closeBar(s: CoherenceState, bar: number): void {
  s.closedBucket = bar;
  const bars = ++s.counters[C_BARS]!;
  const m = s.m;
  const ret = s.scratch.ret;
  const gapMax = s.config.gap_bars_max;
  let any = false;
  for (let c = 0; c < m; c++) {
    ret[c] = 0;
    if (s.qLen[c] === 0) continue;
    const at = c * s.qcap + s.qHead[c]!;
    if (s.qBucket[at] !== bar) continue;
    const price = s.qPrice[at]!;
    s.qHead[c] = (s.qHead[c]! + 1) % s.qcap;
    s.qLen[c]!--;
    const prev = s.lastPrice[c]!;
    if (prev === prev) {
      if (bars - s.lastBar[c]! <= gapMax) {
        ret[c] = logFast(price / prev);
        any = true;
        if ((s.flags[c]! & ENTERED) === 0) {
          s.flags[c]! |= ENTERED;
          s.entered++;
        }
      } else {
        s.counters[C_RESTARTS]!++;
      }
    }
    s.lastPrice[c] = price;
    s.lastBar[c] = bars;
  }
  if (!any) return;
  update(s);
  pushOutput(s, bar * s.config.bar_us);
  judge(s, bar * s.config.bar_us);
}

function isReady(s: CoherenceState): boolean {
  return s.ratio === s.ratio && s.entered >= 2 && s.ratioCount >= s.config.warmup_bars;
}

/** Moves the phase by the bar just closed; records a change with the bar's figures. */
function judge(s: CoherenceState, ts: number): void {
  if (!isReady(s)) return;
  const to = nextPhase(s.phase, s.shift, s.config);
  if (to === s.phase) return;
  s.scratch.changes.push({
    ts,
    from: s.phase,
    to,
    ratio: s.ratio,
    shift: s.shift,
    topChannels: topLoadings(s, s.config.top_channels),
  });
  s.phase = to;
}

function update(s: CoherenceState): void {
  const cfg = s.config;
  const m = s.m;
  const cap = s.cap;
  const ret = s.scratch.ret;
  const dev = s.scratch.dev;
  const alpha = alphaOf(cfg.half_life_bars);
  const keep = 1 - alpha;
  const root = Math.sqrt(alpha);
  for (let c = 0; c < m; c++) {
    const d = ret[c]! - s.mean[c]!;
    s.mean[c]! += alpha * d;
    dev[c] = root * d;
  }
  // C <- (1 - α)(C + α d dᵀ): West's EW covariance, exactly symmetric (e_i e_j = e_j e_i).
  const cov = s.cov;
  let trace = 0;
  for (let i = 0; i < m; i++) {
    const row = i * cap;
    const ei = dev[i]!;
    for (let j = 0; j < m; j++) cov[row + j] = keep * (cov[row + j]! + ei * dev[j]!);
    trace += cov[row + i]!;
  }
  s.trace = trace;
  s.counters[C_UPDATES]!++;
  const n = topOf(s);
  if (!(trace > 0) || !Number.isFinite(trace)) {
    s.ratio = NaN;
    s.shift = NaN;
    s.lastIterations = 0;
    return;
  }
  ensureBasis(s, Math.min(m, n + cfg.block_extra));
  const work = workOf(s);
  const outcome = trackTopSubspace({
    c: cov,
    ld: cap,
    m,
    n,
    q: s.basis,
    kq: s.kq,
    direction: dev,
    tolerance: cfg.tolerance,
    iterationsMax: cfg.iterations_max,
    reorthogonalize: s.counters[C_UPDATES]! % REORTHOGONALIZE_EVERY === 0,
  }, work);
  s.lastIterations = outcome.iterations;
  s.counters[C_ITERATIONS]! += outcome.iterations;
  if (!outcome.converged) s.counters[C_UNCONVERGED]!++;
  const ratio = Math.min(1, Math.max(0, outcome.sum / trace));
  s.ratio = ratio;
  const as = alphaOf(cfg.shift_short_half_life_bars);
  const al = alphaOf(cfg.shift_long_half_life_bars);
  if (s.ratioCount === 0) {
    s.shortMean = ratio;
    s.longMean = ratio;
    s.longVar = 0;
  } else {
    s.shortMean += as * (ratio - s.shortMean);
    const d = ratio - s.longMean;
    s.longMean += al * d;
    s.longVar = (1 - al) * (s.longVar + al * d * d);
  }
  s.ratioCount++;
  s.shift = (s.shortMean - s.longMean) / Math.max(Math.sqrt(s.longVar), SHIFT_STD_FLOOR);
}

/** n: `top_n`, or ceil(N / 5), never more than N. */
function topOf(s: CoherenceState): number {
  const top = s.config.top_n;
  const n = top > 0 ? top : Math.ceil(s.entered / 5);
  return Math.max(1, Math.min(n, s.entered));
}

/** Resizes the tracked basis to `k` orthonormal columns, keeping the leading ones. */
function ensureBasis(s: CoherenceState, k: number): void {
  if (k > s.basisCols) {
    const cols = Math.max(k, s.basisCols * 2, 4);
    const basis = new Float64Array(s.cap * cols);
    basis.set(s.basis.subarray(0, s.cap * s.kq));
    s.basis = basis;
    s.basisCols = cols;
  }
  for (let j = s.kq; j < k; j++) fillColumn(s.basis, s.cap, s.m, j);
  s.kq = k;
}

function workOf(s: CoherenceState): SubspaceWork {
  const w = s.scratch.work;
  const kb = s.kq + KRYLOV_DEPTH;
  if (w !== null && w.ld === s.cap && w.kbMax >= kb) return w;
  const fresh = subspaceWork(s.cap, Math.max(kb, w ? w.kbMax : 0));
  s.scratch.work = fresh;
  return fresh;
}

function pushOutput(s: CoherenceState, ts: number): void {
  const sc = s.scratch;
  if (sc.outCount === sc.outT.length) {
    const size = sc.outT.length * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    sc.outT = grow(sc.outT);
    sc.outRatio = grow(sc.outRatio);
    sc.outShift = grow(sc.outShift);
  }
  sc.outT[sc.outCount] = ts;
  sc.outRatio[sc.outCount] = s.ratio;
  sc.outShift[sc.outCount] = s.shift;
  sc.outCount++;
}

function result(s: CoherenceState, rejected: number): CoherenceResult {
  const sc = s.scratch;
  const steps = sc.outCount;
  if (steps === 0) return emptyResult(rejected);
  const ratio = s.ratio;
  const step: CoherenceStep = {
    ts: sc.outT[steps - 1]!,
    ratio,
    shift: s.shift,
    ready: isReady(s),
    channels: s.entered,
    top: topOf(s),
    iterations: s.lastIterations,
  };
  return {
    steps,
    seq0: s.counters[C_UPDATES]! - steps,
    t: sc.outT.slice(0, steps),
    ratio: sc.outRatio.slice(0, steps),
    shift: sc.outShift.slice(0, steps),
    last: step,
    topChannels: ratio === ratio ? topLoadings(s, s.config.top_channels) : [],
    rejected,
    changes: sc.changes.length > 0 ? sc.changes.splice(0) : NO_CHANGES,
  };
}

/** The `count` channels with the largest absolute loadings on the first tracked eigenvector. */
export function topLoadings(s: CoherenceState, count: number): Loading[] {
  if (s.kq === 0 || count === 0) return [];
  const m = s.m;
  const q = s.basis;
  let sum = 0;
  for (let c = 0; c < m; c++) sum += q[c]!;
  const sign = sum < 0 ? -1 : 1;
  const picked: number[] = [];
  for (let c = 0; c < m; c++) {
    if ((s.flags[c]! & ENTERED) === 0) continue;
    const a = Math.abs(q[c]!);
    let at = picked.length;
    while (at > 0 && Math.abs(q[picked[at - 1]!]!) < a) at--;
    if (at >= count) continue;
    picked.splice(at, 0, c);
    if (picked.length > count) picked.pop();
  }
  return picked.map((c) => ({ channel: s.names[c]!, loading: sign * q[c]! }));
}

/**
 * Applies a new configuration; a different `bar_us` restarts the group (bars change meaning), but
 * keeps its phase, which the machine announced.
 */
export function configureCoherence(s: CoherenceState, config: CoherenceConfig): void {
  if (config.bar_us !== s.config.bar_us) {
    const phase = s.phase;
    Object.assign(s, initCoherence(config, s.group));
    s.phase = phase;
    return;
  }
  s.config = config;
}

/** The kernel's counters by name: skipped samples by reason, and the solver's work. */
export function coherenceCounters(s: CoherenceState): Record<CounterName, number> {
  const out = {} as Record<CounterName, number>;
  COUNTER_NAMES.forEach((name, i) => out[name] = s.counters[i]!);
  return out;
}

/** A copy of the covariance (N channels joined, row-major m × m) and the channels' names. */
export function covarianceOf(s: CoherenceState): { names: string[]; matrix: Float64Array } {
  const m = s.m;
  const matrix = new Float64Array(m * m);
  for (let i = 0; i < m; i++) matrix.set(s.cov.subarray(i * s.cap, i * s.cap + m), i * m);
  return { names: s.names.slice(), matrix };
}

/** How many eigenvalues the ratio currently sums (n). */
export function topCountOf(s: CoherenceState): number {
  return topOf(s);
}

const MAGIC = 0x54434f48; // "TCOH"
// 2: the phase (the hysteresis the machine held) is in the state.
const FORMAT = 2;
const PHASES: readonly CoherencePhase[] = ["normal", "coherent", "fragmented"];

/** Serialises the state exactly (only the `m` channels in use). */
export function saveCoherence(s: CoherenceState): Uint8Array {
  const w = new ByteWriter();
  w.u32(MAGIC);
  w.u32(FORMAT);
  w.json({ config: s.config, group: s.group, names: s.names });
  const m = s.m;
  w.u32(s.entered);
  w.u32(s.kq);
  w.u32(PHASES.indexOf(s.phase));
  for (
    const x of [
      s.newestBucket,
      s.firstBucket,
      s.closedBucket,
      s.trace,
      s.ratio,
      s.shift,
      s.shortMean,
      s.longMean,
      s.longVar,
      s.ratioCount,
      s.lastIterations,
    ]
  ) w.f64(x);
  w.u32(s.counters.length);
  w.f64s(s.counters);
  w.f64s(s.lastPrice, m);
  w.f64s(s.lastBar, m);
  w.f64s(s.lastT, m);
  w.f64s(s.latestBucket, m);
  w.f64s(s.mean, m);
  w.bytes(s.flags.slice(0, m));
  for (let c = 0; c < m; c++) {
    const len = s.qLen[c]!;
    w.u32(len);
    for (let e = 0; e < len; e++) {
      const at = c * s.qcap + (s.qHead[c]! + e) % s.qcap;
      w.f64(s.qBucket[at]!);
      w.f64(s.qPrice[at]!);
    }
  }
  for (let i = 0; i < m; i++) w.f64s(s.cov.subarray(i * s.cap), m);
  for (let j = 0; j < s.kq; j++) w.f64s(s.basis.subarray(j * s.cap), m);
  return w.finish();
}

/** Restores a state saved by `saveCoherence`. */
export function loadCoherence(bytes: Uint8Array): CoherenceState {
  const r = new ByteReader(bytes, "a coherence state");
  if (r.u32() !== MAGIC) throw new RangeError("Cannot load a coherence state: bad magic number");
  const format = r.u32();
  if (format !== FORMAT) {
    throw new RangeError(`Cannot load a coherence state of format ${format}; this reads ${FORMAT}`);
  }
  const head = r.json() as { config: unknown; group: string; names: string[] };
  const config = parseCoherenceConfig(head.config);
  const m = head.names.length;
  let cap = CAP_MIN;
  while (cap < m) cap *= 2;
  let qcap = QCAP_MIN;
  const s = allocate(config, head.group, cap, qcap);
  s.m = m;
  s.names = head.names.slice();
  head.names.forEach((name, c) => s.slots.set(name, c));
  s.entered = r.u32();
  const kq = r.u32();
  const phase = PHASES[r.u32()];
  if (phase === undefined) throw new RangeError("Cannot load a coherence state: unknown phase");
  s.phase = phase;
  s.newestBucket = r.f64();
  s.firstBucket = r.f64();
  s.closedBucket = r.f64();
  s.trace = r.f64();
  s.ratio = r.f64();
  s.shift = r.f64();
  s.shortMean = r.f64();
  s.longMean = r.f64();
  s.longVar = r.f64();
  s.ratioCount = r.f64();
  s.lastIterations = r.f64();
  const nCounters = r.u32();
  const counters = new Float64Array(Math.max(nCounters, COUNTER_NAMES.length));
  r.f64s(counters, nCounters);
  s.counters = counters;
  r.f64s(s.lastPrice, m);
  r.f64s(s.lastBar, m);
  r.f64s(s.lastT, m);
  r.f64s(s.latestBucket, m);
  r.f64s(s.mean, m);
  const flags = r.bytes();
  s.flags.set(flags.subarray(0, m));
  const queues: { bucket: number; price: number }[][] = [];
  for (let c = 0; c < m; c++) {
    const len = r.u32();
    const q: { bucket: number; price: number }[] = [];
    for (let e = 0; e < len; e++) q.push({ bucket: r.f64(), price: r.f64() });
    queues.push(q);
    while (qcap < len) qcap *= 2;
  }
  if (qcap !== s.qcap) {
    s.qcap = qcap;
    s.qBucket = new Float64Array(cap * qcap);
    s.qPrice = new Float64Array(cap * qcap);
  }
  queues.forEach((q, c) => {
    q.forEach((e, i) => {
      s.qBucket[c * qcap + i] = e.bucket;
      s.qPrice[c * qcap + i] = e.price;
    });
    s.qLen[c] = q.length;
  });
  const row = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    r.f64s(row, m);
    s.cov.set(row, i * cap);
  }
  s.basisCols = Math.max(kq, 4);
  s.basis = new Float64Array(cap * s.basisCols);
  for (let j = 0; j < kq; j++) {
    r.f64s(row, m);
    s.basis.set(row, j * cap);
  }
  s.kq = kq;
  r.end();
  return s;
}

/** The coherence kernel (see the module comment). */
export const coherenceKernel: Kernel<CoherenceState, CoherenceConfig, CoherenceResult> = {
  init: initCoherence,
  step: stepCoherence,
  configure: configureCoherence,
  save: saveCoherence,
  load: loadCoherence,
};
