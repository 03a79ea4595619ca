/**
 * `troupe bench evidence`: evidence accumulated over samples, on a recorded `bench pages` run
 * (`--record DIR`), before any detector states it (docs/methods/paging.md, "Evidence accumulated
 * over a fault"). Each channel the anomaly actor scored is fed its history read and live samples
 * again; a CUSUM e-detector over each sample's Chebyshev ratio (_evidence_alarms.ts) alarms at the
 * budget's bits, the bits one finding needs to page in that run (the page threshold its alerts
 * stated), and starts again, as a page would. Rows: the alarms in the quiet (outside each fault
 * and its grace: what would have paged for nothing), the faults reached, and the longest delay to
 * a fault's first alarm; the log names each alarm's series and, per fault, the most evidence.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { anomalyActor, chebyshevEvidence } from "../actors/anomaly/mod.ts";
import type { BenchContext, Benchmark, BenchRow } from "./_bench.ts";
import { row } from "./_bench.ts";
import { BenchDataError } from "./_bench_data_error.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { evidenceAlarms } from "./_evidence_alarms.ts";
import { type ChannelEvidence, type EvidenceScore, scoreEvidence } from "./_evidence_score.ts";
import { type OptionTable, type OptionValues, readOptions } from "./_option_table.ts";
import type { FaultWindow } from "./_pages_score.ts";
import { readRecordedFeeds } from "./_recorded_series.ts";

const NAME = "evidence";
/** A fault's first page is due within a minute (the bar, as `bench pages` holds it). */
const DELAY_BAR_S = 60;

const OPTIONS = {
  data: {
    help: "a `bench pages --record` folder: DIR/run.rec, DIR/faults.json and DIR/alerts.json",
    arg: "DIR",
  },
  bits: {
    help: "the evidence that pages",
    arg: "B",
    defaultText: "log2 of 1 / the last page threshold in DIR/alerts.json",
    number: { min: 0, max: 1024, exclusiveMin: true },
  },
  "grace-s": {
    help: "seconds after a fault ends whose alarms are still the fault's (as bench pages)",
    arg: "S",
    default: 60,
    number: { min: 0, max: 3600, integer: true },
  },
  lambda: {
    help: "the bet, each sample's e-value 1 - lambda + lambda * ratio",
    default: 1,
    number: { min: 0, max: 1, exclusiveMin: true },
  },
  "allowance-bits": {
    help: "bits taken from each sample's evidence (Page's reference value)",
    default: 0,
    number: { min: 0, max: 64 },
  },
  sigma: {
    help: "the σ of a ratio, a finding's, or at least the errors' RMS",
    arg: "finding|rms",
    default: "finding",
    oneOf: ["finding", "rms"] as const,
  },
  "hold-reference": {
    help: "measure against the expected value and σ from before the evidence began to grow " +
      "(Page's in-control reference), not each sample's own",
    flag: true,
  },
} satisfies OptionTable;

