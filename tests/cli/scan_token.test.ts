/**
 * `troupe scan` against a host's HTTP port that asks credentials (the host's own server with its
 * scan API, over real HTTP and WebSocket): with TROUPE_HTTP_TOKEN's bearer token, or a user and
 * password in --url, every call (the POST, the results' WebSocket, the release) carries them and
 * the scan's results all arrive; without them the command says the host refused the credentials
 * and how to give them, and exits 1.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Server } from "node:http";
import { InProcessBus } from "../../actors/runtime/mod.ts";
import { closeServer, serveHostHttp } from "../../actors/runtime/operations/mod.ts";
import { scanHttp, ScanService, ScanWorker } from "../../actors/scan/mod.ts";
import type { HttpCredentials } from "../../protocol/mod.ts";
import { runTroupe } from "../_support/cli.ts";
import { CRITERIA, expected, RANK, source, universe } from "../actors/scan/_scan_setup.ts";

const test = suite("troupe scan with credentials");

/** A host's HTTP port asking `auth`, with the scan API over `n` symbols mounted on it. */
async function serve(n: number, auth: HttpCredentials) {
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
  worker.start();
  const api = scanHttp(service);
  const server: Server = await serveHostHttp(0, {
    hostId: "scans",
    health: () => ({ ok: true }),
    metrics: { text: () => Promise.resolve(""), contentType: "text/plain" },
    refreshGauges: () => {},
  }, { extra: api, auth });
  return {
    u,
    service,
    port: (server.address() as { port: number }).port,
    async close() {
      api.close();
      worker.stop();
      service.close();
      await closeServer(server);
      await bus.close();
    },
  };
}

test("TROUPE_HTTP_TOKEN's token is sent on every call: the results all arrive and the scan is released; without it, 401 said with the way to give it, exit 1", async () => {
  const token = "scan-token-81";
  const s = await serve(120, { bearerToken: token });
  try {
    const url = `http://127.0.0.1:${s.port}`;
    const args = ["scan", CRITERIA, "--rank", RANK, "--json", "--url", url];
    const r = await runTroupe(args, { env: { TROUPE_HTTP_TOKEN: token } });
    assert.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { symbol: string });
    const want = expected(s.u);
    assert.ok(want.size > 5, `${want.size} signals expected`);
    assert.equal(new Set(lines.map((l) => l.symbol)), new Set(want.keys()));
    assert.is(s.service.stats("scan1"), undefined, "released with the token");
    assert.not.match(r.stdout + r.stderr, token);

    const none = await runTroupe(args, { env: { TROUPE_HTTP_TOKEN: "" } });
    assert.is(none.code, 1, none.stderr);
    assert.match(none.stderr, "refused the credentials (401)");
    assert.match(none.stderr, "set TROUPE_HTTP_TOKEN");
    const wrong = await runTroupe(args, { env: { TROUPE_HTTP_TOKEN: "scan-token-82" } });
    assert.is(wrong.code, 1);
    assert.match(wrong.stderr, "bearer token is wrong");
    assert.not.match(wrong.stderr, token);
  } finally {
    await s.close();
  }
});

test("a user and password in --url are sent as basic auth, and not shown", async () => {
  const s = await serve(120, { basicAuth: { username: "ops", password: "pa ss" } });
  try {
    const url = `http://ops:pa%20ss@127.0.0.1:${s.port}`;
    const r = await runTroupe(["scan", CRITERIA, "--json", "--url", url]);
    assert.is(r.code, 0, r.stderr);
    const want = expected(s.u);
    assert.ok(want.size > 5, `${want.size} signals expected`);
    assert.is(r.stdout.trim().split("\n").length, want.size);
    assert.not.match(r.stderr, "pa ss");
    const bad = await runTroupe(["scan", CRITERIA, "--url", `http://ops:nope@127.0.0.1:${s.port}`]);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, "basic auth credentials are wrong");
    assert.not.match(bad.stderr, "nope");
  } finally {
    await s.close();
  }
});

test.run();
