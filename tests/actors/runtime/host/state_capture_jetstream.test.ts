/**
 * A host whose input is a JetStream consumer, asked for a state capture while its consumer lags
 * the stream (as on a loaded machine), answers once the consumer has delivered everything the
 * stream held at the ask: those inputs were published before the asker subscribed, so a snapshot
 * without them could be made up by nothing in a recording. Against a real nats-server, the
 * consumer's pulls held back by a proxy in front of it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import {
  ensureFeedStream,
  FEED_STREAM,
  jetStreamInput,
  NatsBus,
} from "../../../../actors/runtime/mod.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { requestAll } from "../../../../actors/runtime/control/request_all.ts";
import {
  decodeStateCapturePart,
  encodeFrame,
  encodeStateCaptureAsk,
  feedSubject,
  savedIds,
  stateCaptureSubject,
} from "../../../../protocol/mod.ts";
import { HeldPublishProxy } from "../../../_support/held_publish_proxy.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

const NAME = "state capture on JetStream input";
const test = suite(NAME);
const it = haveNatsServer(NAME) ? test : test.skip;

/** Frames published before the ask: more than the consumer's first pull (1,000) takes. */
const FRAMES = 1500;

function frame(i: number): Uint8Array {
  const t = new Float64Array([1_700_000_000_000_000 + i * 1000]);
  return encodeFrame({ channel: "a", seq0: i, t, v: new Float64Array([i % 7]) }, {
    id: `a-${i}`,
    src: "test",
  });
}

it("a lagging consumer is waited for: the snapshot holds every input the stream held at the ask", async () => {
  const server = await startTestNats();
  const proxy = await HeldPublishProxy.start(server.url);
  const bus = await NatsBus.connect(server.url, { name: "capture-host" });
  const asker = await NatsBus.connect(server.url, { name: "capture-asker" });
  // The host's input reads through the proxy; its asks and answers go straight.
  const inputConn = await connect({ servers: proxy.url });
  const host = new Host({
    hostId: "js1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1_000_000 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    input: jetStreamInput(inputConn),
    log: () => {},
  });
  try {
    await ensureFeedStream(bus.nc);
    await host.start();
    const jsm = await jetstreamManager(bus.nc);
    const [consumer] = await (await jsm.consumers.list(FEED_STREAM)).next();
    // The consumer's next pull, and those after it, reach the server 1.5 s late: it delivers
    // the first pull's 1,000 frames, then nothing until then.
    proxy.holdNext(`$JS.API.CONSUMER.MSG.NEXT.${FEED_STREAM}.${consumer!.name}`, 1500);
    for (let i = 0; i < FRAMES; i++) asker.publish(feedSubject("test", "a"), frame(i));
    await asker.flush();
    for (let i = 0; (await jsm.streams.info(FEED_STREAM)).state.messages < FRAMES; i++) {
      if (i > 500) throw new Error(`the feed stream did not take ${FRAMES} frames in 5 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const answers = await requestAll(
      asker,
      stateCaptureSubject(),
      encodeStateCaptureAsk({ by: "test", settleMs: 6000 }),
      { timeout: 8000 },
    );
    assert.is(answers.length, 1);
    const part = decodeStateCapturePart(answers[0]!.data);
    assert.equal(part.missed, []);
    assert.equal(part.instances.map((i) => i.stream), ["stats/a"]);
    assert.equal(
      part.instances[0]!.ids.slice(-8),
      savedIds([`a-${FRAMES - 1}`]),
      "every frame the stream held",
    );
  } finally {
    await host.stop();
    await inputConn.close();
    await asker.close();
    await bus.close();
    await proxy.close();
    await server.cleanup();
  }
});

test.run();
