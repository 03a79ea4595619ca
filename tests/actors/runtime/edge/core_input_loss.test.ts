/**
 * Silent loss on a core-NATS input made visible, against a real nats-server: frames published
 * while the host is away (a server restart, before it has reconnected and subscribed again; a
 * slow consumer cut off by the server is the same case) are never redelivered. The host finds the gap in the channels' sample sequences when frames come again: /metrics counts
 * the gaps and the samples lost, /healthz is 503 naming the channel and the range. Before the
 * stall, with the same load, neither shows anything. The sequence bookkeeping itself is tested
 * on SequenceGaps.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  type LaunchedHost,
  launchHost,
  LOSS_REPORT_S,
  NatsServer,
  SequenceGaps,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("core input loss");

test("SequenceGaps: a forward jump is a gap; a resent or restarted channel is not", () => {
  const g = new SequenceGaps(100);
  g.observe("a", 0, 10, () => 1000);
  g.observe("a", 10, 10, () => 1001);
  assert.is(g.gaps, 0);
  g.observe("a", 25, 5, () => 2000); // 20..24 missing
  assert.is(g.gaps, 1);
  assert.is(g.samples, 5);
  assert.equal(g.last, { channel: "a", from: 20, to: 24, atMs: 2000 });
  g.observe("a", 10, 10, () => 2001); // a copy of an old frame: nothing moves back
  g.observe("a", 30, 10, () => 2002);
  g.observe("a", 0, 10, () => 2003); // the producer starts again from 0: not a loss
  g.observe("a", 40, 10, () => 2004);
  g.observe("b", 500, 10, () => 2005); // a new channel starts anywhere
  assert.is(g.gaps, 1);
  assert.is(g.samples, 5);
  const reason = g.problem(3000)!;
  assert.match(reason, 'input lost 5 samples of channel "a" (sequence 20-24) 1.0 s ago');
  assert.match(reason, "1 gap, 5 samples lost since the start");
  assert.is(g.problem(2000 + LOSS_REPORT_S * 1000), undefined);
});

async function healthz(port: number): Promise<{ status: number; reasons: string[] }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = await res.json() as { reasons: string[] };
  return { status: res.status, reasons: body.reasons };
}

async function metric(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  const m = text.match(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m"));
  if (!m) throw new Error(`/metrics has no ${name}:\n${text.slice(0, 2000)}`);
  return Number(m[1]);
}

async function until(what: string, ms: number, done: () => Promise<boolean> | boolean) {
  const t0 = Date.now();
  while (!(await done())) {
    if (Date.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Frames of BATCH samples, `from` to `to` (exclusive) of every channel, sequence numbers in order. */
async function publish(nc: NatsConnection, from: number, to: number, flush = true): Promise<void> {
  for (let f = from; f < to; f++) {
    for (const ch of CHANNELS) {
      const t = new Float64Array(BATCH).map((_, i) =>
        1_700_000_000_000_000 + (f * BATCH + i) * 1000
      );
      const v = new Float64Array(BATCH).map((_, i) => Math.sin(f + i));
      nc.publish(
        feedSubject("loss", ch),
        encodeFrame({ channel: ch, seq0: f * BATCH, t, v }, { id: `${ch}-${f}`, src: "test" }),
      );
    }
    if (flush && f % 100 === 0) await nc.flush();
  }
  if (flush) await nc.flush();
}

const CHANNELS = ["l0", "l1", "l2", "l3"];
const BATCH = 100;

if (haveNatsServer("core input loss")) {
  test("frames published while the host is away from a restarted nats-server: the lost samples are counted and /healthz is 503", async () => {
    const first = await startTestNats();
    let nats: NatsServer = first;
    const dir = tempDir();
    let launched: LaunchedHost | undefined;
    let nc: NatsConnection | undefined;
    try {
      const config = defaultHostConfig();
      config.host_id = "loss";
      config.nats = nats.url;
      config.data_dir = join(dir.path, "host");
      config.input = "core";
      config.http_port = 0;
      config.actors = { stats: { every_samples: 1_000_000 } };
      launched = await launchHost(config, ACTOR_KINDS, { log: () => {} });
      const port = launched.host.httpPort!;
      const applied = () => launched!.host.applied.get("stats") ?? 0;
      nc = await connect({ servers: nats.url });
      // Load the host keeps up with: nothing lost, healthy.
      await publish(nc, 0, 100);
      await until("the first frames applied", 10_000, () => applied() >= 100 * CHANNELS.length);
      assert.is(await metric(port, "troupe_input_lost_samples_total"), 0);
      assert.is((await healthz(port)).status, 200);

      // The server restarts. A publisher that connects at once publishes before the host is back
      // (it reconnects every 250 ms): core NATS has nobody to give those frames to. Should the
      // host win the race, the frames reach it, nothing is lost, and the restart is tried again.
      let f = 100;
      for (let attempt = 1; attempt <= 3; attempt++) {
        await nc.close();
        await nats.stop();
        nats = await NatsServer.start(first.options);
        nc = await connect({ servers: nats.url });
        await publish(nc, f, f + 5);
        f += 5;
        await until(
          "the host to reconnect",
          15_000,
          async () => await metric(port, "troupe_nats_connected") === 1,
        );
        const before = applied();
        await publish(nc, f, f + 5);
        f += 5;
        await until("frames after the reconnect", 10_000, () => applied() > before);
        if (await metric(port, "troupe_input_lost_samples_total") > 0) break;
      }
      const lost = await metric(port, "troupe_input_lost_samples_total");
      assert.ok(lost > 0 && lost % BATCH === 0, `whole frames lost: ${lost} samples`);
      assert.ok(await metric(port, "troupe_input_gaps_total") >= 1);
      const h = await healthz(port);
      assert.is(h.status, 503, JSON.stringify(h.reasons));
      const reason = h.reasons.find((r) => r.startsWith("input lost "));
      assert.ok(reason, JSON.stringify(h.reasons));
      assert.match(reason!, /of channel "l\d" \(sequence \d+-\d+\)/);
      assert.match(reason!, "core NATS delivers at most once");
    } finally {
      await launched?.close();
      await nc?.close();
      await nats.stop();
      await first.cleanup();
      dir.remove();
    }
  });
}

test.run();
