/**
 * The host part of `troupe bench scan`: the bench's bars held by the bars actors of a running host
 * (launchHost with the scan service, as `troupe run` starts it; in-process bus, file journal),
 * seeded from CSV files through `actors.bars.history_dir` (the held bars equal the bench's, bit for
 * bit), then scanned through the HTTP API with one WebSocket subscriber:
 *
 * - `full_scan_ms` (POST to the end message) and `first_result_ms` (POST to the first result),
 *   medians over the rounds: the same criteria each round, so a round's first chunk holds the
 *   previous round's hits (the service puts a criteria's recent hits first);
 * - `first_result_first_scan_ms`: the first result of the first scan after the host started, its
 *   seeded instances were snapshotted and it was ready (one figure per run): its `/healthz`
 *   answered, as an orchestrator's (or `troupe up`'s) health check asks once the host is up and
 *   before traffic comes, and its warm-up was done (the universe's priority order,
 *   ScanService.warm, and the scan path, rehearsed); the bench's HTTP and WebSocket client is warm
 *   by then (the health check, then GETs, POSTs refused and WebSockets to a scan that does not
 *   exist, see warmClient); its criteria is a new one, so its first result comes in priority
 *   order alone, as `first_result_new_criteria_ms`'s;
 * - `first_result_first_scan_host_ms`: the same scan on the host's side, from its POST reaching
 *   the scan API's handler to the host writing its first result to the WebSocket (_scan_marks.ts);
 * - `first_request_cold_client_ms`: the bench process's first HTTP request (that health check),
 *   sent to answered: a cold client's start-up (undici, a new connection) and the host's first
 *   request, which a first scan from a cold client pays on top (the log gives the next request's);
 * - `first_result_new_criteria_ms`: the first result of a criteria the host has not scanned yet
 *   (the bench's with ` and <round> > -1` appended: the same matches), one after each static round
 *   (before the bare loops), its first chunk in priority order alone;
 * - `symbols_per_s` through workers, API and subscriber, against the bare loop of the same five
 *   indicators over the same bars, alternated round by round (wall time both);
 * - `lost_or_repeated` over N concurrent scans, a subscriber each, a third of them dropping their
 *   WebSocket after their first result and reconnecting from it;
 * - `rss_growth_ratio`: the process's RSS after those scans are deleted over before they started.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { WebSocket } from "ws";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { BarColumns } from "../actors/indicators/mod.ts";
import { type Host, launchHost, parseHostConfig } from "../actors/runtime/mod.ts";
import { barsSeedBody } from "../actors/bars/mod.ts";
import { scanHostService } from "../actors/scan/mod.ts";
import { type BenchContext, type BenchRow, row } from "./_bench.ts";
import { markedService, type ScanMarks } from "./_scan_marks.ts";

/** What the host part is given. */
export interface HostScanOptions {
  criteria: string;
  rank: string;
  rounds: number;
  concurrent: number;
  /** The bare loop over the same bars; returns its matches. */
  bare(): number;
  /** The bare loop stopping at the first false condition (logged only). */
  bareShortCircuit?(): number;
  /**
   * A live market: with a fraction > 0, every other round is taken after this fraction of the
   * symbols got one new bar (seeded into the host, and appended to the bare loop's columns).
   */
  live?: number;
}

/** A minute boundary: the bars' first start. */
const BASE_US = 28_333_334 * 60e6;
const BAR_US = 60e6;

const symbolName = (i: number) => `S${String(i).padStart(5, "0")}`;

/**
 * Writes every symbol's bars as `<symbol>.1m.csv` in `dir` (the host's `history_dir`). Numbers are
 * written as JavaScript prints them, the shortest text that reads back to the same double, so the
 * bars the host holds equal the bench's bit for bit.
 */
function writeHistory(dir: string, all: BarColumns[]): void {
  mkdirSync(dir);
  for (let s = 0; s < all.length; s++) {
    const b = all[s]!, n = b.close.length;
    const lines = ["time,open,high,low,close,volume"];
    for (let i = 0; i < n; i++) {
      const t = (BASE_US + i * BAR_US) / 1e6;
      lines.push(`${t},${b.open[i]},${b.high[i]},${b.low[i]},${b.close[i]},${b.volume[i]}`);
    }
    writeFileSync(join(dir, `${symbolName(s)}.1m.csv`), lines.join("\n") + "\n");
  }
}

/**
 * Waits until the host's `/healthz` answers 200 (up to a minute), as an orchestrator's health
 * check does once a host is up; the first request's time and the next one's, sent to answered
 * (ms): the first is a cold client's (its HTTP stack loading, a new connection).
 */
