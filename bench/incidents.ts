/**
 * `troupe bench incidents`: how many incidents a team would be handed on troupe's labelled feeds,
 * against the findings they come from (the baseline: every finding its own alarm, as before
 * incidents). The actors run as `troupe bench detect` runs them (bench/detect.ts: the market with
 * `troupe up`'s settings, ticks 1 s apart, 10 symbols); their findings go through the incident
 * kernel with its defaults, and the incidents that fired are counted, an incident and those it
 * links to as one (an anomaly and a collapse of one jump):
 *
 * - `incidents_per_labelled_event`: incidents that fired on the market feed per labelled event,
 *   where a market-wide crash is one event, a jump on one symbol one, a stressed regime one;
 * - `labelled_event_recall`: the share of labelled events an incident that fired covers (its time
 *   span meets the event's window, and one of its members is a channel of the event; a stressed
 *   regime is covered by a coherence incident);
 * - `incidents_per_hour_quiet`: incidents that fired per hour on a market feed without crashes,
 *   jumps or stressed regimes (24 h) and a metrics feed without injected anomalies (14 days),
 *   across every channel and kind, over the hours of both;
 * - `coherence_changes_per_minute`: coherence state changes per minute of event time on a quiet
 *   market paced as `troupe up` paces its feed by default (8 symbols, 2,000 samples/s: a tick every
 *   4 ms, the coherence bars 5 ticks), for 10 minutes: what a user of `troupe up` sees. (On the
 *   1 s ticks of the other figures the same flapping per bar is 250 times fewer per minute.)
 *
 * Every figure is the worst seed's over `--seeds`; a line per seed is logged.
 */
import {
  defaultIncidentConfig,
  findingOfEvent,
  flushIncidents,
  incidentEventOf,
  initIncidents,
  stepIncidents,
} from "../actors/incidents/mod.ts";
import { type Incident, isIncidentKind } from "../protocol/mod.ts";
import { createMarketFeed, createMetricsFeed, demoActorConfigs } from "../sim/mod.ts";
import type { GroundTruth } from "../sim/feeds/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import type { Finding } from "./_detect_score.ts";
import { METRICS_COLLAPSE, runFeed } from "./detect.ts";
import { parseSeeds } from "./_detect_seeds.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";

const NAME = "incidents";
const CHANNELS = 10;
const INTERVAL_US = 1_000_000;
const MARKET_SAMPLES = 100_000;
const QUIET_MARKET_SAMPLES = 86_400;
const QUIET_METRICS_SAMPLES = 20_160;
/** `troupe up`'s default pace: 8 channels at 2,000 samples/s, so a tick every 4 ms. */
const UP_CHANNELS = 8;
const UP_INTERVAL_US = 4_000;
const UP_QUIET_SAMPLES = 150_000;

/** A labelled event: its window and channels (none: a feed-wide regime, met by coherence). */
export interface LabelledEvent {
  kind: string;
  start: number;
  end: number;
  channels: Set<string>;
}

/** The incidents that fired from `findings`, and the findings that went in. */
export function incidentsOf(
  findings: readonly Finding[],
  config = defaultIncidentConfig,
): { fired: Incident[]; pending: Incident[]; findings: number } {
  const s = initIncidents(config);
  const last = new Map<string, Incident>();
  let n = 0, end = -Infinity;
  const keep = (us: ReturnType<typeof stepIncidents>) => {
    for (const u of us) last.set(u.incident.id, u.incident);
  };
  for (const f of findings) {
    if (!isIncidentKind(f.kind)) continue;
    const input = findingOfEvent(
      { id: `${f.kind}:${f.key}:${n++}`, channel: f.key, ts_us: f.ts },
      incidentEventOf(f.kind, f.body),
    );
    end = Math.max(end, f.ts);
    keep(stepIncidents(s, input));
  }
  keep(flushIncidents(s, end + config.hold_us + config.for_us));
  const all = [...last.values()];
  return { fired: all.filter((i) => i.fired), pending: all.filter((i) => !i.fired), findings: n };
}

