/**
 * `troupe bench tail`: whether the surprise an anomaly finding states for paging is calibrated, on
 * a labelled NAB corpus (docs/methods/paging.md, "Is the claim calibrated?"). Every file is scored
 * by the anomaly actor's kernel in frames, as a host feeds it; each finding (an incident's opening,
 * as the actor publishes it: score, value, band, view) is read as the incident stage reads it
 * (`findingTailBits`). For each b of BITS, the rate per sample outside the labelled windows of
 * findings claiming b bits or more (row `tail_rate_ge_<b>bits`) is printed against the claim 2^-b
 * as its baseline: a calibrated bound observes at most its claim (ratio <= 1). And the share of
 * the labelled windows holding a finding that claims ONE_NODE_BITS or more (row
 * `tail_windows_ge_23bits`): what one node's budget would page of the labelled anomalies.
 *
 * With `--evidence`, the same rows for evidence accumulated over samples instead of one finding's:
 * per b, a CUSUM e-detector over each sample's Chebyshev ratio (_evidence_alarms.ts) alarmed at b
 * bits and started again; a row counts its alarms outside the windows.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { anomalyActor, type AnomalyConfig, anomalyFrameEvent } from "../actors/anomaly/mod.ts";
import { chebyshevEvidence } from "../actors/anomaly/mod.ts";
import { ANOMALY_FINDING, findingTailBits } from "../protocol/mod.ts";
import type { BenchContext, Benchmark, BenchRow } from "./_bench.ts";
import { row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { type EvidenceAlarmOptions, evidenceAlarms } from "./_evidence_alarms.ts";
import { listNabFiles, type NabDataFile, readNabFile, readNabWindows } from "./_nab_corpus.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { REPO_DIR } from "./_repo_dir.ts";

const NAME = "tail";

/** The corpus used when --data is not given: the full NAB corpus the team shares. */
const NAB_DIR = resolve(REPO_DIR, "..", "shared", "datasets", "nab");

/** The claims measured, in bits: the score's range (10, 15) and around one node's budget. */
export const BITS: readonly number[] = Object.freeze([10, 15, 20, 23, 25, 30]);

/**
 * One node exporter's budget: 529 series at a 5 s scrape, one false page a day, is log2(9.1e6)
 * = 23.1 bits (docs/methods/paging.md); the recall row asks for 23.
 */
const ONE_NODE_BITS = 23;

/** A finding of a file: its time (ms) and the bits it claims. */
export interface TailFinding {
  t: number;
  bits: number;
}

/** The findings the anomaly actor makes on `file`, fed in frames of `frameSamples`, with bits. */
export function tailFindings(
  file: NabDataFile,
  frameSamples: number,
  config: AnomalyConfig = anomalyActor.defaultConfig,
): TailFinding[] {
  const def = anomalyActor;
  const state = def.kernel.init(config, "nab");
  const n = file.v.length;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = file.t[i]! * 1000; // ms -> us
  const out: TailFinding[] = [];
  for (let i = 0; i < n; i += frameSamples) {
    const end = Math.min(n, i + frameSamples);
    const frame = { channel: "nab", seq0: i, t: t.subarray(i, end), v: file.v.subarray(i, end) };
    const result = def.kernel.step(state, frame);
    const event = anomalyFrameEvent(result, frame, "normal");
    for (const c of event?.changes ?? []) {
      if (!c.open) continue;
      const bits = findingTailBits(ANOMALY_FINDING, c);
      if (bits !== undefined) out.push({ t: c.ts / 1000, bits });
    }
  }
  return out;
}

/** What the corpus showed: samples outside the windows, findings there by bits, windows held. */
export interface TailTally {
  outside: number;
  /** Per BITS entry: findings outside the windows claiming at least that many bits. */
  above: number[];
  windows: number;
  /** Windows holding a finding that claims ONE_NODE_BITS or more. */
  held: number;
}

