/**
 * StreamClient on this test's runtime, with the runtime's own WebSocket where it has one (Deno's
 * WHATWG WebSocket; `ws` on Node 20), against a real gateway: `troupe collab --nats` run by Node
 * (the server runs on Node only), so the Deno run tests the client as a browser-like one.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { WebSocket as NodeWebSocket } from "ws";
import { NatsBus } from "../../actors/runtime/mod.ts";
import {
  loadKeyring,
  mintToken,
  StreamClient,
  type StreamSocketConstructor,
} from "../../collab/mod.ts";
import { ROOT } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import type { StreamMsg } from "../../protocol/mod.ts";

const test = suite("stream client");
const run = haveNatsServer("stream client");
const WS =
  ("Deno" in globalThis
    ? globalThis.WebSocket
    : NodeWebSocket) as unknown as StreamSocketConstructor;

/** `troupe collab` under Node; resolves with its port once it listens. */
function startCollab(
  natsUrl: string,
  dataDir: string,
  port = 0,
): Promise<{ child: ChildProcess; port: number }> {
  const args = [
    join(ROOT, "cli/troupe.mjs"),
    "collab",
    "--nats",
    natsUrl,
    "--data-dir",
    dataDir,
    "--port",
    String(port),
  ];
  const child = spawn("node", args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TROUPE_SECRET: "" },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /stream gateway ws:\/\/127\.0\.0\.1:(\d+)\/stream/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.stderr!.on("data", (d) => (out += d));
    child.on("exit", (code) => reject(new Error(`troupe collab exited ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("StreamClient subscribes with this runtime's WebSocket, and after a gateway restart starts over from its seq 1", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-stream-client-");
  let server = await startCollab(nats.url, dir.path);
  const ring = await loadKeyring({ dataDir: dir.path, envSecret: undefined });
  const token = await mintToken(ring, {
    session: "main",
    role: "viewer",
    ttlS: 600,
    nowMs: Date.now(),
  });
  const pub = await NatsBus.connect(nats.url, { name: "test-publisher" });
  const got: StreamMsg[] = [];
  let oks = 0;
  const client = new StreamClient({
    url: `ws://127.0.0.1:${server.port}/stream`,
    token,
    WebSocket: WS,
    onMessage: (m) => got.push(m),
    onSubscribed: () => oks++,
    backoff_ms_min: 100,
    backoff_ms_max: 500,
  });
  try {
    client.subscribe({ subjects: ["troupe.out.stats.*"] });
    await waitFor(() => oks === 1, 20_000, "the subscription");
    for (let i = 0; i < 5; i++) pub.publish(`troupe.out.stats.c${i}`, new Uint8Array([i]));
    pub.publish("troupe.out.anomaly.c1", new Uint8Array([9])); // not subscribed
    await pub.flush();
    await waitFor(() => got.length === 5, 10_000, "5 messages");
    assert.equal(
      got.map((m) => [m.seq, m.subject, m.data[0]]),
      [0, 1, 2, 3, 4].map((i) => [
        i + 1,
        `troupe.out.stats.c${i}`,
        i,
      ]),
    );
    assert.ok(got[0]!.data instanceof Uint8Array);
    assert.is(client.lastSeq, 6 - 1);
    // The gateway restarts on the same port: its seqs start at 1 again, below what the client saw.
    await stop(server.child);
    server = await startCollab(nats.url, dir.path, server.port);
    await waitFor(() => oks === 2, 20_000, "the resubscription");
    pub.publish("troupe.out.stats.after", new Uint8Array([7]));
    await pub.flush();
    await waitFor(() => got.length === 6, 10_000, "the new gateway's message");
    assert.equal([got[5]!.seq, got[5]!.subject], [1, "troupe.out.stats.after"]);
    assert.is(client.lastSeq, 1);
  } finally {
    client.close();
    await pub.close();
    await stop(server.child);
    await nats.cleanup();
    dir.remove();
  }
});

if (run) test.run();