async function readyClient(base: string): Promise<{ first: number; next: number }> {
  const t0 = performance.now();
  let h = await healthz(base);
  const first = h.ms;
  while (!h.ok) {
    if (performance.now() - t0 > 60_000) throw new Error("bench scan: /healthz not 200 in 60 s");
    await new Promise((r) => setTimeout(r, 50));
    h = await healthz(base);
  }
  return { first, next: (await healthz(base)).ms };
}

async function healthz(base: string): Promise<{ ok: boolean; ms: number }> {
  const t = performance.now();
  const res = await fetch(`${base}/healthz`);
  await res.text();
  return { ok: res.status === 200, ms: performance.now() - t };
}

/** How many times the bench's client makes each kind of request before the first scan. */
const CLIENT_WARM_ROUNDS = 3;

/**
 * Warms the bench's client before the first scan, `CLIENT_WARM_ROUNDS` times: a GET /healthz, a
 * POST with a JSON body (to /healthz, refused with a 405 by the host's own routes, before any scan
 * route) and a WebSocket (to a scan that does not exist, refused with a 404).
 */
async function warmClient(base: string): Promise<void> {
  for (let k = 0; k < CLIENT_WARM_ROUNDS; k++) {
    await healthz(base);
    const post = await fetch(`${base}/healthz`, { method: "POST", body: JSON.stringify({}) });
    await post.text();
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/ws/results/none`);
      ws.on("error", () => resolve());
      ws.on("open", () => (ws.terminate(), resolve()));
    });
  }
}

/** Waits (up to 10 min) until the host has saved a snapshot of each of its `n` instances. */
async function snapshotted(host: Host, n: number, ctx: BenchContext): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const { values } = await host.metrics.snapshots.get();
    const saved = values.reduce((sum, v) => sum + v.value, 0);
    if (saved >= n) break;
    if (performance.now() - t0 > 600_000) {
      ctx.log(`host: ${saved} of ${n} seeded instances snapshotted after 10 min; going on`);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  ctx.log(
    `host: its snapshots of the seeded instances took ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
}

interface Subscribed {
  first: Promise<number>;
  end: Promise<{ seqs: number[]; stats: { signals: number; state: string; elapsed_ms: number } }>;
}

/** Subscribes to a scan over WebSocket; `dropAfterFirst` reconnects once, after the first result. */
function subscribe(url: string, dropAfterFirst = false): Subscribed {
  const seqs: number[] = [];
  let firstAt: (t: number) => void = () => {};
  const first = new Promise<number>((r) => (firstAt = r));
  const end = new Promise<Subscribed["end"] extends Promise<infer T> ? T : never>(
    (resolve, reject) => {
      let dropped = !dropAfterFirst;
      const open = (after: number) => {
        const ws = new WebSocket(`${url}?after=${after}`);
        ws.on("error", reject);
        ws.on("message", (data) => {
          const m = JSON.parse(String(data));
          if (m.type === "result") {
            if (seqs.length === 0) firstAt(performance.now());
            seqs.push(m.seq);
            if (!dropped) {
              dropped = true;
              ws.terminate();
              setTimeout(() => open(seqs.at(-1)!), 5);
            }
          } else if (m.type === "end") {
            firstAt(performance.now());
            resolve({ seqs, stats: m.stats });
          }
        });
      };
      open(0);
    },
  );
  return { first, end };
}

async function startScan(base: string, body: unknown): Promise<{ scanId: string; ws: string }> {
  const res = await fetch(`${base}/scan/stream`, { method: "POST", body: JSON.stringify(body) });
  const j = await res.json() as { scanId: string; websocketUrl: string; error?: string };
  if (res.status !== 200) throw new Error(`bench scan: POST /scan/stream: ${j.error}`);
  return { scanId: j.scanId, ws: j.websocketUrl };
}

/**
 * The first result's time (ms from the POST, and on the host's side) of a scan of `request`, which
 * is then deleted.
 */
async function newCriteriaFirst(
  base: string,
  request: Record<string, unknown>,
  o: { signals: number; marks: ScanMarks },
): Promise<{ client: number; host: number }> {
  const ts = performance.now();
  const { scanId, ws } = await startScan(base, request);
  const posted = o.marks.posted;
  const sub = subscribe(ws);
  const { stats } = await sub.end;
  const tf = await sub.first;
  if (stats.signals !== o.signals) {
    throw new Error(
      `bench scan: ${request.criteria} found ${stats.signals} signals, not ${o.signals}`,
    );
  }
  await fetch(`${base}/scan/${scanId}`, { method: "DELETE" });
  return { client: tf - ts, host: (o.marks.firstWritten.get(scanId) ?? NaN) - posted };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const span = (xs: number[]) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
/** The range, the median and the 90th percentile (nearest rank) of `xs`. */
const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const p90 = s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)]!;
  return `${span(xs)} (median ${median(xs).toFixed(1)}, p90 ${p90.toFixed(1)})`;
};

