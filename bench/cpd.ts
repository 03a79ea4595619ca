/**
 * `troupe bench cpd`: the change-point quality of the collapse actor's kernel, run with its
 * configuration as a host would run it, one sample at a time in frames.
 *
 * `--synthetic [--seed S]` scores it on labelled piecewise-stationary series (sim/feeds/piecewise):
 * `f1` (margin 5, averaged over series as in the TCPD benchmark) over series with mean shifts of
 * 2 to 5 sigma and spread changes of 2 to 4 times, under Gaussian and Student-t(3) noise, against
 * the no-change detector; `delay_samples_p50`, the median number of samples from a mean shift to
 * its confirmation (shifts found within the margin); and `false_alarms_per_10k`, changes
 * confirmed per 10k samples of change-free noise, the worse of Gaussian and t(3). Trend changes,
 * which a piecewise-constant model reads as a staircase of level shifts, are scored apart
 * (`f1_trend`) so the headline does not hide them.
 *
 * `--data DIR --out FILE` runs it over series in the Turing Change Point Dataset format
 * (`DIR/datasets/<name>/<name>.json`, `null` for a missing value, one detector per dimension of a
 * multivariate series, their changes merged), writes `{ "<name>": [change indices] }` to FILE and,
 * when `DIR/annotations.json` exists, reports per series and on average F1 and covering
 * (bench/_cpd_metrics.ts) against the no-change detector, the reference point of that benchmark.
 * When `DIR/split.json` exists, the average is over its `scored` series, as TCPD's papers score,
 * and the others (`extra`) are reported apart. `--data DIR --cv` cross-validates the settings.
 */
