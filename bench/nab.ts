/**
 * `troupe bench nab`: the anomaly actor's quality on the Numenta Anomaly Benchmark. It runs the
 * actor's own kernel, with its default configuration (one for every file), over every CSV under
 * `--data DIR/data/`, in frames as the host would feed it, and writes `OUT/<category>/<file>.csv`
 * with `timestamp,value,anomaly_score`, one row per input row, in order. Where `DIR/labels/`
 * exists, it scores those rows with troupe's NAB scorer (bench/_nab_scorer.ts) under each profile
 * of the corpus, with the threshold optimised over the corpus given, and reports the normalised
 * scores: `nab_standard`, `nab_reward_low_fp`, `nab_reward_low_fn`. The baseline is the null
 * detector, which scores 0 by construction, so the rows have no baseline column.
 *
 * Guarding against fitting one corpus: `--cv categories` scores each category at the threshold
 * chosen on the other categories (leave-one-category-out, bench/_nab_cv.ts: the `nab_standard_loco`
 * row is the mean over the folds, the figure settings are chosen by); `--cv 2` also scores the two
 * halves of the corpus's stratified 2-fold split, each with its own threshold; `--files` scores a
 * list of files; `--calibration` prints, per file, the share of rows outside the windows scored at
 * or above the configured threshold against the share the threshold promises, and the spread of the
 * per-file best thresholds (bench/_nab_calibration.ts); `--config` sets anomaly fields over the
 * defaults; `--sweep` scores every combination of the given values on both halves and under
 * leave-one-category-out, picks the best setting on each half (standard profile) and reports it on
 * the other.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { anomalyActor, type AnomalyConfig } from "../actors/anomaly/mod.ts";
import { ConfigError } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import {
  listNabFiles,
  type NabDataFile,
  readNabFile,
  readNabProfiles,
  readNabWindows,
} from "./_nab_corpus.ts";
import { categoryGap, categoryScores, cvHalves, locoFolds, parseSweep } from "./_nab_cv.ts";
import { nabCalibration } from "./_nab_calibration.ts";
import {
  type NabFileInput,
  type NabProfile,
  type NabProfileReport,
  scoreCorpus,
} from "./_nab_scorer.ts";
import { REPO_DIR } from "./_repo_dir.ts";

const NAME = "nab";

/** The corpus used when --data is not given, relative to the repository. */
export const NAB_DEV_DIR = resolve(REPO_DIR, "..", "shared", "datasets", "nab-dev");

/** The row metric of each of NAB's profiles. */
const METRICS: Readonly<Record<string, string>> = {
  standard: "nab_standard",
  reward_low_FP_rate: "nab_reward_low_fp",
  reward_low_FN_rate: "nab_reward_low_fn",
};

/** Scores every row of a data file with the anomaly kernel, fed in frames of `frameSamples`. */
export function scoreNabFile(
  file: NabDataFile,
  frameSamples: number,
  config: AnomalyConfig = anomalyActor.defaultConfig,
): Float64Array {
  const kernel = anomalyActor.kernel;
  const state = kernel.init(config, "nab");
  const n = file.v.length;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = file.t[i]! * 1000; // ms -> us
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i += frameSamples) {
    const end = Math.min(n, i + frameSamples);
    const frame = { channel: "nab", seq0: i, t: t.subarray(i, end), v: file.v.subarray(i, end) };
    scores.set(kernel.step(state, frame).score, i);
  }
  return scores;
}

function writeScores(out: string, file: NabDataFile, scores: Float64Array): void {
  const dir = join(out, file.category);
  mkdirSync(dir, { recursive: true });
  const lines = ["timestamp,value,anomaly_score"];
  for (let i = 0; i < scores.length; i++) {
    lines.push(`${file.stamps[i]},${file.texts[i]},${scores[i]}`);
  }
  writeFileSync(join(dir, file.file), lines.join("\n") + "\n");
}

