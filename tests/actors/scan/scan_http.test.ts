import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { WebSocket } from "ws";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { scanHttp, ScanService, ScanWorker } from "../../../actors/scan/mod.ts";
import type { ScanResult } from "../../../protocol/mod.ts";
import { CRITERIA, expected, RANK, source, universe, until } from "./_scan_setup.ts";

const test = suite("scan HTTP API");

async function serve(n: number, limits?: { universe_max: number }, bodyReadMs?: number) {
  const u = universe(n, 4);
  const bus = new InProcessBus();
  let id = 0;
  const service = new ScanService({
    bus,
    bars: source(u),
    chunk_symbols: 20,
    inflight_max: 2,
    newId: () => `scan${++id}`,
    ...(limits ? { limits } : {}),
  });
  await service.start();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  const api = scanHttp(service, bodyReadMs === undefined ? {} : { bodyReadMs });
  const server: Server = createServer(async (req, res) => {
    if (!(await api.handle(req, res))) {
      res.writeHead(404);
      res.end("not a scan route");
    }
  });
  server.on("upgrade", (req, socket, head) => {
    if (!api.upgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    u,
    service,
    worker,
    base,
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

// deno-lint-ignore no-explicit-any
type Json = any;

async function post(url: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function getJson(url: string, method = "GET"): Promise<Json> {
  return await (await fetch(url, { method })).json();
}

/** Reads an SSE stream until its `end` event (or until `stopAfter` results, then disconnects). */
async function readSse(url: string, headers: Record<string, string> = {}, stopAfter = Infinity) {
  const ctl = new AbortController();
  const res = await fetch(url, { headers, signal: ctl.signal });
  assert.is(res.status, 200);
  assert.is(res.headers.get("content-type"), "text/event-stream");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const results: { id: string; data: ScanResult }[] = [];
  let end: Record<string, unknown> | undefined, text = "";
  while (end === undefined && results.length < stopAfter) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, cut);
      text = text.slice(cut + 2);
      const field = (name: string) =>
        block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      if (field("event") === "result") {
        results.push({ id: field("id")!, data: JSON.parse(field("data")!) });
      }
      if (field("event") === "end") end = JSON.parse(field("data")!);
    }
  }
  if (end === undefined) ctl.abort();
  return { results, end };
}

test("bad requests: 400 with the column, 413 over the universe limit, 404 for an unknown scan, nothing started", async () => {
  const s = await serve(50, { universe_max: 10 });
  const bad = await post(`${s.base}/scan/stream`, { criteria: "rsi(14 < 30" });
  assert.is(bad.status, 400);
  assert.equal(bad.body, {
    error: `Field "criteria": col 7: expected ')', got '<'`,
    field: "criteria",
  });
  assert.is((await post(`${s.base}/scan/stream`, { criteria: "rsx(2) > 1" })).status, 400);
  const big = await post(`${s.base}/scan/stream`, {
    criteria: "close > 1",
    universe: [...s.u.keys()].slice(0, 11),
  });
  assert.is(big.status, 413);
  const notJson = await fetch(`${s.base}/scan/stream`, { method: "POST", body: "{criteria" });
  assert.is(notJson.status, 400);
  assert.match(((await notJson.json()) as Json).error, /^The request body is not JSON/);
  assert.equal(s.service.active(), []);
  const missing: [string, string][] = [
    ["GET", "/scan/stats/nope"],
    ["POST", "/scan/stop/nope"],
    ["DELETE", "/scan/nope"],
    ["GET", "/events/results/nope"],
  ];
  for (const [method, path] of missing) {
    const res = await fetch(`${s.base}${path}`, { method });
    assert.is(res.status, 404, `${method} ${path}`);
    assert.equal(await res.json(), { error: `No scan "nope"` });
  }
  // A WebSocket to an unknown scan: the upgrade is refused with 404 and the reason.
  const refused = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const ws = new WebSocket(`${s.base.replace("http", "ws")}/ws/results/nope`);
    ws.on("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (b: Uint8Array) => (text += new TextDecoder().decode(b)));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    ws.on("open", () => reject(new Error("a WebSocket to an unknown scan opened")));
    ws.on("error", () => {}); // after unexpected-response
  });
  assert.equal(refused, { status: 404, text: `No scan "nope"\n` });
  assert.is((await fetch(`${s.base}/scan/stream`)).status, 405);
  assert.is((await fetch(`${s.base}/elsewhere`)).status, 404);
  await s.close();
});

test("criteria too long, too deep or with too many terms are a 400 naming the limit, never a 500 or a stack overflow", async () => {
  const s = await serve(10);
  try {
    const cases: Array<[string, string, RegExp]> = [
      [
        "3,000 nested parentheses",
        `${"(".repeat(3000)}close > 0${")".repeat(3000)}`,
        /characters long; the limit is 4096/,
      ],
      ["5,000 nots", `${"not ".repeat(5000)}close > 0`, /characters long; the limit is 4096/],
      [
        "an 8,000-term and chain",
        Array(8000).fill("close > 0").join(" and "),
        /characters long; the limit is 4096/,
      ],
      [
        "200 nested parentheses",
        `${"(".repeat(200)}close > 0${")".repeat(200)}`,
        /nests deeper than 64 levels/,
      ],
      ["200 nots", `${"not ".repeat(200)}close > 0`, /nests deeper than 64 levels/],
      [
        "a 400-term or chain",
        Array(400).fill("a>1").join(" or "),
        /terms and operators; the limit is 1024/,
      ],
    ];
    for (const [what, criteria, message] of cases) {
      const r = await post(`${s.base}/scan/stream`, { criteria });
      assert.is(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
      assert.is(r.body.field, "criteria", what);
      assert.match(r.body.error, message, what);
    }
    // Within the limits, deep and long still parse.
    const fine = await post(`${s.base}/scan/stream`, {
      criteria: `${"(".repeat(60)}close > 0${")".repeat(60)} and ${
        Array(100).fill("close > 0").join(" and ")
      }`,
    });
    assert.is(fine.status, 200, JSON.stringify(fine.body));
    assert.equal(s.service.active().length, 1);
  } finally {
    await s.close();
  }
});

test("a field nested 5,000 deep (universe, criteria, rank, priority, or the body itself) is a 400 naming the field, never a 500", async () => {
  const s = await serve(10);
  try {
    // Sent as text: JSON.stringify of such a value would itself overflow the stack.
    const deep = `${"[".repeat(5000)}1${"]".repeat(5000)}`;
    for (const field of ["universe", "criteria", "rank", "priority"]) {
      const res = await fetch(`${s.base}/scan/stream`, {
        method: "POST",
        body: `{"criteria": "close > 0", "${field}": ${deep}}`,
      });
      const body = (await res.json()) as Json;
      assert.is(res.status, 400, `${field}: ${JSON.stringify(body)}`);
      assert.is(body.field, field);
      assert.match(body.error, `Field "${field}" nests lists or objects more than 8 levels deep`);
    }
    const whole = await fetch(`${s.base}/scan/stream`, { method: "POST", body: deep });
    assert.is(whole.status, 400);
    assert.match(((await whole.json()) as Json).error, "must be a JSON object, got a list of 1");
    assert.equal(s.service.active(), [], "nothing started");
  } finally {
    await s.close();
  }
});

test("timeout_ms and max_signals past their limits (1e300, a day and a ms) are a 400 naming the field and the limit", async () => {
  const s = await serve(10);
  try {
    for (
      const [field, value, limit] of [
        ["timeout_ms", 1e300, 86_400_000],
        ["timeout_ms", 86_400_001, 86_400_000],
        ["max_signals", 1e300, 1_000_000],
      ] as const
    ) {
      const r = await post(`${s.base}/scan/stream`, { criteria: "close > 0", [field]: value });
      assert.is(r.status, 400, JSON.stringify(r.body));
      assert.is(r.body.field, field);
      assert.match(r.body.error, `from 1 to ${limit}, got ${value}`);
    }
    assert.equal(s.service.active(), [], "nothing started");
    const ok = await post(`${s.base}/scan/stream`, {
      criteria: "close > 0",
      timeout_ms: 86_400_000,
    });
    assert.is(ok.status, 200, JSON.stringify(ok.body));
  } finally {
    await s.close();
  }
});

test("a body shorter than its content-length promised is answered 408 and its connection closed, not held", async () => {
  const s = await serve(10, undefined, 300);
  try {
    const port = Number(new URL(s.base).port);
    const sock = connect(port, "127.0.0.1");
    let got = "";
    sock.on("data", (d) => (got += d));
    const closed = new Promise<void>((r) => sock.on("close", () => r()));
    const t0 = performance.now();
    sock.write(
      "POST /scan/stream HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
        'content-length: 1000\r\n\r\n{"criteria": "close',
    );
    const held = setTimeout(() => sock.destroy(), 5000); // a server that holds it fails below
    await closed;
    clearTimeout(held);
    const ms = performance.now() - t0;
    assert.match(got, /^HTTP\/1\.1 408 /);
    assert.match(got, "did not arrive within 300 ms: 19 bytes of the 1000 its content-length");
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms`);
    // The server goes on answering.
    assert.is((await post(`${s.base}/scan/stream`, { criteria: "rsi(14 < 30" })).status, 400);
  } finally {
    await s.close();
  }
});

test("an oversize request body gets a 413 the client reads, not a reset", async () => {
  const s = await serve(10);
  try {
    const body = JSON.stringify({ criteria: "close > 0", pad: "x".repeat(5 * 1024 * 1024) });
    const res = await fetch(`${s.base}/scan/stream`, { method: "POST", body });
    assert.is(res.status, 413);
    assert.match(((await res.json()) as Json).error, "The request body is over 4194304 bytes");
    // The server goes on answering.
    assert.is((await post(`${s.base}/scan/stream`, { criteria: "rsi(14 < 30" })).status, 400);
  } finally {
    await s.close();
  }
});

test("SSE streams every result with its sequence number as id; Last-Event-ID resumes after it", async () => {
  const s = await serve(300);
  s.worker.start();
  const start = await post(`${s.base}/scan/stream`, { criteria: CRITERIA, rank: RANK });
  assert.is(start.status, 200);
  const { scanId, sseUrl, websocketUrl } = start.body;
  assert.is(sseUrl, `${s.base}/events/results/${scanId}`);
  assert.is(websocketUrl, `${s.base.replace("http", "ws")}/ws/results/${scanId}`);
  const all = await readSse(sseUrl);
  const want = expected(s.u);
  assert.equal(
    all.results.map((r) => r.id),
    Array.from({ length: want.size }, (_, i) => String(i + 1)),
  );
  assert.equal(new Map(all.results.map((r) => [r.data.symbol, r.data.rank])), want);
  assert.is(all.end?.state, "done");
  const resumed = await readSse(sseUrl, { "last-event-id": "4" });
  assert.equal(resumed.results, all.results.slice(4));
  const stats = await getJson(`${s.base}/scan/stats/${scanId}`);
  assert.is(stats.signals, want.size);
  assert.is((await fetch(`${s.base}/scan/${scanId}`, { method: "DELETE" })).status, 200);
  assert.is((await fetch(`${s.base}/scan/stats/${scanId}`)).status, 404);
  await s.close();
});

test("WebSocket subscribers, a third reconnecting mid-scan from its last sequence number, lose and repeat nothing", async () => {
  const s = await serve(400);
  const { scanId, websocketUrl } =
    (await post(`${s.base}/scan/stream`, { criteria: CRITERIA, rank: RANK })).body;
  const want = expected(s.u);
  type Got = { results: ScanResult[]; end: boolean };
  const client = (after: number, dropAfter = Infinity) =>
    new Promise<Got>((resolve) => {
      const results: ScanResult[] = [];
      const ws = new WebSocket(`${websocketUrl}?after=${after}`);
      ws.on("message", (data) => {
        const m = JSON.parse(String(data));
        if (m.type === "result") {
          results.push({ seq: m.seq, symbol: m.symbol, rank: m.rank, chunk: m.chunk });
          if (results.length >= dropAfter) {
            ws.terminate();
            resolve({ results, end: false });
          }
        } else if (m.type === "end") resolve({ results, end: true });
      });
    });
  const subs = [client(0), client(0), client(0, 3)];
  await until(() => s.service.subscriberCount(scanId) === 3, 2000, "three subscribers");
  s.worker.start();
  const [a, b, dropped] = (await Promise.all(subs)) as [Got, Got, Got];
  // The third reconnects from the last number it saw.
  const rest = await client(dropped.results.at(-1)!.seq);
  for (const got of [a.results, b.results, [...dropped.results, ...rest.results]]) {
    assert.equal(got.map((r) => r.seq), Array.from({ length: want.size }, (_, i) => i + 1));
    assert.equal(new Map(got.map((r) => [r.symbol, r.rank])), want);
  }
  assert.ok(a.end && b.end && rest.end);
  await s.close();
});

test("a client that disconnects mid-scan releases its subscription; stop and active answer", async () => {
  const s = await serve(200);
  const { scanId, sseUrl, websocketUrl } =
    (await post(`${s.base}/scan/stream`, { criteria: CRITERIA })).body;
  const active = await getJson(`${s.base}/scans/active`);
  assert.equal(active.map((x: { scanId: string }) => x.scanId), [scanId]);
  const ws = new WebSocket(websocketUrl);
  const opened = new Promise((r) => ws.once("open", r));
  const ctl = new AbortController();
  const res = await fetch(sseUrl, { signal: ctl.signal });
  assert.is(res.status, 200);
  await until(() => s.service.subscriberCount(scanId) === 2, 2000, "two subscribers");
  await opened;
  ws.terminate();
  ctl.abort();
  await until(() => s.service.subscriberCount(scanId) === 0, 2000, "the subscriptions released");
  const stop = await fetch(`${s.base}/scan/stop/${scanId}`, { method: "POST" });
  assert.is(stop.status, 200);
  assert.is(((await stop.json()) as Json).state, "stopped");
  assert.equal(await (await fetch(`${s.base}/scans/active`)).json(), []);
  await s.close();
});

/** The raw answer to a WebSocket upgrade of `path`, read until the server closes. */
function rawUpgrade(base: string, path: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\n` +
          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    let text = "";
    socket.on("data", (d) => text += d.toString());
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

test("a refused WebSocket upgrade is a whole HTTP answer: status, length, reason, connection closed", async () => {
  const s = await serve(10);
  try {
    const text = await rawUpgrade(s.base, "/ws/results/nosuch");
    assert.match(text, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/);
    const body = 'No scan "nosuch"\n';
    assert.match(text, `\r\nContent-Length: ${body.length}\r\n`);
    assert.ok(text.endsWith(`\r\n\r\n${body}`), text);
  } finally {
    await s.close();
  }
});

test.run();
