/**
 * The stream client hands each seq over once, whichever subscription brings it: a gateway sends a
 * message again under a second subscription when that one backfills over what the first already
 * delivered (after a resume, say). The real gateway's timing decides whether that happens in a run
 * (stream_resume.test.ts cannot force it), so here the peer is a WebSocket server that speaks the
 * gateway's protocol and sends the overlap on purpose, over a real socket.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { WebSocket, WebSocketServer } from "ws";
import { StreamClient, type StreamSocketConstructor } from "../../collab/mod.ts";
import { waitFor } from "./_support.ts";
import {
  decodeStreamClientMessage,
  encodeStreamMsg,
  encodeStreamServerMessage,
} from "../../protocol/mod.ts";

const test = suite("stream client dedupe");

test("a seq sent again under another subscription is dropped and counted, and its news kept", async () => {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((res) => wss.once("listening", res));
  const port = (wss.address() as { port: number }).port;
  const data = new Uint8Array([0xc0]); // msgpack nil
  wss.on("connection", (ws) => {
    ws.on("message", (raw) => {
      const m = decodeStreamClientMessage(new Uint8Array(raw as Buffer));
      if (m.op !== "sub") return;
      const send = (bytes: Uint8Array) => ws.send(bytes);
      send(encodeStreamServerMessage({ t: "ok", id: m.id, seq: 7, oldest: 1 }));
      // Sub 1 is live with 5 and 6; sub 2 backfills 4..7 over them (4 and 7 are its own).
      const seqs = m.id === 1 ? [5, 6] : [4, 5, 6, 7];
      for (const seq of seqs) {
        send(encodeStreamMsg(seq, m.id, `troupe.out.stats.c${m.id}`, data));
      }
      send(encodeStreamServerMessage({ t: "live", sub: m.id, seq: 7 }));
    });
  });
  const got: [number, number][] = [];
  const live = new Set<number>();
  const client = new StreamClient({
    url: `ws://127.0.0.1:${port}/stream`,
    token: "t",
    WebSocket: WebSocket as unknown as StreamSocketConstructor,
    reconnect: false,
    onMessage: (m) => got.push([m.seq, m.sub]),
    onLive: (id) => live.add(id),
  });
  try {
    client.subscribe({ subjects: ["troupe.out.stats.*"] });
    await waitFor(() => live.has(1), 5_000, "sub 1 live");
    client.subscribe({ subjects: ["troupe.out.>"], since: 3 });
    await waitFor(() => live.has(2), 5_000, "sub 2 live");
    assert.equal(
      got,
      [[5, 1], [6, 1], [4, 2], [7, 2]],
      "each seq once, under whichever came first",
    );
    assert.is(client.duplicates, 2);
    assert.is(client.lastSeq, 7);
  } finally {
    client.close();
    for (const ws of wss.clients) ws.terminate();
    await new Promise((res) => wss.close(res));
  }
});

test.run();