/**
 * Incidents as a team is handed them: an incident and those it links to (an anomaly and a collapse
 * of one jump) are one.
 */
export function linkedGroups(incidents: readonly Incident[]): number {
  const ids = new Set(incidents.map((i) => i.id));
  const parent = new Map<string, string>();
  const root = (x: string): string => {
    let r = x;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  for (const i of incidents) {
    for (const l of i.links) {
      const [a, b] = [root(i.id), root(l)];
      if (ids.has(l) && a !== b) parent.set(a, b);
    }
  }
  return new Set(incidents.map((i) => root(i.id))).size;
}

/** The market's labelled events: one per crash (every symbol), per jump, per stressed regime. */
export function labelledEvents(truth: GroundTruth): LabelledEvent[] {
  const events: LabelledEvent[] = [];
  const crashes = new Map<number, LabelledEvent>();
  for (const a of truth.anomalies) {
    if (a.kind === "crash") {
      const e = crashes.get(a.onset) ??
        { kind: "crash", start: a.start, end: a.end, channels: new Set<string>() };
      e.channels.add(a.channel);
      e.start = Math.min(e.start, a.start);
      e.end = Math.max(e.end, a.end);
      crashes.set(a.onset, e);
    } else {events.push({
        kind: a.kind,
        start: a.start,
        end: a.end,
        channels: new Set([a.channel]),
      });}
  }
  for (const r of truth.regimes) {
    if (r.name === "stressed") events.push({ kind: "regime", ...r, channels: new Set() });
  }
  return [...events, ...crashes.values()];
}

export function covers(
  span: { first: number; last: number; channels: string[]; kind: string },
  e: LabelledEvent,
) {
  if (span.last < e.start || span.first > e.end) return false;
  return e.channels.size === 0
    ? span.kind === "coherence"
    : span.channels.some((c) => e.channels.has(c));
}

/** The share of `events` that something in `spans` covers. */
function recall(events: LabelledEvent[], spans: Parameters<typeof covers>[0][]): number {
  if (events.length === 0) return 1;
  return events.filter((e) => spans.some((s) => covers(s, e))).length / events.length;
}

/** What a span of time over channels is: an incident's, or a finding's alone. */
type Span = Parameters<typeof covers>[0];

/**
 * Labelled events of one kind, by what covers them best: an incident that fired, an incident that
 * never fired (it stayed pending: a lone finding below the firing severity), a finding outside
 * every incident, or nothing.
 */
export interface MissRow {
  kind: string;
  events: number;
  fired: number;
  pending: number;
  finding: number;
  none: number;
}

/** The labelled events of each kind by what covers them (`--misses`). */
export function missesByKind(
  events: readonly LabelledEvent[],
  spans: { fired: Span[]; pending: Span[]; findings: Span[] },
): MissRow[] {
  const rows = new Map<string, MissRow>();
  for (const e of events) {
    const r = rows.get(e.kind) ??
      { kind: e.kind, events: 0, fired: 0, pending: 0, finding: 0, none: 0 };
    rows.set(e.kind, r);
    r.events++;
    const met = (list: Span[]) => list.some((s) => covers(s, e));
    if (met(spans.fired)) r.fired++;
    else if (met(spans.pending)) r.pending++;
    else if (met(spans.findings)) r.finding++;
    else r.none++;
  }
  return [...rows.values()].sort((a, b) => a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);
}

/** The rows of `missesByKind` summed over seeds, as the table `--misses` prints. */
export function missesTable(rows: readonly MissRow[]): string {
  const sum = new Map<string, MissRow>();
  for (const r of rows) {
    const t = sum.get(r.kind) ?? { ...r, events: 0, fired: 0, pending: 0, finding: 0, none: 0 };
    sum.set(r.kind, t);
    for (const k of ["events", "fired", "pending", "finding", "none"] as const) t[k] += r[k];
  }
  const head = ["kind", "events", "covered", "recall", "pending only", "finding only", "nothing"];
  const lines = [...sum.values()].map((r) => [
    r.kind,
    String(r.events),
    String(r.fired),
    r.events > 0 ? (r.fired / r.events).toFixed(3) : "-",
    String(r.pending),
    String(r.finding),
    String(r.none),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!)).join("  ");
  return [fmt(head), ...lines.map(fmt)].join("\n");
}

/** Fired incidents that cover no labelled event, by kind: the room incidents per event lacks. */
export function surplusByKind(
  spans: readonly Span[],
  events: readonly LabelledEvent[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of spans) {
    if (!events.some((e) => covers(s, e))) out.set(s.kind, (out.get(s.kind) ?? 0) + 1);
  }
  return out;
}

/** The surplus summed over seeds, one line (`--misses`). */
export function surplusLine(all: readonly Map<string, number>[]): string {
  const sum = new Map<string, number>();
  for (const m of all) for (const [k, n] of m) sum.set(k, (sum.get(k) ?? 0) + n);
  const kinds = [...sum.keys()].sort();
  return `fired incidents covering no labelled event: ${
    kinds.length === 0 ? "none" : kinds.map((k) => `${k} ${sum.get(k)}`).join(", ")
  }`;
}

function spanOf(i: Incident): Span {
  return {
    first: i.first_us,
    last: i.last_us,
    channels: i.members.map((m) => m.channel),
    kind: i.kind,
  };
}

/** One seed's figures, troupe's and the baseline's (every finding an alarm). */
interface SeedFigures {
  incidents_per_labelled_event: [number, number];
  labelled_event_recall: [number, number];
  incidents_per_hour_quiet: [number, number];
  coherence_changes_per_minute: number;
  /** The market's labelled events by kind and what covers them. */
  misses: MissRow[];
  /** The market's fired incidents that cover no labelled event, by kind. */
  surplus: Map<string, number>;
}

function runSeed(seed: number): SeedFigures {
  const demo = demoActorConfigs(INTERVAL_US);
  const marketOptions = {
    intervalUs: INTERVAL_US,
    symbols: CHANNELS,
    seed,
    volume: false,
    batch: 100,
  };
  const market = createMarketFeed(marketOptions);
  const findings = runFeed(market, { samples: MARKET_SAMPLES, configs: demo });
  const events = labelledEvents(market.truth());
  const { fired, pending, findings: raw } = incidentsOf(findings);
  const spans = fired.map(spanOf);
  const alarms = findings.filter((f) => isIncidentKind(f.kind)).map((f) => ({
    first: f.ts,
    last: f.ts,
    channels: [f.key],
    kind: f.kind,
  }));
  const quietMarket = createMarketFeed({
    ...marketOptions,
    crashRate: 0,
    jumpRate: 0,
    calmMeanTicks: 1e15,
  });
  const qm = runFeed(quietMarket, { samples: QUIET_MARKET_SAMPLES, configs: demo });
  const quietMetrics = createMetricsFeed({ series: CHANNELS, seed, batch: 100, anomalies: false });
  const qt = runFeed(quietMetrics, {
    samples: QUIET_METRICS_SAMPLES,
    configs: { collapse: METRICS_COLLAPSE },
    kinds: ["anomaly", "collapse"],
  });
  const hours = (QUIET_MARKET_SAMPLES * INTERVAL_US +
    QUIET_METRICS_SAMPLES * Number(quietMetrics.truth().options.intervalUs)) / 3.6e9;
  const quiet = linkedGroups(incidentsOf(qm).fired) + linkedGroups(incidentsOf(qt).fired);
  const quietRaw = [...qm, ...qt].filter((f) => isIncidentKind(f.kind)).length;
  const upPaced = createMarketFeed({
    ...marketOptions,
    symbols: UP_CHANNELS,
    intervalUs: UP_INTERVAL_US,
    crashRate: 0,
    jumpRate: 0,
    calmMeanTicks: 1e15,
  });
  const coherence = runFeed(upPaced, {
    samples: UP_QUIET_SAMPLES,
    configs: { coherence: demoActorConfigs(UP_INTERVAL_US).coherence },
    kinds: ["coherence"],
  }).length;
  return {
    incidents_per_labelled_event: [linkedGroups(fired) / events.length, raw / events.length],
    labelled_event_recall: [recall(events, spans), recall(events, alarms)],
    incidents_per_hour_quiet: [quiet / hours, quietRaw / hours],
    coherence_changes_per_minute: coherence / (UP_QUIET_SAMPLES * UP_INTERVAL_US / 6e7),
    misses: missesByKind(events, { fired: spans, pending: pending.map(spanOf), findings: alarms }),
    surplus: surplusByKind(spans, events),
  };
}

type Figure = Exclude<keyof SeedFigures, "misses" | "surplus">;

function rowsOf(all: SeedFigures[], ctx: BenchContext): BenchRow[] {
  const worst = <K extends Figure>(key: K, better: "higher" | "lower") => {
    const pick = better === "higher" ? Math.min : Math.max;
    const xs = all.map((f) => f[key]);
    const values = xs.map((x) => Array.isArray(x) ? x[0] : x as number);
    const i = values.indexOf(pick(...values));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    ctx.log(
      `${key}: mean ${mean.toFixed(3)}, range ${Math.min(...values).toFixed(3)}-${
        Math.max(...values).toFixed(3)
      }`,
    );
    const x = xs[i]!;
    return { troupe: values[i]!, baseline: Array.isArray(x) ? x[1] : null };
  };
  const one = (metric: Figure, unit: string, better: "higher" | "lower") =>
    row({ bench: NAME, metric, unit, ...worst(metric, better), better });
  return [
    one("incidents_per_labelled_event", "count", "lower"),
    one("labelled_event_recall", "fraction", "higher"),
    one("incidents_per_hour_quiet", "count", "lower"),
    one("coherence_changes_per_minute", "count", "lower"),
  ];
}

const OPTIONS = {
  seeds: {
    help: "seeds, e.g. 1-8 or 1,3,5: a line per seed, rows of the worst seed's figures",
    arg: "LIST",
    default: "1",
  },
  misses: {
    help: "print the market's labelled events by kind and what covers them, and the fired " +
      "incidents that cover none by kind, over the seeds",
    flag: true,
  },
} satisfies OptionTable;

/** The benchmark. */
export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "incidents on the labelled feeds: per labelled event, recall, per quiet hour, coherence " +
    "flapping",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    try {
      const o = readOptions(args, OPTIONS);
      const misses = o.misses;
      const seeds = parseSeeds(o.seeds);
      const all = seeds.map((seed, i) => {
        const f = runSeed(seed);
        ctx.log(
          `seed ${seed} (${i + 1}/${seeds.length}): incidents per labelled event ${
            f.incidents_per_labelled_event[0].toFixed(3)
          } (findings ${f.incidents_per_labelled_event[1].toFixed(3)}), recall ${
            f.labelled_event_recall[0].toFixed(3)
          } (findings ${f.labelled_event_recall[1].toFixed(3)}), per quiet hour ${
            f.incidents_per_hour_quiet[0].toFixed(3)
          } (findings ${f.incidents_per_hour_quiet[1].toFixed(3)}), coherence changes per minute ${
            f.coherence_changes_per_minute.toFixed(3)
          }`,
        );
        return f;
      });
      if (misses) {
        ctx.log(missesTable(all.flatMap((f) => f.misses)));
        ctx.log(surplusLine(all.map((f) => f.surplus)));
      }
      return Promise.resolve(rowsOf(all, ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  },
};
