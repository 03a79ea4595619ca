/**
 * `troupe bench warm`: a fleet's first start warmed from its store's history. Debian's
 * VictoriaMetrics is given `--points` points, 5 s apart, of `--targets` scrape targets' `--series`
 * series each (40 metric names, a `dev` label telling a name's series apart, as a node
 * exporter's `device` or `cpu`). A receiver in this process (its feed on an in-process bus, so the
 * figure is the receiver's read and not a host's apply), whose `history_url` is VictoriaMetrics
 * and whose window is those points, then takes the fleet's first remote-write requests as
 * Prometheus sends them: 2,000 series a request, the series spread over the requests as
 * Prometheus's shards spread them (by hash: a target's series in every request), `--in-flight`
 * requests at once, each series one sample just after its past. Rows:
 *
 * - `warm_samples_per_s`: history samples the receiver read, converted and journaled a second,
 *   from the first request sent to the last answered; the baseline reads the same points one
 *   query_range a series (each series' exact label set, as many at once as the receiver's
 *   `history_reads_max`, each answer parsed, nothing converted or journaled), before and after
 *   troupe's read, the faster kept. The log adds VictoriaMetrics' own export of them,
 *   uncompressed: the store's raw read.
 * - `warm_queries`: the query_range requests the receiver sent
 *   (`troupe_ingest_history_queries_total`), against one a series.
 * - `warm_series_share`: the share of the series that got their whole past (the budget's
 *   defaults hold the default fleet's whole past).
 */
