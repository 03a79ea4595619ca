/**
 * `troupe inject` with JetStream acknowledgements, against a real nats-server killed three times
 * under it: the samples it reports as acknowledged are exactly the samples the stream holds (a
 * frame lost in flight is sent again; one sent twice is kept once, by its Nats-Msg-Id). Without a
 * stream it says that delivery is at most once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ensureFeedStream, FEED_STREAM, NatsServer } from "../../actors/runtime/mod.ts";
import { decodeFrame } from "../../protocol/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats } from "../_support/nats.ts";

const test = suite("troupe inject: acknowledgements");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Frames and samples the feed stream holds, and the frame ids seen more than once. */
async function streamCounts(url: string) {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(FEED_STREAM);
    const name = `count-${Date.now()}`;
    await jsm.consumers.add(FEED_STREAM, {
      durable_name: name,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
    });
    const consumer = await jetstream(nc).consumers.get(FEED_STREAM, name);
    let frames = 0, samples = 0;
    const ids = new Set<string>();
    let repeated = 0;
    while (frames < info.state.messages) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        const { envelope, frame } = decodeFrame(m.data);
        if (ids.has(envelope.id)) repeated++;
        ids.add(envelope.id);
        frames++;
        samples += frame.t.length;
        got++;
      }
      if (got === 0) break;
    }
    return { messages: info.state.messages, frames, samples, repeated };
  } finally {
    await nc.close();
  }
}

if (haveNatsServer("troupe inject: acknowledgements")) {
  test("inject under 3 nats-server kills: the samples reported as acknowledged are the stream's, none twice", async () => {
    const first = await startTestNats();
    let nats: NatsServer = first;
    const nc = await connect({ servers: nats.url });
    await ensureFeedStream(nc);
    await nc.close();
    const inject = startTroupe([
      "inject",
      "--nats",
      nats.url,
      "--rate",
      "20000",
      "--duration",
      "8",
      "--channels",
      "4",
      "--json",
    ]);
    try {
      await inject.waitFor("troupe inject: delivery: acknowledged by JetStream stream", 20_000);
      for (let kill = 0; kill < 3; kill++) {
        await sleep(1200);
        await nats.kill();
        await sleep(400);
        nats = await NatsServer.start(first.options);
      }
      const code = await inject.exited;
      assert.is(code, 0, inject.output());
      const out = JSON.parse(inject.output().split("\n").find((l) => l.startsWith("{"))!) as {
        delivery: string;
        acked_samples: number;
        acked_frames: number;
        samples: number;
        retries: number;
      };
      assert.is(out.delivery, "acknowledged");
      const held = await streamCounts(nats.url);
      assert.is(held.frames, held.messages);
      assert.is(held.repeated, 0, "a frame kept twice");
      assert.is(out.acked_samples, held.samples, inject.output());
      assert.is(out.acked_frames, held.frames);
      assert.is(out.acked_samples, out.samples, "every sample sent was acknowledged in the end");
      assert.ok(out.retries > 0, `the kills cost retries: ${inject.output()}`);
    } finally {
      inject.signal("SIGKILL");
      await nats.stop();
      await first.cleanup();
    }
  });

  test("inject without a JetStream stream on its subjects says that delivery is at most once", async () => {
    const nats = await startTestNats();
    try {
      const r = await runTroupe([
        "inject",
        "--nats",
        nats.url,
        "--rate",
        "2000",
        "--duration",
        "0.2",
      ]);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stderr, "delivery: at most once (core NATS: no JetStream stream keeps");
      assert.match(r.stdout, "sent at most once (core NATS)");
    } finally {
      await nats.cleanup();
    }
  });
}

test.run();
