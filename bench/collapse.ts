/**
 * `troupe bench collapse`: the collapse kernel's speed on one core, in samples per second, fed in
 * frames as the host feeds it, over a labelled series with mean and spread changes under
 * Student-t(3) noise (so changes are confirmed and outliers handled while it is timed). The
 * baseline is a loop that only reads the same samples frame by frame: the cost floor of touching
 * the data. Time is the process's CPU time (user + system), so other work on a shared machine does
 * not count against the kernel; wall time is logged beside it. Best of `--repeat` runs. A second
 * row times the same series with the settings of service metrics (metricsCollapseConfig: a daily
 * season and prewhitening), which troupe up --feed metrics and bench detect use. A third times it
 * at a fleet's shape (`--channels`, bench/_kernel_fleet.ts): many channels, each stepped one sample
 * at a time in turn with the metrics settings, against the same work over a few channels at a
 * time, whose states stay in cache.
 */
import process from "node:process";
import {
  type CollapseConfig,
  collapseKernel,
  metricsCollapseConfig,
} from "../actors/collapse/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { collapseConfigOption } from "./_collapse_config_option.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { piecewise } from "../sim/feeds/mod.ts";
import { cpuMs } from "./_cpu_ms.ts";
import { FLEET_OPTIONS, kernelFleetRow } from "./_kernel_fleet.ts";

const NAME = "collapse";

interface Timing {
  cpuMs: number;
  wallMs: number;
  sink: number;
}

function timeKernel(
  values: Float64Array,
  times: Float64Array,
  frame: number,
  config: CollapseConfig,
): Timing & { changes: number; runs: number } {
  const state = collapseKernel.init(config, NAME);
  let changes = 0, runs = 0, frames = 0;
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  for (let i = 0; i < values.length; i += frame) {
    const end = Math.min(values.length, i + frame);
    const r = collapseKernel.step(state, {
      channel: NAME,
      seq0: i,
      t: times.subarray(i, end),
      v: values.subarray(i, end),
    });
    changes += r.changes.length;
    runs += r.runs;
    frames++;
  }
  const wallMs = nowMs() - t0;
  return { cpuMs: cpuMs(c0), wallMs, sink: changes, changes, runs: runs / frames };
}

function timeBaseline(values: Float64Array, times: Float64Array, frame: number): Timing {
  let sink = 0;
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  for (let i = 0; i < values.length; i += frame) {
    const end = Math.min(values.length, i + frame);
    const v = values.subarray(i, end);
    const t = times.subarray(i, end);
    for (let k = 0; k < v.length; k++) sink += v[k]! + t[k]!;
  }
  const wallMs = nowMs() - t0;
  return { cpuMs: cpuMs(c0), wallMs, sink };
}

function measure(args: string[], ctx: BenchContext): BenchRow[] {
  const values = readOptions(args, OPTIONS);
  const { samples, frame, repeat, channels } = values;
  const config = collapseConfigOption(values.config);

  const series = piecewise("bench-collapse", {
    length: samples,
    noise: "t3",
    segmentMin: 2000,
    segmentMax: 20_000,
  });
  const times = new Float64Array(samples);
  for (let i = 0; i < samples; i++) times[i] = 1.7e15 + i * 1e6;
  // Warm up both loops so the timed runs measure optimised code.
  const warm = Math.min(samples, 100_000);
  timeKernel(series.values.subarray(0, warm), times.subarray(0, warm), frame, config);
  timeBaseline(series.values.subarray(0, warm), times.subarray(0, warm), frame);

  // The same series with the settings of service metrics (a daily season, prewhitening), as
  // troupe up --feed metrics and bench detect run them, over the same configuration.
  const metrics: CollapseConfig = { ...config, ...metricsCollapseConfig };
  timeKernel(series.values.subarray(0, warm), times.subarray(0, warm), frame, metrics);

  let kernel = timeKernel(series.values, times, frame, config);
  let base = timeBaseline(series.values, times, frame);
  let seasonal = timeKernel(series.values, times, frame, metrics);
  for (let r = 1; r < repeat; r++) {
    const k = timeKernel(series.values, times, frame, config);
    if (k.cpuMs < kernel.cpuMs) kernel = k;
    const b = timeBaseline(series.values, times, frame);
    if (b.cpuMs < base.cpuMs) base = b;
    const m = timeKernel(series.values, times, frame, metrics);
    if (m.cpuMs < seasonal.cpuMs) seasonal = m;
  }
  const perSecond = (ms: number) => (samples * 1000) / Math.max(ms, 1e-3);
  ctx.log(
    `${NAME}: ${samples} samples in frames of ${frame}, runs_max ${config.runs_max} (mean kept ${
      kernel.runs.toFixed(1)
    }), ${kernel.changes} changes confirmed (${series.changes.length} true)`,
  );
  ctx.log(
    `${NAME}: kernel ${kernel.cpuMs.toFixed(0)} ms CPU, ${kernel.wallMs.toFixed(0)} ms wall (${
      (perSecond(kernel.wallMs) / 1e3).toFixed(0)
    }k samples/s wall); read-only loop ${base.cpuMs.toFixed(1)} ms CPU (sink ${
      base.sink.toExponential(2)
    })`,
  );
  ctx.log(
    `${NAME}: with the metrics settings (${JSON.stringify(metricsCollapseConfig)}): kernel ${
      seasonal.cpuMs.toFixed(0)
    } ms CPU, ${seasonal.changes} changes confirmed`,
  );
  const fleet = { bench: NAME, settings: "the metrics settings", config: metrics, repeat, ctx };
  const fleetRows = channels === 0
    ? []
    : [kernelFleetRow(collapseKernel, { ...fleet, channels, values: series.values })];
  return [
    row({
      bench: NAME,
      metric: "samples_per_s",
      unit: "samples/s",
      troupe: perSecond(kernel.cpuMs),
      baseline: perSecond(base.cpuMs),
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "samples_per_s_metrics_settings",
      unit: "samples/s",
      troupe: perSecond(seasonal.cpuMs),
      baseline: perSecond(base.cpuMs),
      better: "higher",
    }),
    ...fleetRows,
  ];
}

/** A whole number >= 1. */
const WHOLE = { min: 1, integer: true };

const OPTIONS = {
  samples: { help: "samples timed", default: 1_000_000, number: WHOLE },
  frame: { help: "samples per frame", default: 500, number: WHOLE },
  repeat: { help: "timed runs; the fastest counts", default: 3, number: WHOLE },
  ...FLEET_OPTIONS,
  config: {
    help: "collapse configuration fields over the kind's own, e.g. '{\"runs_max\":64}'",
    arg: "JSON",
  },
} satisfies OptionTable;

/** The benchmark. */
export const benchmark: Benchmark = {
  name: NAME,
  summary: "collapse kernel samples/s on one core, against a loop that only reads the samples",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    try {
      return Promise.resolve(measure(args, ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