/**
 * Gives `count` symbols (spread over the universe, a different set each call) one new bar each:
 * seeded into the host, and appended to their columns in `all` (the oldest dropped, as the host's
 * full ring drops it), so the bare loop reads the same bars. Resolves once the host applied them.
 */
async function newBars(host: Host, all: BarColumns[], count: number, call: number): Promise<void> {
  const n = all.length, step = n / count;
  const applied0 = host.applied.get("bars") ?? 0;
  for (let k = 0; k < count; k++) {
    const s = (Math.floor(k * step) + call) % n, b = all[s]!, last = b.close.length - 1;
    // A deterministic move: the bench's bars stay the same from run to run.
    const open = b.close[last]!, close = open * (1 + 0.004 * Math.sin(s + call * 7.3));
    const bar = {
      t: b.t[last]! + BAR_US,
      open,
      high: Math.max(open, close) * 1.001,
      low: Math.min(open, close) * 0.999,
      close,
      volume: 500 + (s % 1000),
    };
    for (const c of ["t", "open", "high", "low", "close", "volume"] as const) {
      b[c].copyWithin(0, 1);
      b[c][last] = bar[c];
    }
    const one = (x: number) => Float64Array.of(x);
    const body = barsSeedBody({
      sizeUs: BAR_US,
      // The host's bars start at BASE_US (see writeHistory); the bench's at 0.
      t: one(BASE_US + bar.t),
      open: one(bar.open),
      high: one(bar.high),
      low: one(bar.low),
      close: one(bar.close),
      count: one(bar.volume),
      sum: one(bar.volume),
    });
    if (!host.seed("bars", symbolName(s), { id: `live-${call}-${s}`, body })) {
      throw new Error(`bench scan: the host does not own ${symbolName(s)}`);
    }
  }
  const t0 = performance.now();
  while ((host.applied.get("bars") ?? 0) < applied0 + count) {
    if (performance.now() - t0 > 60_000) {
      throw new Error("bench scan: new bars not applied in 60 s");
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Runs the host part over `all`; its rows. */
export async function hostScanRows(
  all: BarColumns[],
  o: HostScanOptions,
  ctx: BenchContext,
): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-bench-scan-"));
  const t0 = performance.now();
  writeHistory(join(dir, "history"), all);
  const t1 = performance.now();
  const config = parseHostConfig({
    host_id: "bench-scan",
    data_dir: dir,
    http_port: 0,
    journal: { kind: "file", fsync: "never" },
    snapshots: { store: "memory", every_inputs: 1_000_000_000, every_ms: 3_600_000 },
    actors: {
      ...Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }])),
      bars: {
        bar_sizes: ["1m"],
        history_bars: all[0]!.close.length,
        history_dir: join(dir, "history"),
      },
    },
  }, ACTOR_KINDS);
  const marks: ScanMarks = { posted: NaN, firstWritten: new Map() };
  let onWarmed: (w: { ms: number; symbols_evaluated: number }) => void = () => {};
  const warmed = new Promise<{ ms: number; symbols_evaluated: number }>((r) => (onWarmed = r));
  // No ticks: the bars held stay those seeded for the whole run.
  const launched = await launchHost(config, ACTOR_KINDS, {
    log: (m) => m.startsWith("bars history") && ctx.log(`host: ${m}`),
    tickEveryMs: 0,
    service: markedService(scanHostService({ onWarmed }), marks),
  });
  const t2 = performance.now();
  try {
    const held = launched.host.instances().length;
    if (held !== all.length) {
      throw new Error(`bench scan: the host holds ${held} bars instances, ${all.length} written`);
    }
    ctx.log(
      `host: ${all.length} symbols x ${all[0]!.close.length} bars written as CSV in ` +
        `${((t1 - t0) / 1000).toFixed(1)} s, seeded from history_dir (read, journaled, applied) ` +
        `in ${((t2 - t1) / 1000).toFixed(1)} s`,
    );
    const base = `http://127.0.0.1:${launched.host.httpPort}`;
    const client = await readyClient(base);
    // The host's first periodic look (each second) snapshots every instance the seed changed:
    // 10,000 snapshots of 28 KB, once, which is not the scans' cost (under load it held the event
    // loop long enough for the first POST to time out).
    await snapshotted(launched.host, all.length, ctx);
    const tw = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const warm = await Promise.race([
      warmed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("bench scan: the host's warm-up not done in 60 s")),
          60_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    ctx.log(
      `host: ready; the bench's first request (GET /healthz) ${client.first.toFixed(1)} ms, ` +
        `the next ${client.next.toFixed(1)} ms; the host's warm-up took ${warm.ms.toFixed(0)} ms ` +
        `(${warm.symbols_evaluated} symbols evaluated), waited for ${
          (performance.now() - tw).toFixed(0)
        } ms more`,
    );
    await warmClient(base);
    const request = { criteria: o.criteria, rank: o.rank, bar: "1m" };
    let bareMatches = o.bare();
    const full: number[] = [], first: number[] = [], bare: number[] = [], served: number[] = [];
    const short: number[] = [], liveFull: number[] = [], liveFirst: number[] = [];
    const newFirst: number[] = [], hostFirst: number[] = [], hostNewFirst: number[] = [];
    const live = Math.round((o.live ?? 0) * all.length);
    let cold = "";
    let firstOfAll = NaN, hostFirstOfAll = NaN;
    // With a live market, odd rounds scan unchanged bars, even ones (from 2) new bars.
    for (let r = 0, calls = 0; r <= (live > 0 ? 2 * o.rounds : o.rounds); r++) {
      const isLive = live > 0 && r >= 2 && r % 2 === 0;
      if (isLive) {
        await newBars(launched.host, all, live, ++calls);
        bareMatches = o.bare();
      }
      const ts = performance.now();
      const { scanId, ws } = await startScan(base, request);
      const posted = marks.posted;
      const sub = subscribe(ws);
      const done = await sub.end;
      const te = performance.now();
      const tf = await sub.first;
      const th = (marks.firstWritten.get(scanId) ?? NaN) - posted;
      await fetch(`${base}/scan/${scanId}`, { method: "DELETE" });
      if (done.stats.signals !== bareMatches || done.seqs.length !== bareMatches) {
        throw new Error(
          `bench scan: the host's scan found ${done.stats.signals} signals (${done.seqs.length} ` +
            `received), the bare loop ${bareMatches}`,
        );
      }
      // A criteria not scanned before, before the bare loops: they stand between its scan and
      // the next round's, as between any two rounds.
      const fresh = r > 0 && !isLive
        ? await newCriteriaFirst(
          base,
          { ...request, criteria: `${o.criteria} and ${r} > -1` },
          { signals: bareMatches, marks },
        )
        : undefined;
      const tb = performance.now();
      o.bare();
      const bareMs = performance.now() - tb;
      const ts2 = performance.now();
      const shortMatches = o.bareShortCircuit?.() ?? bareMatches;
      const shortMs = performance.now() - ts2;
      if (shortMatches !== bareMatches) {
        throw new Error(
          `bench scan: the short-circuit loop matched ${shortMatches}, not ${bareMatches}`,
        );
      }
      if (r === 0) {
        // The host's first scan: a criteria it has not scanned (no recent hits to put first).
        firstOfAll = tf - ts;
        hostFirstOfAll = th;
        cold = `first scan after the host started: full ${(te - ts).toFixed(1)} ms, first result ` +
          `${(tf - ts).toFixed(1)} ms (the host's side ${th.toFixed(1)} ms); `;
        continue;
      }
      if (isLive) {
        liveFull.push(te - ts);
        liveFirst.push(tf - ts);
        continue;
      }
      newFirst.push(fresh!.client);
      hostNewFirst.push(fresh!.host);
      hostFirst.push(th);
      full.push(te - ts);
      served.push(done.stats.elapsed_ms);
      first.push(tf - ts);
      bare.push(bareMs);
      short.push(shortMs);
    }
    ctx.log(
      `host scan (${bareMatches} signals): ${cold}then full ${
        span(full)
      } ms (the service's own start to ` +
        `end ${span(served)} ms), first result ${spread(first)} ms (the host's side ` +
        `${spread(hostFirst)} ms), ` +
        `a criteria not scanned before ${spread(newFirst)} ms (the host's side ` +
        `${spread(hostNewFirst)} ms), bare loop ${span(bare)} ms ${
          o.bareShortCircuit
            ? `(short-circuiting: ${span(short)} ms, symbols_per_s ratio against it ${
              (median(short) / median(full)).toFixed(3)
            }) `
            : ""
        }over ${o.rounds} rounds`,
    );
    const each = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(" ");
    ctx.log(
      `first results by round (ms): ${each(first)}; a criteria not scanned before: ` +
        `${each(newFirst)}${live > 0 ? `; live: ${each(liveFirst)}` : ""}`,
    );
    if (live > 0) {
      ctx.log(
        `host scan, live market (${live} of ${all.length} symbols with a new bar before each ` +
          `round, alternating with the rounds above): full ${span(liveFull)} ms, first result ` +
          `${spread(liveFirst)} ms over ${liveFull.length} rounds`,
      );
    }
    const concurrency = await concurrent(base, o, ctx);
    const n = all.length;
    return [
      row({
        bench: "scan",
        metric: "full_scan_ms",
        unit: "ms",
        troupe: median(full),
        baseline: null,
        better: "lower",
      }),
      row({
        bench: "scan",
        metric: "first_result_ms",
        unit: "ms",
        troupe: median(first),
        baseline: null,
        better: "lower",
      }),
      row({
        bench: "scan",
        metric: "first_result_first_scan_ms",
        unit: "ms",
        troupe: firstOfAll,
        baseline: null,
        better: "lower",
      }),
      row({
        bench: "scan",
        metric: "first_result_first_scan_host_ms",
        unit: "ms",
        troupe: hostFirstOfAll,
        baseline: null,
        better: "lower",
      }),
      row({
        bench: "scan",
        metric: "first_request_cold_client_ms",
        unit: "ms",
        troupe: client.first,
        baseline: null,
        better: "lower",
      }),
      row({
        bench: "scan",
        metric: "first_result_new_criteria_ms",
        unit: "ms",
        troupe: median(newFirst),
        baseline: null,
        better: "lower",
      }),
      row({
        bench: "scan",
        metric: "symbols_per_s",
        unit: "symbols/s",
        troupe: n / (median(full) / 1000),
        baseline: n / (median(bare) / 1000),
        better: "higher",
      }),
      ...(live > 0
        ? ["full_scan_live_ms", "first_result_live_ms"].map((metric, k) =>
          row({
            bench: "scan",
            metric,
            unit: "ms",
            troupe: median(k === 0 ? liveFull : liveFirst),
            baseline: null,
            better: "lower",
          })
        )
        : []),
      ...concurrency,
    ];
  } finally {
    await launched.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** N concurrent scans, a third reconnecting mid-scan; then the RSS once they are deleted. */
async function concurrent(base: string, o: HostScanOptions, ctx: BenchContext) {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const rss0 = process.memoryUsage().rss;
  const scans = await Promise.all(
    Array.from({ length: o.concurrent }, async (_, k) => {
      const body = { criteria: o.criteria, rank: o.rank, bar: "1m", universe: `S0${k % 10}*` };
      const { scanId, ws } = await startScan(base, body);
      return { scanId, sub: subscribe(ws, k % 3 === 0) };
    }),
  );
  let bad = 0, results = 0;
  for (const { sub } of scans) {
    const { seqs, stats } = await sub.end;
    results += seqs.length;
    const want = Array.from({ length: stats.signals }, (_, i) => i + 1);
    if (seqs.length !== want.length) bad += Math.abs(seqs.length - want.length);
    bad += seqs.filter((s, i) => s !== want[i]).length;
  }
  for (const { scanId } of scans) await fetch(`${base}/scan/${scanId}`, { method: "DELETE" });
  gc?.();
  await new Promise((r) => setTimeout(r, 1000));
  gc?.();
  const rss1 = process.memoryUsage().rss;
  ctx.log(
    `${o.concurrent} concurrent scans (${results} results, a third reconnecting): ` +
      `${bad} lost or repeated; RSS ${(rss0 / 2 ** 20).toFixed(0)} MB before, ` +
      `${(rss1 / 2 ** 20).toFixed(0)} MB after they were deleted` +
      (gc ? "" : " (no --expose-gc: RSS without a forced collection)"),
  );
  return [
    row({
      bench: "scan",
      metric: "lost_or_repeated",
      unit: "results",
      troupe: bad,
      baseline: null,
      better: "lower",
    }),
    row({
      bench: "scan",
      metric: "rss_growth_ratio",
      unit: "ratio",
      troupe: rss1 / rss0,
      baseline: null,
      better: "lower",
    }),
  ];
}
