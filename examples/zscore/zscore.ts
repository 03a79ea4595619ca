/**
 * An example of a per-channel detector written against troupe's library: each channel's values
 * are scored by how many exponentially weighted standard deviations they lie from the
 * exponentially weighted mean of the samples before them, and a `zscore_spike` finding goes out
 * when |z| first rises past the threshold (not again until it has fallen back under the threshold
 * less the hysteresis). Every decision is per sample, so framing changes nothing; the state is
 * eight numbers, saved exactly as 64 bytes.
 */
import { defineKind, type Finding } from "troupe";

/** The kernel's state: the running mean and variance, the samples seen, whether |z| is high. */
export interface ZscoreState {
  mean: number;
  variance: number;
  count: number;
  high: boolean;
  alpha: number;
  threshold: number;
  hysteresis: number;
  warmup: number;
}

const STATE_BYTES = 64;

/** The zscore kind: per channel, a `z` column per sample and `zscore_spike` findings. */
export const zscore = defineKind({
  kind: "zscore",
  version: 1,
  config: {
    half_life_samples: { type: "number", default: 50, min: 1, max: 1e6 },
    threshold: { type: "number", default: 4, min: 0.5, max: 100 },
    hysteresis: { type: "number", default: 1, min: 0, max: 100 },
    warmup_samples: { type: "number", default: 30, min: 2, max: 1e6, integer: true },
  },
  findings: [{ type: "zscore_spike", measure: "z", abs: true, edges: [5, 6, 8, 12], unit: "sd" }],
  outputs: ["z"],
  kernel: {
    init(config) {
      return {
        mean: 0,
        variance: 0,
        count: 0,
        high: false,
        alpha: 1 - Math.pow(0.5, 1 / config.half_life_samples),
        threshold: config.threshold,
        hysteresis: config.hysteresis,
        warmup: config.warmup_samples,
      };
    },
    configure(state, config) {
      state.alpha = 1 - Math.pow(0.5, 1 / config.half_life_samples);
      state.threshold = config.threshold;
      state.hysteresis = config.hysteresis;
      state.warmup = config.warmup_samples;
    },
    step(state, frame) {
      const n = frame.v.length;
      const z = new Float64Array(n);
      const findings: Finding[] = [];
      for (let i = 0; i < n; i++) {
        const x = frame.v[i]!;
        const sd = Math.sqrt(state.variance);
        const zi = state.count >= state.warmup && sd > 0 ? (x - state.mean) / sd : 0;
        z[i] = zi;
        if (!state.high && Math.abs(zi) >= state.threshold) {
          state.high = true;
          findings.push({
            type: "zscore_spike",
            ts: frame.t[i]!,
            channel: frame.channel,
            seq: frame.seq0 + i,
            value: x,
            mean: state.mean,
            z: zi,
          });
        } else if (state.high && Math.abs(zi) < state.threshold - state.hysteresis) {
          state.high = false;
        }
        // The running moments (West 1979, weighted): the sample joins after it is judged.
        const d = x - state.mean;
        const a = state.count === 0 ? 1 : state.alpha;
        state.mean += a * d;
        state.variance = (1 - a) * (state.variance + a * d * d);
        state.count++;
      }
      return { findings, columns: { z } };
    },
    save(state) {
      const b = new Uint8Array(STATE_BYTES);
      const d = new DataView(b.buffer);
      d.setFloat64(0, state.mean, true);
      d.setFloat64(8, state.variance, true);
      d.setFloat64(16, state.count, true);
      d.setFloat64(24, state.high ? 1 : 0, true);
      d.setFloat64(32, state.alpha, true);
      d.setFloat64(40, state.threshold, true);
      d.setFloat64(48, state.hysteresis, true);
      d.setFloat64(56, state.warmup, true);
      return b;
    },
    load(bytes) {
      if (bytes.length !== STATE_BYTES) {
        throw new Error(
          `Cannot load a zscore state of ${bytes.length} bytes: it has ${STATE_BYTES}`,
        );
      }
      const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return {
        mean: d.getFloat64(0, true),
        variance: d.getFloat64(8, true),
        count: d.getFloat64(16, true),
        high: d.getFloat64(24, true) === 1,
        alpha: d.getFloat64(32, true),
        threshold: d.getFloat64(40, true),
        hysteresis: d.getFloat64(48, true),
        warmup: d.getFloat64(56, true),
      };
    },
  },
  describeState: (s) => ({ ...s }),
});

export default zscore;
