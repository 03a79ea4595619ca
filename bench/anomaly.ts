/**
 * `troupe bench anomaly`: the anomaly kernel's speed on one core. The figure is samples per second
 * through `anomalyKernel.step` in frames of `--samples` samples (default 500), each step handed
 * the last one's result to reuse, as the actor runtime does (actor_instance.ts), on a synthetic
 * metric (daily cycle, noise, a slow drift, spikes and level shifts, 5-minute steps), with the
 * actor's default configuration; the baseline is a loop that only reads the same samples of the
 * same frames. Also measured for frames of one sample, the latency unit. Each figure is the best
 * of several short timed runs, kernel and baseline interleaved, and is timed in this process's CPU
 * time (`process.cpuUsage`), so that "on one core" means the core's time actually spent, not wall
 * time stretched by other work on this shared machine; the wall-clock rates are logged too. A
 * last row times it at a fleet's shape (`--channels`, bench/_kernel_fleet.ts): many channels, each
 * stepped one sample at a time in turn, against the same work over a few channels at a time, whose
 * states stay in cache.
 */
import { anomalyActor, type AnomalyResult } from "../actors/anomaly/mod.ts";
import type { SampleFrame } from "../protocol/mod.ts";
import { Prng } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { readOptions } from "./_option_table.ts";
import { frameRunsOptions } from "./_frame_runs_options.ts";
import { human } from "./_human.ts";
import { cpuMs } from "./_cpu_ms.ts";
import { FLEET_OPTIONS, kernelFleetRow } from "./_kernel_fleet.ts";

const NAME = "anomaly";
const SERIES_SAMPLES = 1 << 21;

/** A synthetic metric of `n` samples: the shape of the NAB series the detector is built for. */
export function syntheticMetric(n: number, seed = 42): { t: Float64Array; v: Float64Array } {
  const rng = new Prng(seed);
  const t = new Float64Array(n), v = new Float64Array(n);
  const t0 = Date.UTC(2024, 0, 1) * 1000;
  let shift = 0;
  for (let i = 0; i < n; i++) {
    t[i] = t0 + i * 300_000_000;
    if (rng.chance(1e-4)) shift += 10 * rng.normal();
    const spike = rng.chance(1e-3) ? 30 * rng.exponential() : 0;
    v[i] = 50 + 20 * Math.sin((2 * Math.PI * i) / 288) + i * 1e-5 + shift + spike + rng.normal();
  }
  return { t, v };
}

function framesOf(t: Float64Array, v: Float64Array, size: number): SampleFrame[] {
  const frames: SampleFrame[] = [];
  for (let i = 0; i + size <= t.length; i += size) {
    frames.push({
      channel: "bench",
      seq0: i,
      t: t.subarray(i, i + size),
      v: v.subarray(i, i + size),
    });
  }
  return frames;
}

/** Written by the timed loops so that their work cannot be optimised away. */
let sink = 0;

/** A timed run's rates: samples per CPU second and per wall second. */
interface Rate {
  cpu: number;
  wall: number;
}

function rateOf(samples: number, wall0: number, cpu0: number): Rate {
  return { cpu: (samples * 1000) / (cpuMs() - cpu0), wall: (samples * 1000) / (nowMs() - wall0) };
}

/** Kernel samples per second over about `ms` milliseconds of CPU, from a fresh state. */
function timeKernel(frames: SampleFrame[], ms: number): Rate {
  const kernel = anomalyActor.kernel;
  const state = kernel.init(anomalyActor.defaultConfig, "bench");
  let samples = 0, spent: AnomalyResult | undefined;
  const wall0 = nowMs(), cpu0 = cpuMs();
  let used = 0;
  for (let f = 0; f < frames.length && used < ms; f++) {
    const frame = frames[f]!;
    const r = spent = kernel.step(state, frame, spent);
    sink += r.changes.length + r.valid;
    samples += frame.v.length;
    if ((f & 15) === 15) used = cpuMs() - cpu0;
  }
  return rateOf(samples, wall0, cpu0);
}

/** Samples per second of a loop that reads each frame's times and values, over about `ms`. */
function timeRead(frames: SampleFrame[], ms: number): Rate {
  let samples = 0, acc = 0;
  const wall0 = nowMs(), cpu0 = cpuMs();
  let used = 0;
  for (let f = 0; f < frames.length && used < ms; f++) {
    const { t, v } = frames[f]!;
    for (let i = 0; i < v.length; i++) acc += t[i]! + v[i]!;
    samples += v.length;
    if ((f & 255) === 255) used = cpuMs() - cpu0;
  }
  sink += acc;
  return rateOf(samples, wall0, cpu0);
}

/**
 * The anomaly kernel's own CPU microseconds a sample in frames of one sample (a fleet channel's
 * shape), the best of `runs` timed runs of about `ms` each: the floor a host's cost a channel's
 * sample is read against (`bench remote-write`).
 */
export function anomalyKernelUsPerSample(ms = 300, runs = 3): number {
  const { t, v } = syntheticMetric(1 << 20);
  const frames = framesOf(t, v, 1);
  let best = 0;
  for (let r = 0; r < runs; r++) best = Math.max(best, timeKernel(frames, ms).cpu);
  return 1e6 / best;
}

const OPTIONS = { ...frameRunsOptions(300), ...FLEET_OPTIONS };

export const benchmark: Benchmark = {
  name: NAME,
  summary: "anomaly kernel samples/s on one core, against a loop that only reads the same samples",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { samples, ms, runs, channels } = readOptions(args, OPTIONS);
    const { t, v } = syntheticMetric(SERIES_SAMPLES);
    const rows: BenchRow[] = [];
    for (
      const [n, metric] of [[samples, "samples_per_s"], [1, "samples_per_s_1_sample"]] as const
    ) {
      const frames = framesOf(t, v, n);
      const kernel = { cpu: 0, wall: 0 }, read = { cpu: 0, wall: 0 };
      for (let r = 0; r < runs; r++) {
        const k = timeKernel(frames, ms), b = timeRead(frames, ms);
        kernel.cpu = Math.max(kernel.cpu, k.cpu);
        kernel.wall = Math.max(kernel.wall, k.wall);
        read.cpu = Math.max(read.cpu, b.cpu);
        read.wall = Math.max(read.wall, b.wall);
      }
      ctx.log(
        `${NAME}: frames of ${n} samples: kernel ${human(kernel.cpu)} samples/CPU-s (${
          human(kernel.wall)
        }/s wall), read loop ${human(read.cpu)} samples/CPU-s (${human(read.wall)}/s wall)`,
      );
      rows.push(
        row({
          bench: NAME,
          metric,
          unit: "samples/s",
          troupe: kernel.cpu,
          baseline: read.cpu,
          better: "higher",
        }),
      );
    }
    if (channels > 0) {
      const config = anomalyActor.defaultConfig;
      const fleet = { bench: NAME, settings: "the defaults", config, channels, values: v, ctx };
      rows.push(kernelFleetRow(anomalyActor.kernel, { ...fleet, repeat: runs }));
    }
    if (sink === 0.5) ctx.log("");
    return Promise.resolve(rows);
  },
};
