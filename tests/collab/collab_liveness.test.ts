import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { WebSocket } from "ws";
import {
  connectClient,
  getText,
  metric,
  stallProcess,
  tokenFor,
  waitFor,
  withCollabServer,
} from "./_support.ts";
import { rawWebSocket } from "./_raw_ws.ts";

const test = suite("collab liveness");

/**
 * A stock client (it answers pings) and a raw one that never does, pinged every 400 ms; with
 * `stallMs`, this process (the server and both clients) stalls that long as soon as the stock
 * client has answered its first ping, past the next ping, with the answer not yet read.
 */
async function pingedPair(stallMs: number): Promise<void> {
  await withCollabServer({ ping_ms: 400 }, async (c, dir, http) => {
    const token = await tokenFor(dir, "ops", "editor");
    const stock = await connectClient(c.server.url, "ops", token);
    const socket = stock.provider.ws as unknown as WebSocket;
    let stockPings = 0;
    let stockClosed = false;
    // ws answers a ping before its listeners run: the stall holds the answer unread.
    if (stallMs > 0) socket.once("ping", () => stallProcess(stallMs));
    socket.on("ping", () => stockPings++);
    socket.on("close", () => (stockClosed = true));
    const mute = await rawWebSocket(c.server.port, `/collab/ops?token=${token}`);
    let mutePings = 0;
    let muteClosed = false;
    mute.resume((f) => {
      if (f.op === "ping") mutePings++;
    });
    mute.socket.on("close", () => (muteClosed = true));
    try {
      await waitFor(() => muteClosed, 10_000, "the silent connection to be closed");
      assert.ok(mutePings >= 1, `pinged ${mutePings} times before`);
      // Each ping the server sends follows its verdict on the answer to the one before.
      const seen = stockPings;
      await waitFor(
        () => stockPings >= seen + 2 || stockClosed,
        10_000,
        "two more pings of the stock client",
      );
      assert.not.ok(stockClosed, "the stock client (it answers) was closed");
      assert.ok(stock.provider.wsconnected, "the stock client is still connected");
      assert.is(c.server.health().connections, 1);
      const m = await getText(`${http}/metrics`);
      assert.is(metric(m, "troupe_collab_sockets_closed_total", 'reason="liveness"'), 1, m);
    } finally {
      stock.destroy();
      mute.socket.destroy();
    }
  });
}

test("a connection that stops answering pings is closed; one that answers stays", async () => {
  await pingedPair(0);
});

test("a stall of the server past a ping's period closes no connection that answered", async () => {
  await pingedPair(1000);
});

test.run();
