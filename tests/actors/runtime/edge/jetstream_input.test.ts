/**
 * The feed stream's reader leaves nothing on the server when it stops (jetstream_input.ts through
 * stream_follower.ts): its consumer is deleted, not left to the server's inactivity threshold.
 * A leased host stops one reader per partition it gives up; left behind, each stayed on
 * `TROUPE_FEED` for minutes (11 consumers for 6 partitions after a lease move). A real
 * nats-server with JetStream.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  ensureFeedStream,
  FEED_STREAM,
  jetStreamInput,
} from "../../../../actors/runtime/edge/mod.ts";
import { feedSubject } from "../../../../protocol/mod.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("jetstream_input");
const it = haveNatsServer("jetstream_input") ? test : test.skip;
const nats = natsForSuite(test, it);

async function consumers(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  const names: string[] = [];
  for await (const c of jsm.consumers.list(FEED_STREAM)) names.push(c.name);
  return names;
}

async function waitFor(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it("a reader that stops deletes its consumer, and one started after reads on", async () => {
  const nc = nats.nc;
  const seen: number[] = [];
  const first = jetStreamInput(nc);
  await first.start((_m, seq) => seen.push(seq), 0);
  assert.is((await consumers(nc)).length, 1, "the reader's consumer");
  nc.publish(feedSubject("metrics", "a"), new Uint8Array([1]));
  await waitFor("the first frame", () => seen.length === 1);
  await first.stop();
  assert.equal(await consumers(nc), [], "no consumer left once it stopped");

  const second = jetStreamInput(nc);
  await second.start((_m, seq) => seen.push(seq), first.delivered!());
  nc.publish(feedSubject("metrics", "a"), new Uint8Array([2]));
  await waitFor("the second frame", () => seen.length === 2);
  assert.equal(seen, [1, 2], "each frame once, in order");
  await second.stop();
  assert.equal(await consumers(nc), []);
});

it("the feed stream takes the limits it is given, also when it was made with others", async () => {
  const nc = nats.nc;
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  const limits = async () => {
    const { config } = await jsm.streams.info(FEED_STREAM);
    return { bytes: config.max_bytes, ageS: config.max_age / 1e9 };
  };
  await ensureFeedStream(nc);
  assert.equal(await limits(), { bytes: 1 << 30, ageS: 3600 }, "the defaults");
  await ensureFeedStream(nc, { maxBytes: 4 * 2 ** 30, maxAgeMs: 86_400_000 });
  assert.equal(
    await limits(),
    { bytes: 4 * 2 ** 30, ageS: 86_400 },
    "the stream made before takes them",
  );
  await ensureFeedStream(nc);
  assert.equal(await limits(), { bytes: 4 * 2 ** 30, ageS: 86_400 }, "no limits given: kept");
  await ensureFeedStream(nc, { maxAgeMs: 7_200_000 });
  assert.equal(await limits(), { bytes: 4 * 2 ** 30, ageS: 7200 }, "one given: the other kept");
  const frames = (await jsm.streams.info(FEED_STREAM)).state.messages;
  assert.ok(frames >= 2, `the frames kept through the update: ${frames}`);
});

test.run();
