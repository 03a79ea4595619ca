/**
 * followScanResults() follows a scan over a real host's WebSocket to its end: when its socket is
 * cut mid-scan it opens another from the last result it had, so that every result comes once, in
 * order, and the end brings the final statistics.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { followScanResults, scanHttp, ScanService, ScanWorker } from "../../../actors/scan/mod.ts";
import type { ScanResult } from "../../../protocol/mod.ts";
import { CRITERIA, expected, RANK, source, universe, until } from "./_scan_setup.ts";

const test = suite("follow scan results");

/** Bytes of the host's answer the first link carries before it is cut (mid-frame, most likely). */
const CUT_AFTER_BYTES = 600;

/**
 * A TCP relay to `port` whose first link is cut once it has carried CUT_AFTER_BYTES of the
 * answer, as a dropped connection cuts it; `asked` is each link's request line.
 */
async function cuttingRelay(port: number) {
  const links: Socket[] = [];
  const asked: string[] = [];
  const relay = createTcpServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    const first = links.length === 0;
    links.push(client);
    let carried = 0, cut = false;
    const drop = () => {
      cut = true;
      client.destroy();
      upstream.destroy();
    };
    for (const end of [client, upstream]) end.on("error", drop).on("close", drop);
    client.once("data", (d) => asked.push(String(d).split("\r\n")[0]!));
    client.pipe(upstream);
    upstream.on("data", (d: Buffer) => {
      if (cut) return;
      if (first && carried + d.length > CUT_AFTER_BYTES) {
        client.write(d.subarray(0, CUT_AFTER_BYTES - carried), drop);
        cut = true;
        return;
      }
      carried += d.length;
      client.write(d);
    });
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
  return {
    port: (relay.address() as { port: number }).port,
    links,
    asked,
    async close() {
      for (const link of links) link.destroy();
      await new Promise((r) => relay.close(r));
    },
  };
}

test("followScanResults() reopens a cut socket after its last result: each result once, then the end", async () => {
  const u = universe(400, 4);
  const bus = new InProcessBus();
  const service = new ScanService({ bus, bars: source(u), chunk_symbols: 20, inflight_max: 2 });
  await service.start();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  const api = scanHttp(service, {});
  const server: Server = createServer(async (req, res) => {
    if (!(await api.handle(req, res))) res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, head) => {
    if (!api.upgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const relay = await cuttingRelay(port);
  try {
    const started = await fetch(`http://127.0.0.1:${port}/scan/stream`, {
      method: "POST",
      body: JSON.stringify({ criteria: CRITERIA, rank: RANK }),
    });
    const { scanId, websocketUrl } = await started.json();
    const relayed = new URL(websocketUrl);
    relayed.port = String(relay.port);
    const got: ScanResult[] = [];
    const unreadable: string[] = [];
    const end = followScanResults(relayed.href, {
      headers: {},
      onResult: (r) => got.push(r),
      onUnreadable: (why) => unreadable.push(why),
    });
    await until(() => service.subscriberCount(scanId) === 1, 2000, "the follower subscribed");
    worker.start();
    const stats = await end;
    const want = expected(u);
    assert.ok(relay.links.length >= 2, `${relay.links.length} sockets opened`);
    const after = Number(/after=(\d+)/.exec(relay.asked[1] ?? "")?.[1]);
    assert.ok(after > 0 && after < want.size, `the second socket asked after ${after}`);
    assert.equal(got.map((r) => r.seq), Array.from({ length: want.size }, (_, i) => i + 1));
    assert.equal(new Map(got.map((r) => [r.symbol, r.rank])), want);
    assert.is(stats.state, "done");
    assert.is(stats.signals, want.size);
    assert.equal(unreadable, []);
  } finally {
    await relay.close();
    api.close();
    worker.stop();
    service.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await bus.close();
  }
});

test.run();
