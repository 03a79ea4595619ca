/**
 * `troupe bench collab`: fan-out latency and server memory of the collaboration server against the
 * two reference servers, under the same load in the same run. For each client count (50, 200, 500)
 * and each server, a server process of its own (`bench/_collab_server.ts`) and the clients of one
 * session spread over `--procs` client processes (`bench/_collab_clients.ts`). By default one
 * client process per core beyond the server's (at least one): a client process's share of an
 * update is serial (each of its clients applies it in turn), so it takes a core of its own to
 * shorten the tail, and a process without one only adds its scheduling delay to the tail. On this
 * 2-core machine (load 6-14) c500's p99 over 3 alternated rounds was 91-1,090 ms with one
 * process, 158-1,498 with two, 1,070-3,400 with three and 745-4,400 with four: the default there
 * is one. Stock `y-websocket` clients for troupe's server and for `@y/websocket-server` 0.1.1,
 * `@hocuspocus/provider` clients for `@hocuspocus/server`. One client writes 20 updates/s (an
 * array entry holding its send time); a client's latency for an update runs from that time to the
 * moment its document has it (the machine's clock, read the same way in every process). Measuring
 * starts 2 s after the last client synced (the joins' awareness traffic has died down), and the
 * first second of updates is warm-up, not measured. Afterwards every client must hold the writer's
 * last update (`converged_ratio`). The server's resident memory is sampled from
 * `/proc/<pid>/status` during the run; its peak at 500 clients is reported. Servers run in
 * alternation per client count, `--rounds` times; each figure is the median over rounds, and the
 * log ends with each server's median and range over rounds. Each round's line also gives, per
 * update, the latency of its first and of its last client (medians over updates): the first is
 * the server's delay plus one client's apply and a wake-up, the last the whole fan-out, which one
 * client process applies client after client. The default window, 15 s, is a room's steady state:
 * every stock client renews its awareness state every 15 s, so each client's renewal falls inside
 * it, as it does every 15 s for as long as a room is open; a 5 s window ends before the first
 * renewal and measures only the quiet seconds after the joins (at 500 clients there troupe and
 * `@y/websocket-server` are level: p99 33 ms against 32, per-round ratio 1.02, 0.80-1.30, session
 * 26). It is also steadier: a p99 over 100 updates is the latency of about the worst update's
 * slowest clients, so one stall sets it; over 300 it is the third-worst update's.
 *
 * troupe's server does more per update than the references (it journals every update before it
 * relays it), so the comparison includes that cost.
 *
 * What differs on the clients' side, measured at 500 clients (profiles of the client process):
 * each client's work per update is the same Yjs apply (a transaction, the observer that takes the
 * arrival time, an update event), one client after another, so one update takes the client
 * process hundreds of times that and p50 is about half of it; the tail is that process's stalls
 * (garbage collection, awareness bursts, and above all not getting a core on a loaded machine).
 * The stock y-websocket client sends back every awareness message that changes its copy (its
 * handler ignores the origin); the hocuspocus provider does not. Every client renews its
 * awareness state every 15 s, so with `--seconds` 10 or more the renewals of the joins fall into
 * the measured window (about 13 batches per client in a 15 s round, each echoed by every client,
 * before troupe's server sent renewals in 1 s batches). The hocuspocus provider, for its part,
 * does more per message (its client process was 39-46% busy while measuring, the y-websocket one
 * 31-37%).
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Keyring, mintToken } from "../collab/mod.ts";
import { type Benchmark, type BenchRow, percentile, row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { ChildScript } from "./_child_script.ts";
import { tempDir } from "./_temp_dir.ts";
import { cpuMeter } from "./_process_usage.ts";
import { median } from "./_median.ts";
import { sleep } from "./_sleep.ts";

const NAME = "collab";
const ROOM = "bench";
const KINDS = ["troupe", "ywss", "hocuspocus"] as const;
type Kind = typeof KINDS[number];
const REFERENCE: Record<Exclude<Kind, "troupe">, string> = {
  ywss: "@y/websocket-server 0.1.1",
  hocuspocus: "@hocuspocus/server 4",
};
const SECRET = "troupe-bench-collab-secret";

interface Round {
  p50: number;
  p99: number;
  /** Per update, the first client's latency (the server's delay and one apply): its median. */
  firstP50: number;
  /** Per update, the last client's latency (the whole fan-out): its median. */
  lastP50: number;
  rssMb: number;
  converged: number;
}

interface Settings {
  clients: number[];
  seconds: number;
  rate: number;
  rounds: number;
  settleS: number;
  procs: number;
  servers: Kind[];
}