type Options = OptionValues<typeof OPTIONS>;

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new BenchDataError(`Cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The faults a `bench pages --record` folder lists, each checked. */
export function readFaults(path: string): FaultWindow[] {
  const raw = readJson(path);
  if (!Array.isArray(raw)) throw new BenchDataError(`${path} must hold an array of faults`);
  return raw.map((f: unknown, i) => {
    const o = f as Partial<FaultWindow> | null;
    if (
      typeof o?.name !== "string" || !Number.isFinite(o.startMs) || !Number.isFinite(o.endMs) ||
      o.endMs! < o.startMs!
    ) {
      throw new BenchDataError(
        `${path}: fault ${i} must be { name, startMs, endMs } with endMs >= startMs, got ` +
          JSON.stringify(f),
      );
    }
    const w: FaultWindow = { name: o.name, startMs: o.startMs!, endMs: o.endMs! };
    if (Number.isFinite(o.wholeMs)) w.wholeMs = o.wholeMs!;
    return w;
  });
}

/** log2 of 1 / the last page threshold the run's alerts stated (`page_threshold`). */
export function budgetBitsOf(path: string): number {
  const raw = readJson(path);
  const alerts = Array.isArray(raw) ? raw : [];
  for (let i = alerts.length - 1; i >= 0; i--) {
    const p = Number(alerts[i]?.annotations?.page_threshold);
    if (p > 0 && p < 1) return -Math.log2(p);
  }
  throw new BenchDataError(`${path} states no page threshold: give --bits`);
}

async function runEvidence(o: Options, ctx: BenchContext): Promise<BenchRow[]> {
  if (o.data === undefined) throw new BenchOptionError("Option --data is required");
  const recording = join(o.data, "run.rec");
  if (!existsSync(recording)) {
    throw new BenchOptionError(`Option --data must hold run.rec: no ${recording}`);
  }
  const faults = readFaults(join(o.data, "faults.json"));
  const bits = o.bits ?? budgetBitsOf(join(o.data, "alerts.json"));
  const feeds = await readRecordedFeeds(recording);
  const channels: ChannelEvidence[] = [];
  for (const name of [...feeds.scored].sort()) {
    const s = feeds.series.get(name);
    if (s === undefined) continue;
    const evidence = chebyshevEvidence(s, anomalyActor.defaultConfig, { sigma: o.sigma });
    const trace = new Float64Array(s.v.length).fill(NaN);
    const alarms = evidenceAlarms(s.v, evidence, bits, {
      lambda: o.lambda,
      allowanceBits: o["allowance-bits"],
      holdReference: o["hold-reference"],
      trace,
    });
    channels.push({ channel: name, tMs: s.tUs.map((t) => t / 1000), bits: trace, alarms });
  }
  const score = scoreEvidence(channels, faults, {
    liveStartMs: feeds.liveStartUs / 1000,
    graceMs: o["grace-s"] * 1000,
  });
  for (const line of describe(score, bits, feeds.liveStartUs / 1000, channels.length)) {
    ctx.log(`${NAME}: ${line}`);
  }
  return evidenceRows(score, faults.length);
}

function describe(score: EvidenceScore, bits: number, liveStartMs: number, n: number): string[] {
  const lines = [`${n} series scored, alarms at ${bits.toFixed(1)} bits`];
  for (const a of score.quiet) {
    const min = (a.tMs - liveStartMs) / 60_000;
    lines.push(`quiet alarm: ${a.channel} at ${min.toFixed(1)} min`);
  }
  for (const f of score.faults) {
    const most = `most ${f.mostBits.toFixed(1)} bits on ${f.mostChannel || "no series"}`;
    lines.push(
      f.first === null
        ? `fault ${f.name}: not reached; ${most}`
        : `fault ${f.name}: reached after ${f.delayS!.toFixed(1)} s on ${f.first.channel}; ${most}`,
    );
  }
  return lines;
}

/** The rows of a scored run of `faults` faults. */
export function evidenceRows(score: EvidenceScore, faults: number): BenchRow[] {
  const delays = score.faults.flatMap((f) => (f.delayS === null ? [] : [f.delayS]));
  const figure = (metric: string, unit: string, value: number, bar: number, better: string) =>
    row({
      bench: NAME,
      metric,
      unit,
      troupe: value,
      baseline: bar,
      better: better as "higher" | "lower",
      reference: "the issue's bar",
    });
  return [
    figure("evidence_quiet_alarms", "alarms", score.quiet.length, 0, "lower"),
    figure("evidence_faults_reached", "faults", delays.length, faults, "higher"),
    figure(
      "evidence_delay_s_max",
      "s",
      delays.length ? Math.max(...delays) : NaN,
      DELAY_BAR_S,
      "lower",
    ),
  ];
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "evidence accumulated over samples (a CUSUM e-detector of Chebyshev ratios) on a " +
    "recorded bench pages run: alarms in the quiet, faults reached and how soon",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    try {
      return runEvidence(readOptions(args, OPTIONS), ctx);
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