function logReports(ctx: BenchContext, reports: NabProfileReport[]): void {
  const [first] = reports;
  if (!first) return;
  const names = reports.map((r) => r.profile);
  ctx.log(`${NAME}: per-file raw scores (${names.join(" | ")}), tp/fp at the standard threshold`);
  for (let f = 0; f < first.files.length; f++) {
    const cells = reports.map((r) => r.files[f]!.score.toFixed(3).padStart(7)).join(" ");
    const s = first.files[f]!;
    ctx.log(`  ${cells}  tp=${s.tp} fp=${s.fp}  ${s.name}`);
  }
  for (const r of reports) {
    ctx.log(
      `${NAME}: ${r.profile}: threshold ${r.threshold}, raw ${r.raw.toFixed(3)} (null ${
        r.nullScore.toFixed(2)
      }, perfect ${r.perfectScore.toFixed(2)}), normalised ${r.normalized.toFixed(2)}`,
    );
  }
}

/** The configuration of `--config JSON` over the actor's defaults. */
function configOption(text: string | undefined): AnomalyConfig {
  if (text === undefined) return anomalyActor.defaultConfig;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BenchOptionError(
      `Option --config must be a JSON object of anomaly fields, got "${text}"`,
    );
  }
  return parseConfigOver(raw, anomalyActor.defaultConfig);
}

function parseConfigOver(raw: unknown, base: AnomalyConfig): AnomalyConfig {
  try {
    return anomalyActor.parseConfig(raw, base, "anomaly");
  } catch (err) {
    if (err instanceof ConfigError) throw new BenchOptionError(err.message);
    throw err;
  }
}

/** The corpus paths to score: all of them, or those of `--files` (comma-separated). */
function selectFiles(all: string[], files: string | undefined): string[] {
  if (files === undefined) return all;
  const wanted = files.split(",").map((x) => x.trim()).filter((x) => x !== "");
  for (const w of wanted) {
    if (!all.includes(w)) {
      throw new BenchOptionError(`Option --files names "${w}", which is not a CSV of the corpus`);
    }
  }
  return all.filter((p) => wanted.includes(p));
}

/** Labelled inputs of scored files; files without labels are logged and left out. */
function labelled(
  scored: { file: NabDataFile; scores: Float64Array }[],
  windows: Record<string, [number, number][]>,
  ctx: BenchContext,
): NabFileInput[] {
  const inputs: NabFileInput[] = [];
  for (const { file, scores } of scored) {
    const w = windows[file.path];
    if (w === undefined) {
      ctx.log(`${NAME}: ${file.path} has no entry in the labels; left out of the score`);
      continue;
    }
    inputs.push({ name: file.path, t: file.t, scores, windows: w });
  }
  return inputs;
}

function logCategories(
  ctx: BenchContext,
  report: NabProfileReport,
  inputs: NabFileInput[],
  profile: NabProfile,
): void {
  for (const c of categoryScores(report, inputs, profile.fnWeight, profile.tpWeight)) {
    const score = c.normalized === null ? "no windows" : c.normalized.toFixed(2);
    ctx.log(
      `${NAME}: ${report.profile}: ${c.category}: ${score} (raw ${
        c.raw.toFixed(3)
      }, ${c.files} files, ${c.windows} windows)`,
    );
  }
}

/** The standard-profile score of the files of `half` (with their own threshold). */
function halfScore(
  inputs: NabFileInput[],
  half: string[],
  profiles: Record<string, NabProfile>,
): NabProfileReport[] {
  return scoreCorpus(inputs.filter((x) => half.includes(x.name)), profiles);
}

