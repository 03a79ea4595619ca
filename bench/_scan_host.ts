/**
 * The host part of `troupe bench scan`: the bench's bars held by the bars actors of a running host
 * (launchHost with the scan service, as `troupe run` starts it; in-process bus, file journal),
 * seeded from CSV files through `actors.bars.history_dir` (the held bars equal the bench's, bit for
 * bit; _scan_host_start.ts starts it and waits until it is ready), then scanned through the HTTP
 * API with one WebSocket subscriber, round after round:
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
import process from "node:process";
import { WebSocket } from "ws";
import type { BarColumns } from "../actors/indicators/mod.ts";
import type { Host } from "../actors/runtime/mod.ts";
import { barsSeedBody } from "../actors/bars/mod.ts";
import { type BenchContext, type BenchRow, row } from "./_bench.ts";
import type { ScanMarks } from "./_scan_marks.ts";
import {
  BAR_US,
  BASE_US,
  type StartedScanHost,
  startScanHost,
  symbolName,
} from "./_scan_host_start.ts";

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

interface Subscribed {
  first: Promise<number>;
  end: Promise<{ seqs: number[]; stats: { signals: number; state: string; elapsed_ms: number } }>;
}

/**
 * Subscribes to a scan over WebSocket; `dropAfterFirst` reconnects once, after the first result.
 */
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
  const started = await startScanHost(all, ctx);
  try {
    const rounds = await scanRounds(started, all, o);
    logRounds(rounds, { o, symbols: all.length }, ctx);
    const concurrency = await concurrent(started.base, o, ctx);
    return [...roundRows(rounds, started.client, all.length), ...concurrency];
  } finally {
    await started.close();
  }
}

/** The rounds' figures (ms), each list one entry a round of its kind. */
interface ScanRounds {
  /** The bare loop's matches over the latest bars. */
  bareMatches: number;
  /** Symbols given a new bar before each live round (0: no live rounds). */
  live: number;
  /**
   * The static rounds: the full scan, the service's own start to end, the first result (the
   * client's and the host's side), a criteria not scanned before (both sides), the bare loops.
   */
  full: number[];
  served: number[];
  first: number[];
  hostFirst: number[];
  newFirst: number[];
  hostNewFirst: number[];
  bare: number[];
  short: number[];
  /** The live rounds: the full scan and its first result. */
  liveFull: number[];
  liveFirst: number[];
  /** The host's first scan: its first result (the client's and the host's side), and its log. */
  firstOfAll: number;
  hostFirstOfAll: number;
  cold: string;
}

/**
 * The scan rounds after a first one (with a live market, odd rounds scan unchanged bars, even ones
 * from 2 new bars), each checked against the bare loop and followed by the bare loops timed.
 */
async function scanRounds(
  started: StartedScanHost,
  all: BarColumns[],
  o: HostScanOptions,
): Promise<ScanRounds> {
  const { base, marks } = started;
  const request = { criteria: o.criteria, rank: o.rank, bar: "1m" };
  const live = Math.round((o.live ?? 0) * all.length);
  const rs: ScanRounds = {
    bareMatches: o.bare(),
    live,
    full: [],
    served: [],
    first: [],
    hostFirst: [],
    newFirst: [],
    hostNewFirst: [],
    bare: [],
    short: [],
    liveFull: [],
    liveFirst: [],
    firstOfAll: NaN,
    hostFirstOfAll: NaN,
    cold: "",
  };
  for (let r = 0, calls = 0; r <= (live > 0 ? 2 * o.rounds : o.rounds); r++) {
    const isLive = live > 0 && r >= 2 && r % 2 === 0;
    if (isLive) {
      await newBars(started.host, all, live, ++calls);
      rs.bareMatches = o.bare();
    }
    const scan = await timedScan(base, request, { signals: rs.bareMatches, marks });
    // A criteria not scanned before, before the bare loops: they stand between its scan and
    // the next round's, as between any two rounds.
    const fresh = r > 0 && !isLive
      ? await newCriteriaFirst(
        base,
        { ...request, criteria: `${o.criteria} and ${r} > -1` },
        { signals: rs.bareMatches, marks },
      )
      : undefined;
    const loops = timedBareLoops(o, rs.bareMatches);
    if (r === 0) {
      // The host's first scan: a criteria it has not scanned (no recent hits to put first).
      rs.firstOfAll = scan.first;
      rs.hostFirstOfAll = scan.host;
      rs.cold = `first scan after the host started: full ${scan.full.toFixed(1)} ms, first ` +
        `result ${scan.first.toFixed(1)} ms (the host's side ${scan.host.toFixed(1)} ms); `;
      continue;
    }
    if (isLive) {
      rs.liveFull.push(scan.full);
      rs.liveFirst.push(scan.first);
      continue;
    }
    rs.newFirst.push(fresh!.client);
    rs.hostNewFirst.push(fresh!.host);
    rs.hostFirst.push(scan.host);
    rs.full.push(scan.full);
    rs.served.push(scan.served);
    rs.first.push(scan.first);
    rs.bare.push(loops.bare);
    rs.short.push(loops.short);
  }
  return rs;
}

