/**
 * The stats kernel: per channel, the running count, mean and variance, minimum, maximum and sample
 * rate, published every `every_samples` samples. It is the smallest real kernel, and the model the
 * others follow: a typed-array state, a tight loop per frame, exact save and load.
 *
 * What it publishes must not depend on how the samples were framed: a publication falls
 * on the sample that completes `every_samples` since the last one, wherever frames begin and end,
 * and carries the figures as of that sample, bit for bit the same for frames of 1 or of 4,096. So
 * the samples since the last publication (the open block) are summed one by one, in order, as
 * deviations from a shift fixed when the block opened (the running mean, or the block's first
 * sample): a sum and a sum of squares, two independent additions per sample and no division (a
 * division per sample, as in Welford's update, is a dependency chain that sets the loop's speed).
 * When the block completes, its mean and squared deviations are merged into the running figures
 * with Chan et al.'s pairwise update, as stable as Welford's over long runs. A frame's loop is cut
 * only where a publication falls.
 */
import {
  allocBytes,
  type Kernel,
  readWords,
  type SampleFrame,
  writeWords,
} from "../../protocol/mod.ts";

/** The stats kernel's configuration. */
export interface StatsConfig {
  /** Publish the running statistics every this many samples. */
  every_samples: number;
}

/** A channel's running statistics as of one sample. */
export interface StatsSummary {
  count: number;
  mean: number;
  variance: number;
  min: number;
  max: number;
  /** Samples per second over the span seen so far (0 until the span is positive). */
  rate_per_s: number;
  /** The time of the last sample counted, microseconds since the epoch. */
  t_last_us: number;
}

/** What a frame produced: the publications that fell in it, in order (usually none). */
export type StatsResult = readonly StatsSummary[];

// State layout: one Float64Array, so save/load is a byte copy. COUNT, MEAN and M2 are the running
// figures up to the last publication; SINCE samples came since (the open block), summed as
// deviations from SHIFT into S1 and S2. MIN, MAX, T_FIRST and T_LAST cover every sample. EVERY is
// the configured every_samples.
const COUNT = 0, MEAN = 1, M2 = 2, MIN = 3, MAX = 4, T_FIRST = 5, T_LAST = 6, SINCE = 7, EVERY = 8;
const SHIFT = 9, S1 = 10, S2 = 11;
const SIZE = 12;

/** The stats kernel's state. */
export type StatsState = Float64Array;

const NONE: StatsResult = Object.freeze([]);

/**
 * Count, mean and sum of squared deviations over every sample so far (the open block merged in).
 */
function merged(s: StatsState): { count: number; mean: number; m2: number } {
  const committed = s[COUNT]!;
  const n = s[SINCE]!;
  if (n === 0) return { count: committed, mean: s[MEAN]!, m2: s[M2]! };
  const s1 = s[S1]!;
  const blockMean = s[SHIFT]! + s1 / n;
  const blockM2 = Math.max(0, s[S2]! - (s1 * s1) / n);
  if (committed === 0) return { count: n, mean: blockMean, m2: blockM2 };
  const count = committed + n;
  const delta = blockMean - s[MEAN]!;
  return {
    count,
    mean: s[MEAN]! + delta * (n / count),
    m2: s[M2]! + blockM2 + delta * delta * ((committed * n) / count),
  };
}

function summarise(s: StatsState, m: { count: number; mean: number; m2: number }): StatsSummary {
  const span = s[T_LAST]! - s[T_FIRST]!;
  return {
    count: m.count,
    mean: m.mean,
    variance: m.count > 1 ? m.m2 / (m.count - 1) : 0,
    min: s[MIN]!,
    max: s[MAX]!,
    rate_per_s: span > 0 ? ((m.count - 1) * 1e6) / span : 0,
    t_last_us: s[T_LAST]!,
  };
}

/** The running figures over every sample so far (the state unchanged). */
export function statsSummary(s: StatsState): StatsSummary {
  return summarise(s, merged(s));
}

/** The state's fields by name: the running figures, and the publication's count and period. */
export function describeStats(s: StatsState): Record<string, unknown> {
  return {
    ...statsSummary(s),
    t_first_us: s[T_FIRST]!,
    samples_since_publication: s[SINCE]!,
    every_samples: s[EVERY]!,
    published_count: s[COUNT]!,
  };
}

/** Closes the open block: its figures become the running ones; returns them. */
function publish(s: StatsState): StatsSummary {
  const m = merged(s);
  s[COUNT] = m.count;
  s[MEAN] = m.mean;
  s[M2] = m.m2;
  s[SINCE] = 0;
  s[S1] = 0;
  s[S2] = 0;
  return summarise(s, m);
}

/** Sums samples `from` to `to` of `v` into the open block, in order. */
function fold(s: StatsState, v: Float64Array, from: number, to: number): void {
  const shift = s[SHIFT]!;
  let s1 = s[S1]!, s2 = s[S2]!, min = s[MIN]!, max = s[MAX]!;
  for (let i = from; i < to; i++) {
    const x = v[i]!;
    const d = x - shift;
    s1 += d;
    s2 += d * d;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  s[S1] = s1;
  s[S2] = s2;
  s[MIN] = min;
  s[MAX] = max;
  s[SINCE] = s[SINCE]! + (to - from);
}

/** The stats kernel. */
export const statsKernel: Kernel<StatsState, StatsConfig, StatsResult> = {
  init(config) {
    const s = new Float64Array(SIZE);
    s[MIN] = Infinity;
    s[MAX] = -Infinity;
    s[EVERY] = config.every_samples;
    return s;
  },

  configure(s, config) {
    // Samples already in the open block count towards the new period; one already past it
    // publishes at the next sample.
    s[EVERY] = config.every_samples;
  },

  step(s, frame: SampleFrame) {
    const { t, v } = frame;
    const n = v.length;
    if (n === 0) return NONE;
    if (s[COUNT]! + s[SINCE]! === 0) s[T_FIRST] = t[0]!;
    let out: StatsSummary[] | undefined;
    for (let i = 0; i < n;) {
      if (s[SINCE] === 0) s[SHIFT] = s[COUNT]! > 0 ? s[MEAN]! : v[i]!;
      const end = Math.min(n, i + Math.max(1, s[EVERY]! - s[SINCE]!));
      fold(s, v, i, end);
      s[T_LAST] = t[end - 1]!;
      i = end;
      if (s[SINCE]! >= s[EVERY]!) (out ??= []).push(publish(s));
    }
    return out ?? NONE;
  },

  save(s) {
    // Little-endian, as every saved state is: the same bytes on any machine.
    const bytes = allocBytes(SIZE * 8);
    writeWords(bytes, 0, s);
    return bytes;
  },
  savesFresh: true,
  loadsCopy: true,

  load(bytes) {
    if (bytes.byteLength !== SIZE * 8) {
      throw new Error(
        `Cannot load stats state: expected ${SIZE * 8} bytes, got ${bytes.byteLength}`,
      );
    }
    return readWords(Float64Array, bytes, 0, SIZE);
  },
};
