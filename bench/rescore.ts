/**
 * `troupe bench rescore`: a recorded `bench pages` run (`--record DIR`) scored again offline with
 * today's anomaly detector, incident stage and page budget (_rescored_incidents.ts), in seconds
 * where a live run takes an hour: a change to a detector is measured on the very samples a run
 * saw, before a live run confirms it. Rows: pages in the quiet (outside each fault and its grace),
 * faults paged and the longest delay to a fault's first page, each against what the recorded run
 * paged (its DIR/alerts.json: the detector as it was then, live); the log names each fault's most
 * evidence past the budget and its members.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { anomalyActor, type AnomalyConfig } from "../actors/anomaly/mod.ts";
import { ConfigError } from "../protocol/mod.ts";
import type { BenchContext, Benchmark, BenchRow } from "./_bench.ts";
import { row } from "./_bench.ts";
import { BenchDataError } from "./_bench_data_error.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { type OptionTable, type OptionValues, readOptions } from "./_option_table.ts";
import type { FaultWindow } from "./_pages_score.ts";
import { historyWithin, readRecordedFeeds } from "./_recorded_series.ts";
import { type Rescored, rescoreIncidents } from "./_rescored_incidents.ts";
import { readFaults } from "./evidence.ts";

const NAME = "rescore";

const OPTIONS = {
  data: {
    help: "a `bench pages --record` folder: DIR/run.rec and DIR/faults.json (DIR/alerts.json, " +
      "when there, is the baseline)",
    arg: "DIR",
  },
  config: {
    help: "anomaly configuration fields over the kind's own, e.g. '{\"restate_us\":0}'",
    arg: "JSON",
  },
  "history-s": {
    help: "keep only the last S seconds of each series' history read before the live samples " +
      "(what the detectors would have been warmed on with less history); all when not given",
    arg: "S",
    number: { min: 0, max: 31_536_000 },
  },
  "grace-s": {
    help: "seconds after a fault ends whose pages are still the fault's (as bench pages)",
    arg: "S",
    default: 60,
    number: { min: 0, max: 3600, integer: true },
  },
} satisfies OptionTable;

type Options = OptionValues<typeof OPTIONS>;

/** The anomaly configuration of `--config JSON` over the kind's own. */
function configOver(text: string | undefined): AnomalyConfig {
  if (text === undefined) return anomalyActor.defaultConfig;
  try {
    return anomalyActor.parseConfig(JSON.parse(text), anomalyActor.defaultConfig, "anomaly");
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new BenchOptionError(
        `Option --config must be a JSON object of anomaly fields, got "${text}"`,
      );
    }
    if (err instanceof ConfigError) throw new BenchOptionError(err.message);
    throw err;
  }
}

/** Pages by when they came (ms), as the quiet's count and each fault's first. */
interface PagedRun {
  quiet: number;
  /** Per fault, its first page's delay from its start (s), or null. */
  delays: (number | null)[];
}

/** Sorts page times `pagedMs` into the quiet and `faults` (each with `graceMs` after it). */
function sortPages(pagedMs: number[], faults: FaultWindow[], graceMs: number): PagedRun {
  const delays: (number | null)[] = faults.map(() => null);
  let quiet = 0;
  for (const t of pagedMs) {
    const k = faults.findIndex((f) => t >= f.startMs && t <= f.endMs + graceMs);
    if (k < 0) {
      quiet++;
      continue;
    }
    const delay = (t - faults[k]!.startMs) / 1000;
    if (delays[k] === null || delay < delays[k]!) delays[k] = delay;
  }
  return { quiet, delays };
}