function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Splits `n` clients over `procs` processes, as evenly as it goes. */
function shares(n: number, procs: number): number[] {
  const k = Math.min(procs, n);
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

async function round(
  kind: Kind,
  n: number,
  s: Settings,
  log: (m: string) => void,
): Promise<Round> {
  const dir = tempDir("troupe-bench-collab-");
  const server = ChildScript.start("bench/_collab_server.ts", [kind, dir.path], log);
  const procs: ChildScript[] = [];
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(server.pid) || 0)), 100);
  try {
    const { port } = await server.next(30_000) as { port: number };
    const ring = await Keyring.fromSecrets([new TextEncoder().encode(SECRET)]);
    const token = await mintToken(ring, {
      session: ROOM,
      role: "editor",
      ttlS: 3600,
      nowMs: Date.now(),
    });
    // One process at a time joins its clients, so the joins do not all land at once.
    for (const [i, count] of shares(n, s.procs).entries()) {
      const file = join(dir.path, `latencies-${i}.f64`);
      const args = [kind, String(port), token, String(count), i === 0 ? "writer" : "reader", file];
      const p = ChildScript.start("bench/_collab_clients.ts", args, log);
      procs.push(p);
      await p.next(120_000); // { ready }
    }
    // Let the joins' awareness traffic (every client's state to every client) die down first.
    await sleep(s.settleS * 1000);
    const total = Math.round(s.rate * (s.seconds + 1));
    const pids: Record<string, number | undefined> = { server: server.pid };
    for (const [i, p] of procs.entries()) pids[`clients${i + 1}`] = p.pid;
    const cpu = cpuMeter(pids);
    procs[0]!.send(`go ${s.rate} ${total}`);
    await procs[0]!.next(total * 1000 / s.rate + 30_000); // { written }
    for (const p of procs) p.send(`finish ${total} ${s.rate}`); // the first second is warm-up
    const latencies: number[] = [];
    let converged = 0;
    let first: number[] = [], last: number[] = [];
    for (const [i, p] of procs.entries()) {
      const r = await p.next(120_000) as { converged: number; first: number[]; last: number[] };
      // The processes' clients together: per update, the earliest first and the latest last.
      first = i === 0 ? r.first : r.first.map((x, q) => Math.min(x, first[q] ?? x));
      last = i === 0 ? r.last : r.last.map((x, q) => Math.max(x, last[q] ?? x));
      const bytes = readFileSync(join(dir.path, `latencies-${i}.f64`));
      // A copy: a Buffer from readFileSync may sit at an offset that is not a multiple of 8.
      const got = new Float64Array(new Uint8Array(bytes).buffer);
      for (const x of got) latencies.push(x);
      converged += r.converged;
    }
    log(`${kind} c${n}: CPU while measuring (of one core): ${cpu()}`);
    latencies.sort((a, b) => a - b);
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      firstP50: percentile(first.sort((a, b) => a - b), 50),
      lastP50: percentile(last.sort((a, b) => a - b), 50),
      rssMb: rssMax,
      converged: converged / n,
    };
  } finally {
    clearInterval(sampler);
    for (const p of procs) p.send("stop");
    for (const p of procs) await p.wait(10_000).catch(() => p.kill());
    server.send("stop");
    await server.wait(10_000).catch(() => server.kill());
    dir.remove();
  }
}

