/**
 * The coherence kernel: how much a group of channels moves as one. It aligns the channels' prices
 * on bars, folds each bar's log returns into an exponentially weighted covariance, tracks the
 * covariance's top eigenvectors by warm-started subspace iteration, and reports the absorption
 * ratio (Kritzman, Li, Page and Rigobon 2011: the top `n` eigenvalues' share of the total
 * variance) and its standardized shift (short mean of the ratio minus its long mean, over its long
 * standard deviation).
 *
 * Alignment. A frame carries samples of one channel, so the group's bars are assembled here. A
 * sample at time `t` falls in bar `floor(t / bar_us)`; a channel's price in a bar is its last valid
 * sample there. A bar closes once every live channel has data in a later bar (frames of different
 * channels arrive in any interleaving), or at the latest when a bar more than `lag_bars_max` newer
 * has data; a channel that held a bar back that long is marked dormant and no longer waited for
 * until it sends again. So the lag must cover the span of one frame when channels send frames of
 * many bars in turn. Nothing closes before the group has data spanning more than the lag (the join
 * window), so that channels whose first frame comes after another channel's are in the group before
 * its first bars close. Bars where no channel has data do not exist (a market's night is not a run
 * of zero returns). At a closing bar, a channel with a price there gets the log return from its
 * previous price; one without carries its price forward (return 0), and its next return spans the
 * gap, unless it was silent for more than `gap_bars_max` bars, in which case it restarts: its next
 * price is a new base. A channel enters the covariance with its first return, so a late joiner
 * starts with zero variance and builds up over a few half-lives; N, the number of channels counted
 * by `n = ceil(N / 5)`, is the number that have entered.
 *
 * Bad input never throws and never poisons the state: a non-finite time or value, a price at or
 * below zero (no log return), a sample older than the channel's previous one or older than the
 * last closed bar, a channel not in the group, or a channel beyond `channels_max` is skipped and
 * counted (`coherenceCounters`). A constant channel just has zero variance; when the whole group
 * has none, the ratio is undefined: NaN, and the shift statistics skip that bar.
 *
 * Phase. Every bar past warm-up moves the group's phase by its shift (phase.ts), here, bar by bar,
 * so that the machine is handed every change in order, with the bar's ratio, shift and top
 * loadings, whatever the framing of the samples (a frame of many bars is judged bar by bar, not by
 * its last bar).
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";
import { logFast } from "../math/mod.ts";
import { fillColumn } from "./_orthonormal_columns.ts";
import { KRYLOV_DEPTH, type SubspaceWork, subspaceWork, trackTopSubspace } from "./_subspace.ts";
import { type CoherenceConfig, isMember } from "./config.ts";
import { nextPhase } from "./phase.ts";
import { updateShift } from "./shift.ts";
import { effectiveBars, ratioVariance } from "./_ratio_noise.ts";
import {
  alphaOf,
  C_BARS,
  C_DORMANT,
  C_FOREIGN,
  C_INVALID,
  C_ITERATIONS,
  C_LATE,
  C_NONPOSITIVE,
  C_OVERFLOW,
  C_RESTARTS,
  C_UNCONVERGED,
  C_UPDATES,
  type CoherenceChange,
  type CoherenceResult,
  type CoherenceState,
  type CoherenceStep,
  COUNTER_NAMES,
  type CounterName,
  DORMANT,
  ENTERED,
  growQueues,
  initCoherence,
  join,
  type Loading,
} from "./_coherence_state.ts";
import { loadCoherence, saveCoherence } from "./_coherence_codec.ts";

export {
  type CoherenceChange,
  type CoherenceResult,
  type CoherenceState,
  type CoherenceStep,
  COUNTER_NAMES,
  type CounterName,
  initCoherence,
  loadCoherence,
  type Loading,
  saveCoherence,
};

/**
 * The share of its full effective sample a covariance must have reached before the shift's
 * baseline learns from its ratio (about 5.3 covariance half-lives).
 */
const MATURE_SHARE = 0.95;

/** Updates between re-orthonormalisations of the tracked basis. */
const REORTHOGONALIZE_EVERY = 64;

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
  if (to === s.phase) {
    s.pendingBars = 0;
    return;
  }
  if (to !== s.pendingPhase || s.pendingBars === 0) {
    s.pendingPhase = to;
    s.pendingBars = 0;
  }
  if (++s.pendingBars < s.config.change_for_bars) return;
  s.pendingBars = 0;
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
  let allSquares = 0;
  for (let i = 0; i < m; i++) {
    const row = i * cap;
    const ei = dev[i]!;
    for (let j = 0; j < m; j++) {
      const x = keep * (cov[row + j]! + ei * dev[j]!);
      cov[row + j] = x;
      allSquares += x * x;
    }
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
  // A covariance of a few bars spans a few directions, so its ratio starts near 1 and falls as
  // bars accrue: the shift's baseline learns nothing until the covariance's effective sample is
  // within MATURE_SHARE of its full size (the transient would widen a young group's sd).
  const effective = effectiveBars(alpha, s.counters[C_UPDATES]!);
  if (effective < MATURE_SHARE * (2 - alpha) / alpha) {
    s.shift = NaN;
    return;
  }
  let topSquares = 0;
  for (let i = 0; i < n; i++) topSquares += work.values[i]! * work.values[i]!;
  updateShift(s, ratio, ratioVariance({ ratio, trace, topSquares, allSquares }, effective));
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

/** The coherence kernel (see the module comment). */
export const coherenceKernel: Kernel<CoherenceState, CoherenceConfig, CoherenceResult> = {
  init: initCoherence,
  step: stepCoherence,
  configure: configureCoherence,
  save: saveCoherence,
  savesFresh: true,
  loadsCopy: true,
  load: loadCoherence,
};