/** Adds `file`'s samples and findings to `tally`, `windows` its labelled windows (ms). */
export function tallyFile(
  tally: TailTally,
  file: NabDataFile,
  findings: readonly TailFinding[],
  windows: readonly [number, number][],
): void {
  const inside = (t: number) => windows.some(([a, b]) => t >= a && t <= b);
  for (let i = 0; i < file.t.length; i++) {
    if (file.v[i] === file.v[i] && !inside(file.t[i]!)) tally.outside++;
  }
  for (const f of findings) {
    if (inside(f.t)) continue;
    BITS.forEach((b, k) => {
      if (f.bits >= b) tally.above[k]!++;
    });
  }
  tally.windows += windows.length;
  for (const [a, b] of windows) {
    if (findings.some((f) => f.t >= a && f.t <= b && f.bits >= ONE_NODE_BITS)) tally.held++;
  }
}

/**
 * Adds `file`'s samples and accumulated-evidence alarms to `tally`: `alarms[k]` the times (ms) of
 * the alarms of the detector set at BITS[k], `windows` the file's labelled windows (ms).
 */
export function tallyAlarms(
  tally: TailTally,
  file: NabDataFile,
  alarms: readonly (readonly number[])[],
  windows: readonly [number, number][],
): void {
  const inside = (t: number) => windows.some(([a, b]) => t >= a && t <= b);
  for (let i = 0; i < file.t.length; i++) {
    if (file.v[i] === file.v[i] && !inside(file.t[i]!)) tally.outside++;
  }
  BITS.forEach((_, k) => {
    tally.above[k]! += alarms[k]!.filter((t) => !inside(t)).length;
  });
  tally.windows += windows.length;
  const held = alarms[BITS.indexOf(ONE_NODE_BITS)]!;
  for (const [a, b] of windows) if (held.some((t) => t >= a && t <= b)) tally.held++;
}

/** Per BITS entry, the times (ms) of the e-detector's alarms on `file` at that many bits. */
export function evidenceAlarmTimes(
  file: NabDataFile,
  options: EvidenceAlarmOptions & { sigma: "finding" | "rms" },
  config: AnomalyConfig = anomalyActor.defaultConfig,
): number[][] {
  const tUs = Float64Array.from(file.t, (t) => t * 1000);
  const evidence = chebyshevEvidence({ tUs, v: file.v }, config, { sigma: options.sigma });
  return BITS.map((b) => evidenceAlarms(file.v, evidence, b, options).map((i) => file.t[i]!));
}

/** The rows of a tally: each claim's observed rate against 2^-b, then the one-node recall. */
export function tailRows(tally: TailTally): BenchRow[] {
  const rows = BITS.map((b, k) =>
    row({
      bench: NAME,
      metric: `tail_rate_ge_${b}bits`,
      unit: "per sample",
      troupe: tally.above[k]! / Math.max(1, tally.outside),
      baseline: 2 ** -b,
      better: "lower",
      reference: "claim 2^-b",
    })
  );
  rows.push(row({
    bench: NAME,
    metric: `tail_windows_ge_${ONE_NODE_BITS}bits`,
    unit: "share",
    troupe: tally.windows === 0 ? 0 : tally.held / tally.windows,
    baseline: null,
    better: "higher",
  }));
  return rows;
}

