/**
 * The host `troupe bench scan` scans, started and made ready: the bench's bars written as CSV
 * history, a host launched on them (launchHost with the scan service, as `troupe run` starts it;
 * in-process bus, file journal, no ticks), then waited for as an orchestrator waits before
 * traffic comes (its `/healthz` answering, its seeded instances snapshotted, its warm-up done)
 * and the bench's own HTTP and WebSocket client warmed, so that the first scan meets them warm.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { BarColumns } from "../actors/indicators/mod.ts";
import { type Host, launchHost, parseHostConfig } from "../actors/runtime/mod.ts";
import { scanHostService } from "../actors/scan/mod.ts";
import type { BenchContext } from "./_bench.ts";
import { markedService, type ScanMarks } from "./_scan_marks.ts";

/** A minute boundary: the bars' first start. */
export const BASE_US = 28_333_334 * 60e6;
export const BAR_US = 60e6;

/** A symbol's name: `S` and its index, five digits. */
export const symbolName = (i: number) => `S${String(i).padStart(5, "0")}`;

/** A scan host, started and ready. */
export interface StartedScanHost {
  host: Host;
  /** Its HTTP API's base URL. */
  base: string;
  /** When its scans were posted and their first results written. */
  marks: ScanMarks;
  /** The bench's first request (a cold client's) and the next, sent to answered (ms). */
  client: { first: number; next: number };
  /** Closes the host and removes its data directory. */
  close(): Promise<void>;
}

/** Starts a host holding `all`'s bars and waits until it (and the bench's client) is ready. */
export async function startScanHost(
  all: BarColumns[],
  ctx: BenchContext,
): Promise<StartedScanHost> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-bench-scan-"));
  const t0 = performance.now();
  writeHistory(join(dir, "history"), all);
  const t1 = performance.now();
  const config = parseHostConfig({
    host_id: "bench-scan",
    data_dir: dir,
    http_port: 0,
    journal: { kind: "file", fsync: "never" },
    // Every seeded instance snapshotted at the first look (min_inputs 1: each has its seed alone),
    // so that their snapshots are taken before the scans are timed, not during them.
    snapshots: { store: "memory", every_inputs: 1e9, every_ms: 3_600_000, min_inputs: 1 },
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
  let onWarmed: (w: Warmed) => void = () => {};
  const warmed = new Promise<Warmed>((r) => (onWarmed = r));
  // No ticks: the bars held stay those seeded for the whole run.
  const launched = await launchHost(config, ACTOR_KINDS, {
    log: (m) => m.startsWith("bars history") && ctx.log(`host: ${m}`),
    tickEveryMs: 0,
    service: markedService(scanHostService({ onWarmed }), marks),
  });
  const t2 = performance.now();
  const close = async () => {
    await launched.close();
    rmSync(dir, { recursive: true, force: true });
  };
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
    const client = await ready(launched.host, base, { n: all.length, warmed }, ctx);
    return { host: launched.host, base, marks, client, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** What the scan service's warm-up reports once done. */
type Warmed = { ms: number; symbols_evaluated: number };

/**
 * Waits until the host answers its health check, has snapshotted its `n` seeded instances and is
 * `warmed`, then warms the bench's client; the client's first and next request times.
 */
async function ready(
  host: Host,
  base: string,
  o: { n: number; warmed: Promise<Warmed> },
  ctx: BenchContext,
): Promise<{ first: number; next: number }> {
  const client = await readyClient(base);
  // The host's first periodic look (each second) snapshots every instance the seed changed:
  // 10,000 snapshots of 28 KB, once, which is not the scans' cost (under load it held the event
  // loop long enough for the first POST to time out).
  await snapshotted(host, o.n, ctx);
  const tw = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const warm = await Promise.race([
    o.warmed,
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
  return client;
}

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