import { join } from "node:path";
import {
  historySelector,
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../actors/ingest/mod.ts";
import { InProcessBus } from "../actors/runtime/mod.ts";
import { decodeFeedBatch, feedBatchSubject, isWarmupId } from "../protocol/mod.ts";
import {
  encodeWriteRequest,
  type Label,
  snappyCompress,
  type WriteRequest,
} from "../protocol/prometheus/mod.ts";
import { Prng } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { send } from "./_remote_write_send.ts";
import {
  needVictoriaMetrics,
  startVictoriaMetrics,
  type VictoriaMetrics,
} from "./_victoria_metrics.ts";
import { tempDir } from "./_temp_dir.ts";

const NAME = "warm";
/** The history's step, ms (a 5 s scrape). */
const STEP_MS = 5000;
/** Metric names a target has; its series past them differ by their `dev` label. */
const NAMES = 40;
/** Queries in flight at once: the receiver's `history_reads_max` default. */
const HISTORY_READS = 8;
/** Series a remote-write request holds: Prometheus's `max_samples_per_send` default. */
const REQUEST_SERIES = 2000;

const OPTIONS = {
  targets: {
    help: 'scrape targets (job "fleet", instance host-N:9100)',
    default: 100,
    number: { min: 1, max: 10_000, integer: true },
  },
  series: {
    help: "series a target",
    default: 100,
    number: { min: 1, max: 10_000, integer: true },
  },
  points: {
    help: "points of each series' past, 5 s apart (the receiver's window)",
    default: 500,
    number: { min: 2, max: 11_000, integer: true },
  },
  "in-flight": {
    help: "requests in flight at once (Prometheus's shards)",
    default: 4,
    number: { min: 1, max: 64, integer: true },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary: "a fleet's first start warmed from VictoriaMetrics' history: samples/s and queries " +
    "against reading it one query_range a series",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    needVictoriaMetrics(NAME);
    const dir = tempDir("troupe-bench-warm-");
    let vm: VictoriaMetrics | undefined;
    try {
      vm = await startVictoriaMetrics(join(dir.path, "vm"));
      const url = vm.url;
      // Past VictoriaMetrics' search latency offset (30 s), so the whole past is read.
      const live = Math.floor(Date.now() / 1000) * 1000 - 60_000;
      const fleet = fleetSeries(o.targets, o.series);
      const t0 = nowMs();
      await importPast(url, fleet, o.points, live);
      ctx.log(
        `${NAME}: VictoriaMetrics holds ${fleet.length} series × ${o.points} points ` +
          `(imported in ${((nowMs() - t0) / 1000).toFixed(1)} s)`,
      );
      // The baseline before and after troupe's read, its faster kept: the store's first read of
      // what it imported is slower than its next.
      const before = await perSeriesRead(url, fleet, live, o.points, HISTORY_READS);
      const troupe = await warmFleet(url, fleet, o, live, ctx);
      const after = await perSeriesRead(url, fleet, live, o.points, HISTORY_READS);
      const plain = before.seconds <= after.seconds ? before : after;
      ctx.log(
        `${NAME}: one query a series: ${before.seconds.toFixed(2)} s before troupe's read, ` +
          `${after.seconds.toFixed(2)} s after`,
      );
      const store = await exportPast(url, live, o.points);
      ctx.log(
        `${NAME}: troupe read ${troupe.samples} history samples of ${troupe.series} series in ` +
          `${troupe.seconds.toFixed(2)} s with ${troupe.queries} queries; one query a series ` +
          `read ${plain.samples} in ${plain.seconds.toFixed(2)} s; VictoriaMetrics exported ` +
          `${store.samples} uncompressed in ${store.seconds.toFixed(2)} s`,
      );
      return warmRows(troupe, plain, fleet.length);
    } finally {
      await vm?.stop();
      dir.remove();
    }
  },
};

/** The rows: troupe's read against one query a series. */
function warmRows(
  troupe: Warmed,
  plain: { samples: number; seconds: number },
  count: number,
): BenchRow[] {
  return [
    row({
      bench: NAME,
      metric: "warm_samples_per_s",
      unit: "1/s",
      troupe: troupe.samples / troupe.seconds,
      baseline: plain.samples / plain.seconds,
      better: "higher",
      reference: "one query_range a series, parsed",
    }),
    row({
      bench: NAME,
      metric: "warm_queries",
      unit: "queries",
      troupe: troupe.queries,
      baseline: count,
      better: "lower",
      reference: "one query_range a series",
    }),
    row({
      bench: NAME,
      metric: "warm_series_share",
      unit: "share",
      troupe: troupe.whole / count,
      baseline: 1,
      better: "higher",
      reference: "every series its whole past",
    }),
  ];
}

/** The fleet's series' label sets, target by target. */
function fleetSeries(targets: number, series: number): Label[][] {
  const out: Label[][] = [];
  for (let t = 0; t < targets; t++) {
    for (let s = 0; s < series; s++) {
      out.push([
        { name: "__name__", value: `fleet_metric_${s % NAMES}` },
        { name: "dev", value: String(Math.floor(s / NAMES)) },
        { name: "instance", value: `host-${t}:9100` },
        { name: "job", value: "fleet" },
      ]);
    }
  }
  return out;
}

/** Series `i`'s value at its `k`th point: a slow wave with a step, its own. */
function valueAt(i: number, k: number): number {
  return 50 + 10 * Math.sin(k / 30 + i) + (k % 60 < 30 ? 0 : 5);
}

/** Imports each series' `points` points, 5 s apart, up to one step before `live`. */
async function importPast(url: string, fleet: Label[][], points: number, live: number) {
  const times = Array.from({ length: points }, (_, k) => live - (points - k) * STEP_MS);
  for (let from = 0; from < fleet.length; from += 100) {
    const lines: string[] = [];
    for (let i = from; i < Math.min(fleet.length, from + 100); i++) {
      const metric = Object.fromEntries(fleet[i]!.map((l) => [l.name, l.value]));
      const values = times.map((_, k) => valueAt(i, k));
      lines.push(JSON.stringify({ metric, values, timestamps: times }));
    }
    const r = await fetch(`${url}/api/v1/import`, { method: "POST", body: lines.join("\n") });
    if (!r.ok) throw new Error(`VictoriaMetrics refused the import: ${r.status} ${await r.text()}`);
  }
  const flushed = await fetch(`${url}/internal/force_flush`);
  await flushed.body?.cancel();
}

/** What the receiver read of the fleet's past at its first requests. */
interface Warmed {
  samples: number;
  /** Series with history, and those with their whole past. */
  series: number;
  whole: number;
  queries: number;
  seconds: number;
}

/** Sends the fleet's first requests to a receiver reading history from `url`; what it read. */
async function warmFleet(
  url: string,
  fleet: Label[][],
  o: { points: number; "in-flight": number },
  live: number,
  ctx: BenchContext,
): Promise<Warmed> {
  const bus = new InProcessBus();
  const perChannel = new Map<string, number>();
  bus.subscribe(feedBatchSubject("prom"), (msg) => {
    const { batch, meta } = decodeFeedBatch(msg.data);
    if (!isWarmupId(meta.id)) return;
    batch.channels.forEach((c, i) => perChannel.set(c, (perChannel.get(c) ?? 0) + batch.n[i]!));
  });
  const server = new IngestServer(
    parseIngestSettings({
      port: 0,
      preset: "none",
      channels_max: fleet.length,
      history_url: url,
      history_window_ms: o.points * STEP_MS,
      history_step_ms: STEP_MS,
    }),
    {
      bus,
      durable: false,
      labels: await openChannelLabels(bus, { read: true }),
      log: (line) => ctx.log(`${NAME}: receiver: ${line}`),
    },
  );
  await server.start();
  try {
    const requests = shardedRequests(fleet, live);
    const t0 = nowMs();
    let next = 0;
    const target = `http://127.0.0.1:${server.port}/api/v1/write`;
    await Promise.all(Array.from({ length: o["in-flight"] }, async () => {
      while (next < requests.length) await send(target, requests[next++]!);
    }));
    await bus.flush();
    const seconds = (nowMs() - t0) / 1000;
    let samples = 0, whole = 0;
    for (const n of perChannel.values()) {
      samples += n;
      if (n >= o.points) whole++;
    }
    const queries = await queriesSent(server.port);
    return { samples, series: perChannel.size, whole, queries, seconds };
  } finally {
    await server.stop();
  }
}

/**
 * The fleet's first samples as Prometheus's shards send them: the series dealt out by a fixed
 * shuffle (a shard takes series by their labels' hash), 2,000 a request, each one sample at `live`.
 */
function shardedRequests(fleet: Label[][], live: number): Uint8Array[] {
  const order = fleet.map((_, i) => i);
  const prng = new Prng(7);
  for (let i = order.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const out: Uint8Array[] = [];
  for (let from = 0; from < order.length; from += REQUEST_SERIES) {
    const timeseries: WriteRequest["timeseries"] = order.slice(from, from + REQUEST_SERIES).map((
      i,
    ) => ({
      labels: fleet[i]!,
      samples: [{ timestamp: live, value: valueAt(i, 0) }],
    }));
    out.push(snappyCompress(encodeWriteRequest({ timeseries })));
  }
  return out;
}

/** The history queries a receiver says it sent (`troupe_ingest_history_queries_total`). */
async function queriesSent(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const name = "troupe_ingest_history_queries_total ";
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line === undefined ? 0 : Number(line.slice(name.length));
}

/**
 * The baseline: the same points read one query_range a series (each series' exact selector),
 * `inFlight` at once, each answer parsed; no conversion, no journal.
 */
async function perSeriesRead(
  url: string,
  fleet: Label[][],
  live: number,
  points: number,
  inFlight: number,
): Promise<{ samples: number; seconds: number }> {
  const end = live - 1;
  let next = 0, samples = 0;
  const t0 = nowMs();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < fleet.length) {
      const form = new URLSearchParams({
        query: historySelector(fleet[next++]!),
        start: String((end - points * STEP_MS) / 1000),
        end: String(end / 1000),
        step: String(STEP_MS / 1000),
      });
      const r = await fetch(`${url}/api/v1/query_range`, { method: "POST", body: form });
      const body = JSON.parse(await r.text()) as {
        data: { result: Array<{ values: unknown[] }> };
      };
      for (const s of body.data.result) samples += s.values.length;
    }
  }));
  return { samples, seconds: (nowMs() - t0) / 1000 };
}

/**
 * VictoriaMetrics' export of the fleet's past, uncompressed (one request, each line parsed): the
 * store's raw read of it, for the log.
 */
async function exportPast(
  url: string,
  live: number,
  points: number,
): Promise<{ samples: number; seconds: number }> {
  const form = new URLSearchParams({
    "match[]": '{job="fleet"}',
    start: String((live - (points + 1) * STEP_MS) / 1000),
    end: String((live - 1) / 1000),
  });
  const t0 = nowMs();
  const r = await fetch(`${url}/api/v1/export`, {
    method: "POST",
    body: form,
    headers: { "accept-encoding": "identity" },
  });
  const text = await r.text();
  let samples = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    samples += (JSON.parse(line) as { values: number[] }).values.length;
  }
  return { samples, seconds: (nowMs() - t0) / 1000 };
}