function runTail(args: string[], ctx: BenchContext): BenchRow[] {
  const o = readOptions(args, OPTIONS);
  const stray = EVIDENCE_ONLY.find((name) => args.some((a) => a.split("=")[0] === `--${name}`));
  if (!o.evidence && stray !== undefined) {
    throw new BenchOptionError(`Option --${stray} is for --evidence, which was not given`);
  }
  const data = o.data ?? NAB_DIR;
  if (!existsSync(join(data, "data"))) {
    throw new BenchOptionError(
      `Option --data must be a NAB corpus with a data/ folder, got "${data}"`,
    );
  }
  const labels = readNabWindows(data);
  if (labels === undefined) {
    throw new BenchOptionError(`Option --data must have labels: no ${join(data, "labels")}`);
  }
  let paths = listNabFiles(join(data, "data"));
  if (o.files !== undefined) {
    const wanted = new Set(o.files.split(","));
    paths = paths.filter((p) => wanted.has(p));
    if (paths.length === 0) {
      throw new BenchOptionError(`Option --files matches no file: ${o.files}`);
    }
  }
  const tally: TailTally = { outside: 0, above: BITS.map(() => 0), windows: 0, held: 0 };
  for (const path of paths) {
    const file = readNabFile(data, path);
    if (o.evidence) {
      const alarms = evidenceAlarmTimes(file, {
        lambda: o.lambda,
        allowanceBits: o["allowance-bits"],
        sigma: o.sigma,
        holdReference: o["hold-reference"],
      });
      tallyAlarms(tally, file, alarms, labels[path] ?? []);
      ctx.log(`${NAME}: ${path}: alarms by bits ${alarms.map((a) => a.length).join("/")}`);
      continue;
    }
    const findings = tailFindings(
      file,
      o["frame-samples"],
      restateConfig(file, o["restate-samples"]),
    );
    tallyFile(tally, file, findings, labels[path] ?? []);
    const most = findings.reduce((m, f) => Math.max(m, f.bits), 0);
    ctx.log(`${NAME}: ${path}: ${findings.length} findings, at most ${most.toFixed(1)} bits`);
  }
  ctx.log(
    `${NAME}: ${tally.outside} samples outside ${tally.windows} windows; ` +
      `${o.evidence ? "alarms" : "findings"} there by ` +
      BITS.map((b, k) => `>=${b} bits: ${tally.above[k]}`).join(", ") +
      `; windows with one of >=${ONE_NODE_BITS} bits: ${tally.held}`,
  );
  return tailRows(tally);
}

/**
 * The anomaly configuration for `file`: the defaults, with `restate_us` as `samples` of its median
 * interval when given (NAB's samples are minutes apart, past the default's 60 s, so that without
 * it no finding of the corpus is restated).
 */
function restateConfig(file: NabDataFile, samples: number | undefined): AnomalyConfig {
  const base = anomalyActor.defaultConfig;
  if (samples === undefined) return base;
  const gaps: number[] = [];
  for (let i = 1; i < file.t.length; i++) gaps.push(file.t[i]! - file.t[i - 1]!);
  gaps.sort((a, b) => a - b);
  const intervalUs = (gaps[gaps.length >> 1] ?? 0) * 1000; // ms -> us
  return { ...base, restate_us: samples * intervalUs };
}

/** The options that shape the accumulated evidence only. */
const EVIDENCE_ONLY = ["lambda", "allowance-bits", "sigma", "hold-reference"] as const;

const OPTIONS = {
  data: {
    help: "a labelled NAB corpus: DIR/data/<category>/<file>.csv and DIR/labels/",
    defaultText: "../shared/datasets/nab",
    arg: "DIR",
  },
  "frame-samples": {
    help: "samples per frame fed to the kernel",
    default: 500,
    number: { min: 1, max: 65_536, integer: true },
  },
  files: { help: "only these corpus files, comma-separated <category>/<file>.csv", arg: "LIST" },
  "restate-samples": {
    help: "the anomaly detector restates a finding for this many samples of each file's median " +
      "interval after it opens (restate_us; NAB's samples are minutes apart, past the anomaly " +
      "kind's own restate_us, so that without this none is)",
    number: { min: 0, max: 1e6, integer: true },
  },
  evidence: {
    help: "evidence accumulated over samples (a CUSUM e-detector of Chebyshev ratios) instead " +
      "of one finding's bits",
    flag: true,
  },
  lambda: {
    help: "with --evidence: the bet, each sample's e-value 1 - lambda + lambda * ratio",
    default: 1,
    number: { min: 0, max: 1, exclusiveMin: true },
  },
  "allowance-bits": {
    help: "with --evidence: bits taken from each sample's evidence (Page's reference value)",
    default: 0,
    number: { min: 0, max: 64 },
  },
  sigma: {
    help: "with --evidence: the σ of a ratio, a finding's, or at least the errors' RMS",
    arg: "finding|rms",
    default: "finding",
    oneOf: ["finding", "rms"] as const,
  },
  "hold-reference": {
    help: "with --evidence: measure against the expected value and σ from before the evidence " +
      "began to grow (Page's in-control reference), not each sample's own",
    flag: true,
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary: "calibration of the bits anomaly findings claim for paging on NAB: the rate outside " +
    "the labelled windows of findings claiming >= b bits against 2^-b; windows held at 23 bits " +
    "(--evidence: of evidence accumulated over samples)",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    try {
      return Promise.resolve(runTail(args, ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
