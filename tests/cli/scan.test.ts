/**
 * `troupe scan` as users run it (a child process) against a real scan API over HTTP and
 * WebSocket: results as NDJSON and as a table, equal to the criteria computed symbol by symbol;
 * the host's 400 shown with the column; usage errors exit 2; no host exits 1; Ctrl-C stops the
 * scan on the server.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, InProcessBus } from "../../actors/runtime/mod.ts";
import { scanHttp, ScanService, ScanWorker } from "../../actors/scan/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { CRITERIA, expected, RANK, source, universe, until } from "../actors/scan/_scan_setup.ts";

const test = suite("troupe scan");

/**
 * A scan API over `n` random-walk symbols; with a worker unless `idle` (scans then never end). With
 * `hold`, a POST /scan/stream waits for it before it is answered (and its scan started).
 */
async function serve(n: number, idle = false, hold?: { arrived(): void; until: Promise<void> }) {
  const u = universe(n, 3);
  const bus = new InProcessBus();
  let id = 0;
  const service = new ScanService({
    bus,
    bars: source(u),
    chunk_symbols: 25,
    newId: () => `scan${++id}`,
  });
  await service.start();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  if (!idle) worker.start();
  const api = scanHttp(service);
  const server: Server = createServer(async (req, res) => {
    if (hold && req.method === "POST" && req.url === "/scan/stream") {
      hold.arrived();
      await hold.until;
    }
    if (!(await api.handle(req, res))) {
      res.writeHead(404);
      res.end();
    }
  });
  server.on("upgrade", (req, socket, head) => {
    if (!api.upgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    u,
    service,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    async close() {
      api.close();
      worker.stop();
      service.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await bus.close();
    },
  };
}

test("troupe scan --help, and usage errors exit 2 naming the option", async () => {
  const help = await runTroupe(["scan", "--help"]);
  assert.is(help.code, 0);
  for (const o of ["--rank EXPR", "--bar SIZE", "--universe PREFIX|FILE", "--max N", "--json"]) {
    assert.match(help.stdout, o);
  }
  const none = await runTroupe(["scan"]);
  assert.is(none.code, 2);
  assert.match(none.stderr, "needs a criteria");
  const max = await runTroupe(["scan", "close > 1", "--max", "0"]);
  assert.is(max.code, 2);
  assert.match(max.stderr, 'Option --max must be >= 1, got "0"');
  const order = await runTroupe(["scan", "close > 1", "--order", "up"]);
  assert.is(order.code, 2);
  assert.match(order.stderr, '--order must be desc or asc, got "up"');
  const url = await runTroupe(["scan", "close > 1", "--url", "nats://x:1"]);
  assert.is(url.code, 2);
});

test("troupe scan --json prints every result once, numbered, as NDJSON; the summary goes to stderr; the scan is released", async () => {
  const s = await serve(120);
  try {
    const r = await runTroupe([
      "scan",
      CRITERIA,
      "--rank",
      RANK,
      "--json",
      "--url",
      s.url,
    ]);
    assert.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    // The README's line: {"seq":1,"symbol":"SYM008","rank":26.6,"chunk":0}, nothing more.
    for (const l of lines) assert.equal(Object.keys(l), ["seq", "symbol", "rank", "chunk"]);
    const want = expected(s.u);
    assert.ok(want.size > 5);
    assert.equal(lines.map((l) => l.seq), Array.from({ length: want.size }, (_, i) => i + 1));
    assert.equal(new Map(lines.map((l) => [l.symbol, l.rank])), want);
    assert.match(r.stderr, `done: 120 of 120 symbols`);
    assert.match(r.stderr, `${want.size} signals`);
    assert.is(s.service.stats("scan1"), undefined, "deleted once ended");
  } finally {
    await s.close();
  }
});

test("troupe scan prints a table; --universe takes a file or a prefix; --max stops early; --keep keeps the scan", async () => {
  const s = await serve(120);
  const dir = tempDir();
  try {
    const want = expected(s.u);
    const table = await runTroupe(["scan", CRITERIA, "--rank", RANK, "--url", s.url]);
    assert.is(table.code, 0, table.stderr);
    const rows = table.stdout.trim().split("\n");
    assert.match(rows[0]!, /#\s+symbol\s+rank/);
    assert.equal(new Set(rows.slice(1).map((l) => l.trim().split(/\s+/)[1])), new Set(want.keys()));

    const file = join(dir.path, "symbols.txt");
    writeFileSync(file, "S0001\nS0002, S0003\nNOPE\n");
    const f = await runTroupe(["scan", "close > 0", "--universe", file, "--keep", "--url", s.url]);
    assert.is(f.code, 0, f.stderr);
    assert.match(f.stderr, "done: 4 of 4 symbols");
    assert.match(f.stderr, "1 unknown");
    assert.is(s.service.stats("scan2")?.symbols_total, 4);

    const p = await runTroupe([
      "scan",
      "close > 0",
      "--universe",
      "S001",
      "--json",
      "--url",
      s.url,
    ]);
    assert.equal(
      p.stdout.trim().split("\n").map((l) => JSON.parse(l).symbol).sort(),
      Array.from({ length: 10 }, (_, i) => `S001${i}`),
    );
    const m = await runTroupe(["scan", "close > 0", "--max", "7", "--json", "--url", s.url]);
    assert.is(m.stdout.trim().split("\n").length, 7);
    assert.match(m.stderr, "stopped (max_signals)");
  } finally {
    dir.remove();
    await s.close();
  }
});

test("a criteria the host refuses: its message with a caret under the column, exit 2; no host: exit 1", async () => {
  const s = await serve(10);
  try {
    const r = await runTroupe(["scan", "rsi(14 < 30", "--url", s.url]);
    assert.is(r.code, 2);
    assert.match(
      r.stderr,
      `the host refused the scan (400): Field "criteria": col 7: expected ')'`,
    );
    assert.match(r.stderr, "  rsi(14 < 30\n        ^");
    const rank = await runTroupe(["scan", "close > 1", "--rank", "sma(", "--url", s.url]);
    assert.is(rank.code, 2);
    assert.match(rank.stderr, 'Field "rank"');
    assert.equal(s.service.active(), []);
  } finally {
    await s.close();
  }
  const port = await freePort();
  const gone = await runTroupe(["scan", "close > 1", "--url", `http://127.0.0.1:${port}`]);
  assert.is(gone.code, 1);
  assert.match(gone.stderr, `no host answers at http://127.0.0.1:${port}`);
});

test("Ctrl-C stops the scan on the server", async () => {
  const s = await serve(100, true);
  try {
    const run = startTroupe(["scan", "close > 0", "--keep", "--url", s.url]);
    await until(() => s.service.subscriberCount("scan1") === 1, 20_000, "the scan's subscriber");
    assert.is(s.service.stats("scan1")?.state, "running");
    run.signal("SIGINT");
    assert.is(await run.exited, 0, run.output());
    assert.match(run.output(), "stopping scan scan1 on the server");
    assert.match(run.output(), "stopped (requested)");
    const stats = s.service.stats("scan1")!;
    assert.is(stats.state, "stopped");
    assert.is(stats.stop_reason, "requested");
    assert.is(s.service.subscriberCount("scan1"), 0);
  } finally {
    await s.close();
  }
});

test("Ctrl-C while the POST is being answered stops the scan it starts", async () => {
  let arrived = false, release = () => {};
  const until$ = new Promise<void>((r) => (release = r));
  const s = await serve(100, true, { arrived: () => (arrived = true), until: until$ });
  try {
    const run = startTroupe(["scan", "close > 0", "--keep", "--url", s.url]);
    await until(() => arrived, 20_000, "the POST");
    // The child waits for the answer: no scan yet, and the signal comes before there is one.
    assert.is(s.service.stats("scan1"), undefined);
    run.signal("SIGINT");
    await new Promise((r) => setTimeout(r, 200));
    release();
    assert.is(await run.exited, 0, run.output());
    assert.match(run.output(), "stopping scan scan1 on the server");
    const stats = s.service.stats("scan1")!;
    assert.is(stats.state, "stopped");
    assert.is(stats.stop_reason, "requested");
  } finally {
    release();
    await s.close();
  }
});

test.run();
