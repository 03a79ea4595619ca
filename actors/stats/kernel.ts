/**
 * The stats kernel: per channel, the running count, mean and variance (Welford's update, stable
 * over long runs), minimum, maximum and sample rate. It is the smallest real kernel, and the
 * model the others follow: a typed-array state, a tight loop per frame, exact save and load.
 */
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";

/** The stats kernel's configuration. */
export interface StatsConfig {
  /** Publish the running statistics every this many samples. */
  every_samples: number;
}

/** A channel's running statistics (also the kernel's result for a frame). */
export interface StatsSummary {
  count: number;
  mean: number;
  variance: number;
  min: number;
  max: number;
  /** Samples per second over the span seen so far (0 until the span is positive). */
  rate_per_s: number;
  /** The time of the last sample, microseconds since the epoch. */
  t_last_us: number;
}

// State layout: one Float64Array, so save/load is a byte copy.
const COUNT = 0, MEAN = 1, M2 = 2, MIN = 3, MAX = 4, T_FIRST = 5, T_LAST = 6, SIZE = 7;

/** The stats kernel's state. */
export type StatsState = Float64Array;

function summarise(s: StatsState): StatsSummary {
  const count = s[COUNT]!;
  const span = s[T_LAST]! - s[T_FIRST]!;
  return {
    count,
    mean: s[MEAN]!,
    variance: count > 1 ? s[M2]! / (count - 1) : 0,
    min: s[MIN]!,
    max: s[MAX]!,
    rate_per_s: span > 0 ? ((count - 1) * 1e6) / span : 0,
    t_last_us: s[T_LAST]!,
  };
}

/** The stats kernel. */
export const statsKernel: Kernel<StatsState, StatsConfig, StatsSummary> = {
  init() {
    const s = new Float64Array(SIZE);
    s[MIN] = Infinity;
    s[MAX] = -Infinity;
    return s;
  },

  step(s, frame: SampleFrame) {
    const { t, v } = frame;
    const n = v.length;
    if (n === 0) return summarise(s);
    let count = s[COUNT]!, mean = s[MEAN]!, m2 = s[M2]!, min = s[MIN]!, max = s[MAX]!;
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      count++;
      const d = x - mean;
      mean += d / count;
      m2 += d * (x - mean);
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (s[COUNT] === 0) s[T_FIRST] = t[0]!;
    s[COUNT] = count;
    s[MEAN] = mean;
    s[M2] = m2;
    s[MIN] = min;
    s[MAX] = max;
    s[T_LAST] = t[n - 1]!;
    return summarise(s);
  },

  save(s) {
    return new Uint8Array(s.slice().buffer);
  },

  load(bytes) {
    if (bytes.byteLength !== SIZE * 8) {
      throw new Error(
        `Cannot load stats state: expected ${SIZE * 8} bytes, got ${bytes.byteLength}`,
      );
    }
    const s = new Float64Array(SIZE);
    new Uint8Array(s.buffer).set(bytes);
    return s;
  },
};