const OPTIONS = {
  clients: { help: "client counts", arg: "LIST", default: "50,200,500" },
  seconds: {
    help: "measured seconds per round, after 1 s of warm-up (15: every client's awareness " +
      "renewal falls inside, as in a room's steady state; 5 ends before any)",
    arg: "S",
    default: 15,
    number: { min: 1 },
  },
  rate: { help: "the writer's updates per second", default: 20, number: { min: 1, max: 1000 } },
  rounds: {
    help: "rounds per server and client count, alternated; medians reported",
    default: 1,
    number: { min: 1, integer: true },
  },
  settle: {
    help: "seconds between the last client's sync and the first update",
    arg: "S",
    default: 2,
    number: { min: 0 },
  },
  procs: {
    help: "client processes the clients are spread over (cores less one, up to 8)",
    default: defaultProcs(),
    number: { min: 1, max: 64, integer: true },
  },
  servers: {
    help: "which servers (rows need troupe and both)",
    arg: "LIST",
    default: "troupe,ywss,hocuspocus",
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "fan-out latency (p50/p99) and server RSS with 50/200/500 clients in one room, one writer " +
    "at 20 updates/s, against @y/websocket-server 0.1.1 and @hocuspocus/server 4",
  options: OPTIONS,
  async run(args, context) {
    const o = readOptions(args, OPTIONS);
    const s: Settings = {
      clients: o.clients.split(",").map((x) => {
        const v = Number(x);
        if (!Number.isInteger(v) || v < 2 || v > 5000) {
          throw new BenchOptionError(
            `Option --clients must list whole numbers from 2 to 5000, got "${x}"`,
          );
        }
        return v;
      }),
      seconds: o.seconds,
      rate: o.rate,
      rounds: o.rounds,
      settleS: o.settle,
      procs: o.procs,
      servers: o.servers.split(",").map((k) => {
        if (!KINDS.includes(k as Kind)) {
          throw new BenchOptionError(`Option --servers lists ${KINDS.join(", ")}, got "${k}"`);
        }
        return k as Kind;
      }),
    };
    if ("Deno" in globalThis && s.servers.includes("hocuspocus")) {
      throw new BenchOptionError(
        "@hocuspocus/server 4 does not run on Deno (its crossws Node adapter refuses it): run " +
          "troupe bench collab on Node, or pass --servers troupe,ywss",
      );
    }
    const log = (m: string) => context.log(m);
    // The troupe server child reads it; put back after, as the process (a test run) goes on.
    const secretBefore = process.env.TROUPE_SECRET;
    process.env.TROUPE_SECRET = SECRET;
    try {
      const results = await rounds(s, log);
      for (const line of rangesOf(s, results)) log(line);
      return rowsOf(s, results);
    } finally {
      if (secretBefore === undefined) delete process.env.TROUPE_SECRET;
      else process.env.TROUPE_SECRET = secretBefore;
    }
  },
};

/** Every round: per client count, `--rounds` times, each server in turn. */
async function rounds(s: Settings, log: (m: string) => void): Promise<Map<string, Round[]>> {
  const results = new Map<string, Round[]>();
  for (const n of s.clients) {
    for (let r = 0; r < s.rounds; r++) {
      for (const kind of s.servers) {
        const res = await round(kind, n, s, log);
        log(
          `${kind} c${n} round ${r + 1}: p50 ${res.p50.toFixed(2)} ms, p99 ${
            res.p99.toFixed(2)
          } ms, ` +
            `RSS ${res.rssMb.toFixed(0)} MB, converged ${(res.converged * 100).toFixed(1)}%; ` +
            `per update, first client ${res.firstP50.toFixed(2)} ms, last ${
              res.lastP50.toFixed(2)
            } ms (medians)`,
        );
        const key = `${kind}/${n}`;
        results.set(key, [...(results.get(key) ?? []), res]);
      }
    }
  }
  return results;
}

/** One client process per core beyond the server's, at least one. */
function defaultProcs(): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1));
}

/** Per server and client count: the median and range over rounds of p50, p99 and RSS. */
function rangesOf(s: Settings, results: Map<string, Round[]>): string[] {
  const lines = [`medians and ranges over ${s.rounds} round(s), --procs ${s.procs}:`];
  const span = (xs: number[], digits: number) =>
    `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${
      Math.max(...xs).toFixed(digits)
    })`;
  for (const n of s.clients) {
    for (const kind of s.servers) {
      const rs = results.get(`${kind}/${n}`) ?? [];
      if (!rs.length) continue;
      lines.push(
        `  ${kind} c${n}: p50 ${span(rs.map((r) => r.p50), 1)} ms, p99 ${
          span(rs.map((r) => r.p99), 0)
        } ms, RSS ${span(rs.map((r) => r.rssMb), 0)} MB`,
      );
    }
  }
  return lines;
}

function rowsOf(s: Settings, results: Map<string, Round[]>): BenchRow[] {
  const fig = (kind: Kind, n: number, f: (r: Round) => number) =>
    median((results.get(`${kind}/${n}`) ?? []).map(f));
  const rows: BenchRow[] = [];
  const top = Math.max(...s.clients);
  for (const ref of ["ywss", "hocuspocus"] as const) {
    const add = (metric: string, unit: string, n: number, f: (r: Round) => number) =>
      rows.push(row({
        bench: NAME,
        metric,
        unit,
        troupe: fig("troupe", n, f),
        baseline: fig(ref, n, f),
        better: "lower",
        reference: REFERENCE[ref],
      }));
    for (const n of s.clients) {
      add(`fanout_ms_p50_c${n}`, "ms", n, (r) => r.p50);
      add(`fanout_ms_p99_c${n}`, "ms", n, (r) => r.p99);
    }
    add(`server_rss_mb_c${top}`, "MB", top, (r) => r.rssMb);
  }
  let converged = 0, total = 0;
  for (const [key, rounds] of results) {
    if (!key.startsWith("troupe/")) continue;
    for (const r of rounds) {
      converged += r.converged;
      total++;
    }
  }
  rows.push(row({
    bench: NAME,
    metric: "converged_ratio",
    unit: "fraction",
    troupe: total ? converged / total : NaN,
    baseline: null,
    better: "higher",
  }));
  return rows;
}