/** The first time (ms) each incident the recorded run paged was delivered, from alerts.json. */
function recordedPages(path: string): number[] | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new BenchDataError(`Cannot read ${path}: ${(err as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new BenchDataError(`${path} must hold an array of alerts`);
  const first = new Map<string, number>();
  for (const a of raw) {
    const labels = a?.labels ?? {};
    if (labels.page !== "true" || a.status !== "firing" || !Number.isFinite(a.receivedMs)) continue;
    const id = String(labels.incident ?? "");
    first.set(id, Math.min(first.get(id) ?? Infinity, a.receivedMs));
  }
  return [...first.values()];
}

function describe(r: Rescored, faults: FaultWindow[], graceMs: number): string[] {
  const lines = [
    `${r.census.channels} series, ${r.census.samples_per_day} samples a day; ${r.findings} ` +
    `live findings (${r.restated} restatements), ${r.incidents.length} incidents`,
  ];
  for (const f of faults) {
    // The fault's incidents: those that paged within its window (one may have opened before it,
    // on a stray finding), else those that began there; the one that paged first is named.
    const within = (t: number | null) => t !== null && t >= f.startMs && t <= f.endMs + graceMs;
    const paged = r.incidents.filter((i) => within(i.pagedMs))
      .sort((a, b) => a.pagedMs! - b.pagedMs!).slice(0, 1);
    const mine = paged.length ? paged : r.incidents.filter((i) => within(i.firstMs));
    const most = mine.reduce((m, i) => (i.mostBits > m.mostBits ? i : m), {
      mostBits: -Infinity,
      members: [] as string[],
      pagedMs: null as number | null,
    });
    lines.push(
      `fault ${f.name}: most ${most.mostBits.toFixed(1)} bits past the budget` +
        (most.pagedMs === null
          ? ", not paged"
          : `, paged after ${((most.pagedMs - f.startMs) / 1000).toFixed(1)} s`) +
        ` (${most.members.length} series: ${most.members.slice(0, 6).join(", ")})`,
    );
  }
  for (const i of r.incidents) {
    if (i.pagedMs === null) continue;
    if (faults.some((f) => i.pagedMs! >= f.startMs && i.pagedMs! <= f.endMs + graceMs)) continue;
    lines.push(`quiet page: ${i.mostBits.toFixed(1)} bits past on ${i.members.join(", ")}`);
  }
  return lines;
}

async function runRescore(o: Options, ctx: BenchContext): Promise<BenchRow[]> {
  if (o.data === undefined) throw new BenchOptionError("Option --data is required");
  const recording = join(o.data, "run.rec");
  if (!existsSync(recording)) {
    throw new BenchOptionError(`Option --data must hold run.rec: no ${recording}`);
  }
  const faults = readFaults(join(o.data, "faults.json"));
  const graceMs = o["grace-s"] * 1000;
  const config = configOver(o.config);
  const feeds = await readRecordedFeeds(recording);
  const history = o["history-s"];
  const rescored = rescoreIncidents(
    history === undefined ? feeds : historyWithin(feeds, history),
    config,
  );
  for (const line of describe(rescored, faults, graceMs)) ctx.log(`${NAME}: ${line}`);
  const paged = rescored.incidents.flatMap((i) => (i.pagedMs === null ? [] : [i.pagedMs]));
  const now = sortPages(paged, faults, graceMs);
  const recorded = recordedPages(join(o.data, "alerts.json"));
  const then = recorded === undefined ? undefined : sortPages(recorded, faults, graceMs);
  const reached = (p: PagedRun) => p.delays.filter((d) => d !== null).length;
  const longest = (p: PagedRun) => {
    const d = p.delays.filter((x): x is number => x !== null);
    return d.length ? Math.max(...d) : NaN;
  };
  const figure = (metric: string, unit: string, f: (p: PagedRun) => number, better: string) =>
    row({
      bench: NAME,
      metric,
      unit,
      troupe: f(now),
      baseline: then === undefined ? null : f(then),
      better: better as "higher" | "lower",
      reference: "the recorded run's pages (alerts.json)",
    });
  return [
    figure("rescore_quiet_pages", "pages", (p) => p.quiet, "lower"),
    figure("rescore_faults_paged", "faults", reached, "higher"),
    figure("rescore_page_delay_s_max", "s", longest, "lower"),
  ];
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "a recorded bench pages run scored again offline with today's detector, incident " +
    "stage and page budget: pages in the quiet, faults paged and how soon, against the run's own",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    try {
      return runRescore(readOptions(args, OPTIONS), ctx);
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
