/**
 * `troupe bench nab`: the anomaly actor's quality on the Numenta Anomaly Benchmark. It runs the
 * actor's own kernel, with its default configuration (one for every file), over every CSV under
 * `--data DIR/data/`, in frames as the host would feed it, and writes `OUT/<category>/<file>.csv`
 * with `timestamp,value,anomaly_score`, one row per input row, in order. Where `DIR/labels/` exists,
 * it scores those rows with troupe's NAB scorer (bench/_nab_scorer.ts) under each profile of the
 * corpus, with the threshold optimised over the corpus given, and reports the normalised scores:
 * `nab_standard`, `nab_reward_low_fp`, `nab_reward_low_fn`. The baseline is the null detector,
 * which scores 0 by construction, so the rows have no baseline column.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { anomalyActor } from "../actors/anomaly/mod.ts";
import {
  type BenchContext,
  type Benchmark,
  BenchOptionError,
  type BenchRow,
  nowMs,
  row,
} from "./_bench.ts";
import { numberOption, parseOptions, REPO_DIR } from "./_cluster.ts";
import {
  listNabFiles,
  type NabDataFile,
  readNabFile,
  readNabProfiles,
  readNabWindows,
} from "./_nab_corpus.ts";
import { type NabFileInput, type NabProfileReport, scoreCorpus } from "./_nab_scorer.ts";

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
export function scoreNabFile(file: NabDataFile, frameSamples: number): Float64Array {
  const kernel = anomalyActor.kernel;
  const state = kernel.init(anomalyActor.defaultConfig, "nab");
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

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "NAB scores (standard, low FP, low FN) of the anomaly kernel by troupe's NAB scorer; baseline: null detector = 0",
  usage: [
    "  --data DIR           a NAB corpus: DIR/data/<category>/<file>.csv, optional DIR/labels/",
    "                       (default ../shared/datasets/nab-dev when present)",
    "  --out DIR            where the scored CSVs go (default .troupe/bench/nab)",
    "  --frame-samples N    samples per frame fed to the kernel (default 500)",
  ].join("\n"),
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = parseOptions(args, {
      data: { type: "string" },
      out: { type: "string" },
      "frame-samples": { type: "string" },
    });
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
    const frameSamples = numberOption(o, "frame-samples", 500, {
      min: 1,
      max: 65_536,
      integer: true,
    });
    const paths = listNabFiles(join(data, "data"));
    if (paths.length === 0) throw new BenchOptionError(`No CSV files under ${join(data, "data")}`);

    const scored: { file: NabDataFile; scores: Float64Array }[] = [];
    let samples = 0, kernelMs = 0;
    for (const path of paths) {
      const file = readNabFile(data, path);
      const t0 = nowMs();
      const scores = scoreNabFile(file, frameSamples);
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

    const windows = readNabWindows(data);
    if (windows === undefined) {
      ctx.log(`${NAME}: no ${join(data, "labels")}: scores written, nothing to score them against`);
      return Promise.resolve([]);
    }
    const inputs: NabFileInput[] = [];
    for (const { file, scores } of scored) {
      const w = windows[file.path];
      if (w === undefined) {
        ctx.log(`${NAME}: ${file.path} has no entry in the labels; left out of the score`);
        continue;
      }
      inputs.push({ name: file.path, t: file.t, scores, windows: w });
    }
    const reports = scoreCorpus(inputs, readNabProfiles(data));
    logReports(ctx, reports);
    return Promise.resolve(
      reports.map((r) =>
        row({
          bench: NAME,
          metric: METRICS[r.profile] ?? `nab_${r.profile.toLowerCase()}`,
          unit: "score",
          troupe: r.normalized,
          baseline: null,
          better: "higher",
        })
      ),
    );
  },
};
