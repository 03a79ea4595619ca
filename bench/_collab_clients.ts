/**
 * The client side of `troupe bench collab`, one of several processes so that no single client
 * process is the bottleneck: N clients of one session, stock `y-websocket` providers (troupe,
 * `ywss`) or `@hocuspocus/provider` (`hocuspocus`). Arguments: kind, port, token, count, `writer`
 * when this process's first client writes (`reader` otherwise), and the file its latencies go to.
 *
 * Lines it prints (JSON): `{ "ready": N }` once every client synced; the writer's process
 * `{ "written": total }` after its last update; every process `{ "latencies": N, "converged": k,
 * "count": N, "first": [...], "last": [...] }` after `finish` (per measured update, the earliest
 * and the latest arrival among this process's clients, in milliseconds), the latencies
 * (milliseconds) written to the file as 8-byte floats: a 15 s round at c500 makes 150,000 of them,
 * and printed as one JSON line of 3 MB they did not reach the bench within its 120 s wait. Lines it
 * reads: `go RATE TOTAL` (the writer starts), `finish TOTAL WARMUP` (wait until every client holds
 * the writer's last update, up to 10 s, and report), `stop`.
 *
 * The writer appends its send time to the array `sent` (one entry per update); a client's latency
 * for entry q runs from that time to the moment its document has it. Both times are
 * `performance.timeOrigin + performance.now()`: the system clock at each process's start plus a
 * monotonic clock since, the same clock for every process on one machine (to within the clock's
 * reading at start, well under a millisecond on Linux).
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { WebSocket } from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import type { HocuspocusProvider as Hocuspocus } from "@hocuspocus/provider";
import { devPackage } from "./_dev_package.ts";

const ROOM = "bench";
const [kind, portArg, token, countArg, role, latenciesFile] = process.argv.slice(2);
const HocuspocusProvider: typeof Hocuspocus | undefined = kind === "hocuspocus"
  ? (await devPackage(
    "@hocuspocus/provider",
    () => import("@hocuspocus/provider"),
    "bench collab's hocuspocus clients",
  )).HocuspocusProvider
  : undefined;
const port = Number(portArg);
const count = Number(countArg);

interface Client {
  doc: Y.Doc;
  synced(): boolean;
  destroy(): void;
}

function clock(): number {
  return performance.timeOrigin + performance.now();
}

function connect(): Client {
  const doc = new Y.Doc();
  if (HocuspocusProvider) {
    const p = new HocuspocusProvider(
      {
        url: `ws://127.0.0.1:${port}`,
        name: ROOM,
        document: doc,
        WebSocketPolyfill: WebSocket,
      } as unknown as ConstructorParameters<typeof Hocuspocus>[0],
    );
    return { doc, synced: () => p.isSynced, destroy: () => p.destroy() };
  }
  const url = kind === "troupe" ? `ws://127.0.0.1:${port}/collab` : `ws://127.0.0.1:${port}`;
  const p = new WebsocketProvider(url, ROOM, doc, {
    // deno-lint-ignore no-explicit-any
    WebSocketPolyfill: WebSocket as any,
    params: kind === "troupe" ? { token: token! } : {},
    disableBc: true,
  });
  return { doc, synced: () => p.synced, destroy: () => p.destroy() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(20);
  }
  return true;
}

function say(message: unknown): void {
  process.stdout.write(JSON.stringify(message) + "\n");
}

process.setMaxListeners(0); // every y-websocket provider listens for the process exit
const clients: Client[] = [];
for (let i = 0; i < count; i += 25) {
  for (let j = i; j < Math.min(count, i + 25); j++) clients.push(connect());
  await waitUntil(() => clients.every((c) => c.synced()), 30_000);
}
if (!(await waitUntil(() => clients.every((c) => c.synced()), 60_000))) {
  process.stderr.write(`${kind}: not every one of ${count} clients synced within 60 s\n`);
  process.exit(1);
}

// Every client but the writer records, per entry of `sent`, when its document got it.
const arrivals: number[][] = [];
for (const c of role === "writer" ? clients.slice(1) : clients) {
  const sent = c.doc.getArray<number>("sent");
  const got: number[] = [];
  arrivals.push(got);
  sent.observe(() => {
    const t = clock();
    // Entries that arrive together each count, with this arrival time.
    for (let q = got.length; q < sent.length; q++) got.push(t - sent.get(q));
  });
}
say({ ready: clients.length });

async function write(rate: number, total: number): Promise<void> {
  const sent = clients[0]!.doc.getArray<number>("sent");
  const t0 = performance.now();
  for (let seq = 0; seq < total; seq++) {
    const wait = t0 + (seq * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    sent.push([clock()]);
  }
  say({ written: total });
}

async function finish(total: number, warmup: number): Promise<void> {
  const has = (c: Client) => c.doc.getArray("sent").length === total;
  await waitUntil(() => clients.every(has), 10_000);
  const latencies = Float64Array.from(arrivals.flatMap((got) => got.slice(warmup)));
  writeFileSync(latenciesFile!, new Uint8Array(latencies.buffer));
  // Per update, this process's first and last arrival: the first is about the server's own delay
  // (plus one client's apply), the last the whole fan-out.
  const first: number[] = [], last: number[] = [];
  for (let q = warmup; q < total; q++) {
    let lo = Infinity, hi = -Infinity;
    for (const got of arrivals) {
      const x = got[q];
      if (x === undefined) continue;
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    if (lo > hi) continue;
    first.push(lo);
    last.push(hi);
  }
  say({
    latencies: latencies.length,
    converged: clients.filter(has).length,
    count: clients.length,
    first,
    last,
  });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, a, b] = line.trim().split(" ");
  if (cmd === "go") void write(Number(a), Number(b));
  else if (cmd === "finish") void finish(Number(a), Number(b));
  else if (cmd === "stop") {
    for (const c of clients) c.destroy();
    process.exit(0);
  }
});