/**
 * One scan of `request`, subscribed to, checked to find `o.signals` signals, then deleted: its
 * full time and its first result's (ms from the POST), the first result's on the host's side and
 * the service's own start to end.
 */
async function timedScan(
  base: string,
  request: Record<string, unknown>,
  o: { signals: number; marks: ScanMarks },
): Promise<{ full: number; first: number; host: number; served: number }> {
  const ts = performance.now();
  const { scanId, ws } = await startScan(base, request);
  const posted = o.marks.posted;
  const sub = subscribe(ws);
  const done = await sub.end;
  const te = performance.now();
  const tf = await sub.first;
  const th = (o.marks.firstWritten.get(scanId) ?? NaN) - posted;
  await fetch(`${base}/scan/${scanId}`, { method: "DELETE" });
  if (done.stats.signals !== o.signals || done.seqs.length !== o.signals) {
    throw new Error(
      `bench scan: the host's scan found ${done.stats.signals} signals (${done.seqs.length} ` +
        `received), the bare loop ${o.signals}`,
    );
  }
  return { full: te - ts, first: tf - ts, host: th, served: done.stats.elapsed_ms };
}

/** The bare loop's time and the short-circuiting one's (ms), which must match `matches` too. */
function timedBareLoops(o: HostScanOptions, matches: number): { bare: number; short: number } {
  const tb = performance.now();
  o.bare();
  const bare = performance.now() - tb;
  const ts2 = performance.now();
  const shortMatches = o.bareShortCircuit?.() ?? matches;
  const short = performance.now() - ts2;
  if (shortMatches !== matches) {
    throw new Error(`bench scan: the short-circuit loop matched ${shortMatches}, not ${matches}`);
  }
  return { bare, short };
}

/** Logs the rounds: the ranges, the first results round by round, the live rounds. */
function logRounds(
  rs: ScanRounds,
  of: { o: HostScanOptions; symbols: number },
  ctx: BenchContext,
): void {
  const { o } = of;
  ctx.log(
    `host scan (${rs.bareMatches} signals): ${rs.cold}then full ${
      span(rs.full)
    } ms (the service's own start to ` +
      `end ${span(rs.served)} ms), first result ${spread(rs.first)} ms (the host's side ` +
      `${spread(rs.hostFirst)} ms), ` +
      `a criteria not scanned before ${spread(rs.newFirst)} ms (the host's side ` +
      `${spread(rs.hostNewFirst)} ms), bare loop ${span(rs.bare)} ms ${
        o.bareShortCircuit
          ? `(short-circuiting: ${span(rs.short)} ms, symbols_per_s ratio against it ${
            (median(rs.short) / median(rs.full)).toFixed(3)
          }) `
          : ""
      }over ${o.rounds} rounds`,
  );
  const each = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(" ");
  ctx.log(
    `first results by round (ms): ${each(rs.first)}; a criteria not scanned before: ` +
      `${each(rs.newFirst)}${rs.live > 0 ? `; live: ${each(rs.liveFirst)}` : ""}`,
  );
  if (rs.live > 0) {
    ctx.log(
      `host scan, live market (${rs.live} of ${of.symbols} symbols with a new bar before each ` +
        `round, alternating with the rounds above): full ${span(rs.liveFull)} ms, first result ` +
        `${spread(rs.liveFirst)} ms over ${rs.liveFull.length} rounds`,
    );
  }
}

/** The rounds' rows: times in ms (lower is better), and symbols_per_s against the bare loop. */
function roundRows(
  rs: ScanRounds,
  client: { first: number },
  symbols: number,
): BenchRow[] {
  const ms = (metric: string, troupe: number) =>
    row({ bench: "scan", metric, unit: "ms", troupe, baseline: null, better: "lower" });
  return [
    ms("full_scan_ms", median(rs.full)),
    ms("first_result_ms", median(rs.first)),
    ms("first_result_first_scan_ms", rs.firstOfAll),
    ms("first_result_first_scan_host_ms", rs.hostFirstOfAll),
    ms("first_request_cold_client_ms", client.first),
    ms("first_result_new_criteria_ms", median(rs.newFirst)),
    row({
      bench: "scan",
      metric: "symbols_per_s",
      unit: "symbols/s",
      troupe: symbols / (median(rs.full) / 1000),
      baseline: symbols / (median(rs.bare) / 1000),
      better: "higher",
    }),
    ...(rs.live > 0
      ? [
        ms("full_scan_live_ms", median(rs.liveFull)),
        ms("first_result_live_ms", median(rs.liveFirst)),
      ]
      : []),
  ];
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