import { writeFileSync } from "node:fs";
import {
  type CollapseChange,
  type CollapseConfig,
  defaultCollapseConfig,
} from "../actors/collapse/mod.ts";
import { detectChanges, detectSeries } from "./_cpd_detector.ts";
import { type BenchContext, type Benchmark, type BenchRow, percentile, row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { collapseConfigOption } from "./_collapse_config_option.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { piecewise, type PiecewiseNoise } from "../sim/feeds/mod.ts";
import { covering, f1Score, MARGIN_DEFAULT } from "./_cpd_metrics.ts";
import { crossValidate, type CvEntry } from "./_cpd_cv.ts";
import { readTcpdAnnotations, readTcpdDir, readTcpdSplit } from "./_tcpd_data.ts";
export {
  readTcpdAnnotations,
  readTcpdDir,
  readTcpdSeries,
  type TcpdSeries,
  type TcpdSplit,
} from "./_tcpd_data.ts";

const NAME = "cpd";

/** Synthetic suite sizes: series per noise, their length, and the change-free samples. */
const SERIES_PER_NOISE = 25;
const SERIES_SAMPLES = 2000;
const QUIET_SERIES = 50;
const QUIET_SAMPLES = 10_000;

/** What `--data` measured. */
export interface TcpdReport {
  predictions: Record<string, number[]>;
  /** Per annotated series: F1 and covering of the detector and of the no-change detector. */
  scores: Array<
    { name: string; f1: number; covering: number; f1None: number; coveringNone: number }
  >;
}

/** Runs the detector over a TCPD directory and scores it where annotations exist. */
export function runTcpd(dir: string, config: CollapseConfig = defaultCollapseConfig): TcpdReport {
  const series = readTcpdDir(dir);
  const annotations = readTcpdAnnotations(dir);
  const predictions: Record<string, number[]> = {};
  const scores: TcpdReport["scores"] = [];
  for (const s of series) {
    const found = detectSeries(s.dimensions, config);
    predictions[s.name] = found;
    const anns = annotations?.[s.name];
    if (!anns || Object.keys(anns).length === 0) continue;
    scores.push({
      name: s.name,
      f1: f1Score(anns, found, MARGIN_DEFAULT).f1,
      covering: covering(anns, found, s.n),
      f1None: f1Score(anns, [], MARGIN_DEFAULT).f1,
      coveringNone: covering(anns, [], s.n),
    });
  }
  return { predictions, scores };
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

/** What `--synthetic` measured. */
export interface SyntheticReport {
  f1: number;
  f1None: number;
  f1Trend: number;
  f1TrendNone: number;
  /** Delays of the mean shifts found within the margin, and how many there were. */
  delays: number[];
  meanShifts: number;
  falseAlarmsPer10k: Record<PiecewiseNoise, number>;
}

/** F1 of each series and the delays of its mean shifts found within the margin. */
function scoreSeries(
  truth: number[],
  kinds: string[],
  changes: CollapseChange[],
  delays: number[],
): { f1: number; f1None: number } {
  const used = new Set<number>();
  truth.forEach((tau, k) => {
    if (kinds[k] !== "mean") return;
    let best = -1;
    changes.forEach((c, i) => {
      const d = Math.abs(c.changeIndex - tau);
      if (
        !used.has(i) && d <= MARGIN_DEFAULT &&
        (best < 0 || d < Math.abs(changes[best]!.changeIndex - tau))
      ) {
        best = i;
      }
    });
    if (best >= 0) {
      used.add(best);
      delays.push(changes[best]!.index - tau);
    }
  });
  const predicted = changes.map((c) => c.changeIndex);
  return { f1: f1Score({ truth }, predicted).f1, f1None: f1Score({ truth }, []).f1 };
}

/** Runs the synthetic suite from `seed`. */
export function runSynthetic(
  seed: number,
  config: CollapseConfig = defaultCollapseConfig,
): SyntheticReport {
  const f1s: number[] = [], none: number[] = [], trend: number[] = [], trendNone: number[] = [];
  const delays: number[] = [];
  let meanShifts = 0;
  const falseAlarmsPer10k = { gaussian: 0, t3: 0 };
  for (const noise of ["gaussian", "t3"] as const) {
    for (let s = 0; s < SERIES_PER_NOISE; s++) {
      const p = piecewise(`${seed}:${noise}:${s}`, { length: SERIES_SAMPLES, noise });
      const kinds = p.segments.slice(1).map((g) => g.kind);
      meanShifts += kinds.filter((k) => k === "mean").length;
      const r = scoreSeries(p.changes, kinds, detectChanges(p.values, config), delays);
      f1s.push(r.f1);
      none.push(r.f1None);
      const q = piecewise(`${seed}:${noise}:trend:${s}`, {
        length: SERIES_SAMPLES,
        noise,
        kinds: ["trend"],
      });
      const predicted = detectChanges(q.values, config).map((c) => c.changeIndex);
      trend.push(f1Score({ truth: q.changes }, predicted).f1);
      trendNone.push(f1Score({ truth: q.changes }, []).f1);
    }
    let alarms = 0;
    for (let s = 0; s < QUIET_SERIES; s++) {
      const q = piecewise(`${seed}:${noise}:quiet:${s}`, {
        length: QUIET_SAMPLES,
        noise,
        stationary: true,
      });
      alarms += detectChanges(q.values, config).length;
    }
    falseAlarmsPer10k[noise] = (alarms * 10_000) / (QUIET_SERIES * QUIET_SAMPLES);
  }
  return {
    f1: mean(f1s),
    f1None: mean(none),
    f1Trend: mean(trend),
    f1TrendNone: mean(trendNone),
    delays: delays.sort((a, b) => a - b),
    meanShifts,
    falseAlarmsPer10k,
  };
}

function syntheticRows(seed: number, config: CollapseConfig, ctx: BenchContext): BenchRow[] {
  const r = runSynthetic(seed, config);
  const p50 = percentile(r.delays, 50);
  const fa = r.falseAlarmsPer10k;
  ctx.log(
    `${NAME}: seed ${seed}: F1 ${r.f1.toFixed(3)} (no-change ${r.f1None.toFixed(3)}) over ${
      2 * SERIES_PER_NOISE
    } series of mean and spread changes; trend-change F1 ${r.f1Trend.toFixed(3)} (no-change ${
      r.f1TrendNone.toFixed(3)
    })`,
  );
  ctx.log(
    `${NAME}: mean shifts >= 2 sigma found within ${MARGIN_DEFAULT}: ` +
      `${r.delays.length}/${r.meanShifts}; delay p50 ${p50}, p90 ${percentile(r.delays, 90)} ` +
      `samples; false alarms per 10k: Gaussian ${fa.gaussian.toFixed(2)}, t(3) ${fa.t3.toFixed(2)}`,
  );
  return [
    row({
      bench: NAME,
      metric: "f1",
      unit: "F1",
      troupe: r.f1,
      baseline: r.f1None,
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "delay_samples_p50",
      unit: "samples",
      troupe: p50,
      baseline: null,
      better: "lower",
    }),
    row({
      bench: NAME,
      metric: "false_alarms_per_10k",
      unit: "count",
      troupe: Math.max(fa.gaussian, fa.t3),
      baseline: null,
      better: "lower",
    }),
    row({
      bench: NAME,
      metric: "false_alarms_per_10k_gaussian",
      unit: "count",
      troupe: fa.gaussian,
      baseline: null,
      better: "lower",
    }),
    row({
      bench: NAME,
      metric: "false_alarms_per_10k_t3",
      unit: "count",
      troupe: fa.t3,
      baseline: null,
      better: "lower",
    }),
    row({
      bench: NAME,
      metric: "mean_shift_recall",
      unit: "fraction",
      troupe: r.delays.length / r.meanShifts,
      baseline: null,
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "f1_trend",
      unit: "F1",
      troupe: r.f1Trend,
      baseline: r.f1TrendNone,
      better: "higher",
    }),
  ];
}

type Score = TcpdReport["scores"][number];

function logAverage(label: string, scores: readonly Score[], ctx: BenchContext): void {
  const avg = (k: "f1" | "covering" | "f1None" | "coveringNone") => mean(scores.map((s) => s[k]));
  ctx.log(
    `${NAME}: average over ${scores.length} ${label}: F1 ${avg("f1").toFixed(3)}, covering ${
      avg("covering").toFixed(3)
    } (no change: ${avg("f1None").toFixed(3)}, ${avg("coveringNone").toFixed(3)})`,
  );
}

function dataRows(dir: string, out: string, config: CollapseConfig, ctx: BenchContext): BenchRow[] {
  const report = runTcpd(dir, config);
  writeFileSync(out, JSON.stringify(report.predictions, null, 1) + "\n");
  const names = Object.keys(report.predictions);
  ctx.log(`${NAME}: ${names.length} series from ${dir}; change indices written to ${out}`);
  const split = readTcpdSplit(dir);
  if (split) {
    // As TCPD's papers do: the score is over the split's scored series; the others apart.
    const missing = split.scored.filter((n) => !report.scores.some((s) => s.name === n));
    if (missing.length > 0) {
      throw new Error(`${dir}/split.json scores series without data or annotations: ${missing}`);
    }
    const extra = report.scores.filter((s) => !split.scored.includes(s.name));
    report.scores = report.scores.filter((s) => split.scored.includes(s.name));
    if (extra.length > 0) {
      for (const s of extra) {
        ctx.log(`  (extra) ${s.name.padEnd(20)} ${s.f1.toFixed(3)}    ${s.covering.toFixed(3)}`);
      }
      logAverage("extra series (not in the score)", extra, ctx);
    }
    ctx.log(`${NAME}: split.json: scoring its ${split.scored.length} "scored" series`);
  }
  if (report.scores.length === 0) {
    const total = names.reduce((s, k) => s + report.predictions[k]!.length, 0);
    ctx.log(`${NAME}: no annotations.json (or no annotated series): nothing to score`);
    return [
      row({
        bench: NAME,
        metric: "changes_per_series",
        unit: "count",
        troupe: total / Math.max(1, names.length),
        baseline: null,
        better: "lower",
      }),
    ];
  }
  ctx.log(`${NAME}: ${"series".padEnd(28)}     f1  covering   (no change: f1, covering)`);
  for (const s of report.scores) {
    ctx.log(
      `  ${s.name.padEnd(28)} ${s.f1.toFixed(3)}    ${s.covering.toFixed(3)}   (${
        s.f1None.toFixed(3)
      }, ${s.coveringNone.toFixed(3)})`,
    );
  }
  const avg = (k: "f1" | "covering" | "f1None" | "coveringNone") =>
    mean(report.scores.map((s) => s[k]));
  logAverage("annotated series", report.scores, ctx);
  return [
    row({
      bench: NAME,
      metric: "f1",
      unit: "F1",
      troupe: avg("f1"),
      baseline: avg("f1None"),
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "covering",
      unit: "covering",
      troupe: avg("covering"),
      baseline: avg("coveringNone"),
      better: "higher",
    }),
  ];
}

/** The synthetic bars: F1 >= 0.9, median delay <= 10 samples, <= 1 false alarm per 10k. */
export function meetsSyntheticBars(config: CollapseConfig, seed = 1): boolean {
  const r = runSynthetic(seed, config);
  const fa = Math.max(r.falseAlarmsPer10k.gaussian, r.falseAlarmsPer10k.t3);
  return r.f1 >= 0.9 && percentile(r.delays, 50) <= 10 && fa <= 1;
}

function cvRows(dir: string, config: CollapseConfig, ctx: BenchContext): BenchRow[] {
  const scored = readTcpdSplit(dir)?.scored;
  const r = crossValidate(dir, {
    base: config,
    admissible: (c) => meetsSyntheticBars(c),
    ...(scored ? { scored } : {}),
  });
  const show = (e: CvEntry | undefined) =>
    e ? `${JSON.stringify(e.fields)}: F1 A ${e.f1A.toFixed(3)}, B ${e.f1B.toFixed(3)}` : "none";
  ctx.log(
    `${NAME}: 2-fold cross-validation over ${r.entries.length} configurations (${r.checked} ` +
      `checked against the synthetic bars, ${r.admitted} met them)`,
  );
  ctx.log(`${NAME}: half A: ${r.halfA.join(", ")}`);
  ctx.log(`${NAME}: half B: ${r.halfB.join(", ")}`);
  ctx.log(`${NAME}: chosen on A ${show(r.fitA)} (B held out)`);
  ctx.log(`${NAME}: chosen on B ${show(r.fitB)} (A held out)`);
  ctx.log(`${NAME}: chosen on both ${show(r.fitAll)}`);
  ctx.log(
    `${NAME}: leave-one-out (each series held out, the configuration chosen on the other ${
      r.halfA.length + r.halfB.length - 1
    }): F1 ${r.looF1.toFixed(3)}; chosen: ${r.looChosen.map((f) => JSON.stringify(f)).join(", ")}`,
  );
  const heldOutB = r.fitA?.f1B ?? NaN;
  const heldOutA = r.fitB?.f1A ?? NaN;
  const heldOut = (heldOutB * r.halfB.length + heldOutA * r.halfA.length) /
    (r.halfA.length + r.halfB.length);
  return [
    row({
      bench: NAME,
      metric: "cv_f1_held_out_b",
      unit: "F1",
      troupe: heldOutB,
      baseline: null,
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "cv_f1_held_out_a",
      unit: "F1",
      troupe: heldOutA,
      baseline: null,
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "cv_f1_held_out",
      unit: "F1",
      troupe: heldOut,
      baseline: null,
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "cv_f1_leave_one_out",
      unit: "F1",
      troupe: r.looF1,
      baseline: null,
      better: "higher",
    }),
  ];
}

/** The benchmark. */
const OPTIONS = {
  synthetic: {
    help: "score labelled synthetic series (what it does when --data is not given)",
    flag: true,
  },
  seed: {
    help: "seed of the synthetic series",
    arg: "S",
    default: 1,
    number: { min: 0, integer: true },
  },
  data: { help: "series in the TCPD format: DIR/datasets/<name>/<name>.json", arg: "DIR" },
  out: { help: "with --data: write { name: [change indices] } here (required)", arg: "FILE" },
  cv: {
    help: "with --data: 2-fold cross-validation of a grid of settings over the scored series " +
      "(bench/_cpd_cv.ts), fit on one half, scored on the other; and leave-one-out over the series",
    flag: true,
  },
  config: {
    help: "collapse configuration fields over the kind's own, e.g. '{\"hazard\":0.01}'",
    arg: "JSON",
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "collapse change points: F1, delay and false alarms on labelled synthetic series, or TCPD " +
    "F1/covering, against no change",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    try {
      const values = readOptions(args, OPTIONS);
      const config = collapseConfigOption(values.config);
      const data = values.data;
      if (data !== undefined) {
        if (values.synthetic) {
          throw new BenchOptionError("Options --synthetic and --data exclude each other");
        }
        if (values.cv) return Promise.resolve(cvRows(data, config, ctx));
        const out = values.out;
        if (out === undefined) throw new BenchOptionError("Option --data needs --out FILE");
        return Promise.resolve(dataRows(data, out, config, ctx));
      }
      return Promise.resolve(syntheticRows(values.seed, config, ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
