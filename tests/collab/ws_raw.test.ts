/**
 * The `ws` package's private fields troupe's fast paths read (its socket, its sender's state and
 * queue), checked on a real server-side WebSocket: if an upgrade of ws renames or reshapes them,
 * this fails here rather than the relay and the fan-out quietly falling back to `ws.send`. And the
 * sender reads busy while it compresses a large message, so a raw frame cannot overtake it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { WebSocket, WebSocketServer } from "ws";
import { rawSocket, senderIdle, wsRawAvailable } from "../../collab/socket/_ws_raw.ts";

const test = suite("ws raw fields");

/** A server with permessage-deflate, its first server-side socket, and a connected client. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; close(): Promise<void> }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: { threshold: 0 } });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: true });
  await new Promise<void>((resolve, reject) => {
    client.once("open", () => resolve());
    client.once("error", reject);
  });
  const server = await accepted;
  return {
    server,
    client,
    async close() {
      client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

test("ws still has the socket and sender fields the fast paths read, of the expected shapes", async () => {
  const p = await pair();
  try {
    assert.ok(wsRawAvailable(p.server), "ws's _socket, _sender._state or _sender._queue changed");
    const socket = rawSocket(p.server)!;
    assert.is(socket.destroyed, false);
    assert.ok(senderIdle(p.server), "an idle sender reads idle");
  } finally {
    await p.close();
  }
});

test("senderIdle() is false while ws compresses a message, and a raw frame waits for it", async () => {
  const p = await pair();
  try {
    const big = new Uint8Array(1 << 20).fill(7);
    p.server.send(big); // deflated off the main thread: the sender is busy until it is done
    assert.not.ok(senderIdle(p.server), "busy while compressing");
    await new Promise<void>((resolve) => p.client.once("message", () => resolve()));
    assert.ok(senderIdle(p.server), "idle again once sent");
  } finally {
    await p.close();
  }
});

test.run();