/** `--sweep`: every setting on both halves; the best of each half, checked on the other. */
function sweep(
  files: NabDataFile[],
  windows: Record<string, [number, number][]>,
  profiles: Record<string, NabProfile>,
  base: AnomalyConfig,
  spec: string,
  frameSamples: number,
  ctx: BenchContext,
): BenchRow[] {
  const standard = profiles.standard ? { standard: profiles.standard } : profiles;
  const { a, b } = cvHalves(files.map((f) => f.path));
  ctx.log(`${NAME}: half A: ${a.join(", ")}`);
  ctx.log(`${NAME}: half B: ${b.join(", ")}`);
  const results: {
    over: Record<string, number>;
    a: number;
    b: number;
    all: number;
    loco: number;
  }[] = [];
  for (const over of parseSweep(spec)) {
    const config = parseConfigOver(over, base);
    const scored = files.map((file) => ({
      file,
      scores: scoreNabFile(file, frameSamples, config),
    }));
    const inputs = labelled(scored, windows, ctx);
    const r = {
      over,
      a: halfScore(inputs, a, standard)[0]!.normalized,
      b: halfScore(inputs, b, standard)[0]!.normalized,
      all: scoreCorpus(inputs, standard)[0]!.normalized,
      loco: standard.standard ? locoFolds(inputs, standard.standard).mean : NaN,
    };
    results.push(r);
    ctx.log(
      `${NAME}: A ${r.a.toFixed(2)}  B ${r.b.toFixed(2)}  all ${r.all.toFixed(2)}  loco ${
        r.loco.toFixed(2)
      }  ${JSON.stringify(over)}`,
    );
  }
  const best = (key: "a" | "b") => results.reduce((x, y) => (y[key] > x[key] ? y : x));
  const fitA = best("a"), fitB = best("b");
  ctx.log(
    `${NAME}: fitted on A ${JSON.stringify(fitA.over)} (A ${fitA.a.toFixed(2)}): B ${
      fitA.b.toFixed(2)
    }; fitted on B ${JSON.stringify(fitB.over)} (B ${fitB.b.toFixed(2)}): A ${fitB.a.toFixed(2)}`,
  );
  return [
    row({
      bench: NAME,
      metric: "nab_standard_b_fitted_on_a",
      unit: "score",
      troupe: fitA.b,
      baseline: null,
      better: "higher",
    }),
    row({
      bench: NAME,
      metric: "nab_standard_a_fitted_on_b",
      unit: "score",
      troupe: fitB.a,
      baseline: null,
      better: "higher",
    }),
  ];
}

/** `--cv 2`: every profile's score on each half of the stratified split. */
function cvRows(
  inputs: NabFileInput[],
  profiles: Record<string, NabProfile>,
  ctx: BenchContext,
): BenchRow[] {
  const rows: BenchRow[] = [];
  const halves = cvHalves(inputs.map((x) => x.name));
  for (const [name, half] of [["a", halves.a], ["b", halves.b]] as const) {
    ctx.log(`${NAME}: half ${name.toUpperCase()}: ${half.join(", ")}`);
    for (const r of halfScore(inputs, half, profiles)) {
      const metric = METRICS[r.profile] ?? `nab_${r.profile.toLowerCase()}`;
      rows.push(row({
        bench: NAME,
        metric: `${metric}_cv_${name}`,
        unit: "score",
        troupe: r.normalized,
        baseline: null,
        better: "higher",
      }));
    }
  }
  return rows;
}

/**
 * `--cv categories`: each category with windows scored at the threshold chosen on the others, the
 * mean over those folds (`nab_standard_loco`), and its gap to the score of the whole corpus; and
 * the corpus scored together against its categories each at its own best threshold
 * (`nab_category_gap`, together less their window-weighted mean: the cost of one threshold).
 */
function locoRows(
  inputs: NabFileInput[],
  profiles: Record<string, NabProfile>,
  dev: number,
  ctx: BenchContext,
): BenchRow[] {
  const profile = profiles.standard;
  if (profile === undefined) {
    throw new BenchOptionError(`Option --cv categories needs a "standard" profile in the corpus`);
  }
  const { folds, mean } = locoFolds(inputs, profile);
  if (folds.length === 0) {
    throw new BenchOptionError(
      `Option --cv categories needs two categories, one of them with labelled windows`,
    );
  }
  for (const f of folds) {
    ctx.log(
      `${NAME}: loco: ${f.category} held out: ${f.normalized.toFixed(2)} at threshold ${
        f.threshold.toFixed(4)
      } chosen on the others (${f.files} files, ${f.windows} windows)`,
    );
  }
  ctx.log(
    `${NAME}: loco: mean over ${folds.length} categories ${mean.toFixed(2)}, dev score ${
      dev.toFixed(2)
    }, gap ${(mean - dev).toFixed(2)}`,
  );
  const gap = categoryGap(inputs, profile);
  for (const c of gap.own) {
    ctx.log(
      `${NAME}: own threshold: ${c.category} ${c.normalized.toFixed(2)} at its own best threshold ${
        c.threshold.toFixed(4)
      } (${c.windows} windows)`,
    );
  }
  ctx.log(
    `${NAME}: one threshold: scored together ${gap.together.toFixed(2)}, window-weighted mean ` +
      `of the categories at their own thresholds ${gap.ownMean.toFixed(2)}, gap ${
        gap.gap.toFixed(2)
      }`,
  );
  const common = { bench: NAME, unit: "score", baseline: null, better: "higher" } as const;
  return [
    row({ ...common, metric: "nab_standard_loco", troupe: mean }),
    row({ ...common, metric: "nab_category_gap", troupe: gap.gap }),
  ];
}

