/**
 * A host through a nats-server outage, against a real nats-server: /healthz turns 503 with the
 * reason while the host is disconnected and 200 again after; a restart under load (a backlog in
 * the feed stream) stalls the JetStream input for a bounded time, not until the client's missed
 * heartbeats; every stored frame is applied once; /metrics shows the connection's state.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  ensureFeedStream,
  FEED_STREAM,
  type LaunchedHost,
  launchHost,
  NatsServer,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject, type SampleFrame } from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("nats outage");

const BATCH = 20;
const CHANNELS = 20;

function frame(channel: string, f: number): SampleFrame {
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 1000;
    v[i] = Math.sin(f + i);
  }
  return { channel, seq0: f * BATCH, t, v };
}

async function healthz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

async function until(what: string, ms: number, done: () => Promise<boolean> | boolean) {
  const t0 = Date.now();
  while (!(await done())) {
    if (Date.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Publishes `frames` frames on every channel with core NATS, in bursts that keep the loop free. */
async function publishBurst(nc: NatsConnection, from: number, frames: number): Promise<void> {
  for (let f = from; f < from + frames; f++) {
    for (let c = 0; c < CHANNELS; c++) {
      const ch = `o${c}`;
      nc.publish(
        feedSubject("outage", ch),
        encodeFrame(frame(ch, f), { id: `${ch}-${f}`, src: "t" }),
      );
    }
    if (f % 50 === 0) await nc.flush();
  }
  await nc.flush();
}

function applied(launched: LaunchedHost): number {
  return launched.host.applied.get("stats") ?? 0;
}

if (haveNatsServer("nats outage")) {
  test("a nats-server restart under load: /healthz 503 with the reason while down, the input resumes at once, nothing lost", async () => {
    const first = await startTestNats();
    let nats: NatsServer = first;
    const dir = tempDir();
    let launched: LaunchedHost | undefined;
    let pub: NatsConnection | undefined;
    let watch: ReturnType<typeof setInterval> | undefined;
    try {
      const config = defaultHostConfig();
      config.host_id = "outage";
      config.nats = nats.url;
      config.data_dir = join(dir.path, "host");
      config.input = "jetstream";
      config.http_port = 0;
      config.actors = { stats: { every_samples: 1_000_000 } };
      launched = await launchHost(config, ACTOR_KINDS, { log: () => {} });
      const port = launched.host.httpPort!;
      assert.is((await healthz(port)).status, 200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /troupe_nats_connected\{host="outage"\} 1/);
      assert.match(metrics, "process_resident_memory_bytes");

      pub = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      await ensureFeedStream(pub);
      const jsm = await jetstreamManager(pub);
      // A backlog: the host is behind the stream when the server goes away.
      await publishBurst(pub, 0, 400);
      await until("the host to start applying", 10_000, () => applied(launched!) > 0);
      await nats.stop();
      await until("/healthz 503 naming the disconnection", 10_000, async () => {
        const h = await healthz(port);
        return h.status === 503 &&
          JSON.stringify(h.body.reasons).includes("disconnected from NATS");
      });
      const down = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(down, /troupe_nats_connected\{host="outage"\} 0/);
      assert.match(down, /troupe_healthy\{host="outage"\} 0/);

      nats = await NatsServer.start(first.options); // same port, same store
      const restartedAt = Date.now();
      // When the host applies its first frame after the restart, watched from the restart on (the
      // reconnects and the publishes below take their time, in which it may already resume).
      const atRestart = applied(launched);
      let resumedAt: number | undefined;
      watch = setInterval(() => {
        if (resumedAt === undefined && applied(launched!) !== atRestart) resumedAt = Date.now();
      }, 10);
      let storedAtRestart = 0;
      await until("the publisher to reconnect", 10_000, async () => {
        try {
          storedAtRestart = (await jsm.streams.info(FEED_STREAM)).state.messages;
          return true;
        } catch {
          return false;
        }
      });
      const publishedAt = Date.now();
      await publishBurst(pub, 400, 200); // load goes on after the restart
      const stored = (await jsm.streams.info(FEED_STREAM)).state.messages;
      // Sample progress: the longest time the host applied nothing while it was behind.
      let last = applied(launched);
      let lastChangeMs = Date.now();
      let stallMs = 0;
      await until("every stored frame applied", 60_000, () => {
        const now = Date.now();
        const n = applied(launched!);
        if (n !== last) {
          stallMs = Math.max(stallMs, now - lastChangeMs);
          last = n;
          lastChangeMs = now;
        }
        return n >= stored;
      });
      clearInterval(watch);
      // The input resumes within the follower's own recovery (a reconnect's pull, or a consumer
      // made again after `stallMs`), not once a consumer's pull expires or two heartbeats are
      // missed (30 s: stream_follower.ts), and then does not stall. It is timed from the restart
      // when the host was behind the stream then, else from when the publisher (whose own
      // reconnect and first request take their time) began to publish again.
      assert.ok(resumedAt !== undefined, "the host applied nothing after the restart");
      const behind = storedAtRestart > atRestart;
      const resumeMs = resumedAt - (behind ? restartedAt : publishedAt);
      assert.ok(
        resumeMs <= 5000,
        `the input resumed ${resumeMs} ms after the ${behind ? "restart" : "publisher's burst"}`,
      );
      assert.ok(stallMs <= 5000, `the input stalled for ${stallMs} ms after the restart`);
      assert.is(applied(launched), stored, "every stored frame applied once");
      await until("/healthz 200 again", 10_000, async () => (await healthz(port)).status === 200);
    } finally {
      clearInterval(watch);
      await pub?.close();
      await launched?.close();
      await nats.stop();
      await first.cleanup();
      dir.remove();
    }
  });
}

test.run();