/**
 * `--calibration Q`: per file, the share of rows outside the windows scored at or above the
 * threshold Q, against the share it promises (a score q claims that the channel's past
 * reached its raw score no more often than 2^-(q full_score_bits)), and the per-file best
 * thresholds' spread.
 */
function calibrationRows(
  inputs: NabFileInput[],
  profiles: Record<string, NabProfile>,
  threshold: number,
  config: AnomalyConfig,
  ctx: BenchContext,
): BenchRow[] {
  const profile = profiles.standard;
  if (profile === undefined) {
    throw new BenchOptionError(`Option --calibration needs a "standard" profile in the corpus`);
  }
  const { rows, spread } = nabCalibration(inputs, profile, threshold);
  const promise = 2 ** -(threshold * config.full_score_bits);
  ctx.log(
    `${NAME}: calibration at threshold ${threshold}: promised share of rows outside the ` +
      `windows at or above it <= ${promise.toPrecision(3)}; own best threshold (standard)`,
  );
  let worst = 0;
  for (const r of rows) {
    worst = Math.max(worst, r.share);
    const best = r.best === null ? "no windows" : r.best.toFixed(3);
    ctx.log(
      `  ${r.share.toFixed(5)}  ${String(r.above).padStart(3)} of ${
        String(r.outside).padStart(5)
      }  best ${best.padStart(10)}  ${r.name}`,
    );
  }
  const q = spread.map((x) => x.toFixed(3)).join(" / ");
  ctx.log(`${NAME}: calibration: per-file best thresholds min / q1 / median / q3 / max ${q}`);
  const common = { bench: NAME, baseline: null, better: "lower" } as const;
  return [
    row({ ...common, metric: "nab_false_alarm_share_max", unit: "share", troupe: worst }),
    row({
      ...common,
      metric: "nab_best_threshold_iqr",
      unit: "score",
      troupe: spread[3] - spread[1],
    }),
  ];
}

/** The options of a run, checked. */
interface NabOptions {
  /** `--calibration Q`: the false-alarm shares at threshold Q, the per-file best thresholds. */
  calibration: number | undefined;
  data: string;
  out: string;
  frameSamples: number;
  /** `--cv`: none, the stratified halves, or leave-one-category-out. */
  cv: "none" | "2" | "categories";
  config: AnomalyConfig;
  paths: string[];
  sweep: string | undefined;
}

function nabOptions(args: string[]): NabOptions {
  const o = readOptions(args, OPTIONS);
  const data = o.data ?? (existsSync(NAB_DEV_DIR) ? NAB_DEV_DIR : undefined);
  if (data === undefined) {
    throw new BenchOptionError(
      `Option --data is required: the default corpus ${NAB_DEV_DIR} is absent`,
    );
  }
  if (!existsSync(join(data, "data"))) {
    throw new BenchOptionError(
      `Option --data must be a NAB corpus with a data/ folder, got "${data}"`,
    );
  }
  const out = o.out ?? join(REPO_DIR, ".troupe", "bench", "nab");
  const { "frame-samples": frameSamples, cv, calibration } = o;
  const config = configOption(o.config);
  const paths = selectFiles(listNabFiles(join(data, "data")), o.files);
  if (paths.length === 0) throw new BenchOptionError(`No CSV files under ${join(data, "data")}`);
  return { data, out, frameSamples, cv, config, paths, sweep: o.sweep, calibration };
}

/** The benchmark proper; see the module comment. */
function runNab(args: string[], ctx: BenchContext): BenchRow[] {
  const options = nabOptions(args);
  const { data, out, frameSamples, cv, config, paths, sweep: spec } = options;
  const windows = readNabWindows(data);
  if (spec !== undefined) {
    if (windows === undefined) {
      throw new BenchOptionError(`Option --sweep needs ${join(data, "labels")}`);
    }
    const files = paths.map((p) => readNabFile(data, p));
    const rows = sweep(files, windows, readNabProfiles(data), config, spec, frameSamples, ctx);
    return rows;
  }

  const scored: { file: NabDataFile; scores: Float64Array }[] = [];
  let samples = 0, kernelMs = 0;
  for (const path of paths) {
    const file = readNabFile(data, path);
    const t0 = nowMs();
    const scores = scoreNabFile(file, frameSamples, config);
    kernelMs += nowMs() - t0;
    samples += scores.length;
    writeScores(out, file, scores);
    scored.push({ file, scores });
  }
  ctx.log(
    `${NAME}: ${paths.length} files, ${samples} samples scored in ${
      kernelMs.toFixed(0)
    } ms; written under ${out}`,
  );
  if (windows === undefined) {
    ctx.log(`${NAME}: no ${join(data, "labels")}: scores written, nothing to score them against`);
    return [];
  }
  const inputs = labelled(scored, windows, ctx);
  const profiles = readNabProfiles(data);
  const reports = scoreCorpus(inputs, profiles);
  logReports(ctx, reports);
  for (const r of reports) logCategories(ctx, r, inputs, profiles[r.profile]!);
  const rows = reports.map((r) =>
    row({
      bench: NAME,
      metric: METRICS[r.profile] ?? `nab_${r.profile.toLowerCase()}`,
      unit: "score",
      troupe: r.normalized,
      baseline: null,
      better: "higher",
    })
  );
  if (cv === "2") rows.push(...cvRows(inputs, profiles, ctx));
  if (cv === "categories") {
    const dev = reports.find((r) => r.profile === "standard")?.normalized ?? NaN;
    rows.push(...locoRows(inputs, profiles, dev, ctx));
  }
  if (options.calibration !== undefined) {
    rows.push(...calibrationRows(inputs, profiles, options.calibration, config, ctx));
  }
  return rows;
}

const OPTIONS = {
  data: {
    help: "a NAB corpus: DIR/data/<category>/<file>.csv, optional DIR/labels/",
    defaultText: "../shared/datasets/nab-dev when present",
    arg: "DIR",
  },
  out: { help: "where the scored CSVs go", arg: "DIR", defaultText: ".troupe/bench/nab" },
  "frame-samples": {
    help: "samples per frame fed to the kernel",
    default: 500,
    number: { min: 1, max: 65_536, integer: true },
  },
  calibration: {
    help: "per file, the share of rows outside the windows at or above the threshold Q against " +
      "what it promises; the spread of per-file best thresholds (rows nab_false_alarm_share_max, " +
      "nab_best_threshold_iqr)",
    arg: "Q",
    number: { min: 0, max: 1 },
  },
  config: {
    help: "anomaly configuration fields over the kind's own, e.g. '{\"bins\":12}'",
    arg: "JSON",
  },
  files: { help: "only these corpus files, comma-separated <category>/<file>.csv", arg: "LIST" },
  cv: {
    help: "2: also score the two halves of the stratified 2-fold split; categories: also score " +
      "each category at the threshold chosen on the others (row nab_standard_loco: the mean over " +
      "the held-out categories), and each at its own best threshold against the corpus scored " +
      "together (row nab_category_gap: together less their window-weighted mean)",
    arg: "2|categories",
    default: "none",
    oneOf: ["none", "2", "categories"] as const,
  },
  sweep: {
    help: 'cross-validate settings, SPEC "field=v1,v2;field=v1,...": score every combination on ' +
      "both halves and leave-one-category-out, report each half's best on the other",
    arg: "SPEC",
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary: "NAB scores (standard, low FP, low FN) of the anomaly kernel by troupe's NAB scorer; " +
    "baseline: null detector = 0",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    // A bad option rejects the promise (troupe bench turns a rejection into a usage error).
    try {
      return Promise.resolve(runNab(args, ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
