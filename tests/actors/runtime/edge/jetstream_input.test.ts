/**
 * The feed stream's reader leaves nothing on the server when it stops (jetstream_input.ts through
 * stream_follower.ts): its consumer is deleted, not left to the server's inactivity threshold.
 * A leased host stops one reader per partition it gives up; left behind, each stayed on
 * `TROUPE_FEED` for minutes (11 consumers for 6 partitions after a lease move). A reader slower
 * than its feed keeps its connection: it pulls a bounded number of bytes, so the server's answer
 * to a ping is never behind more than that. A real nats-server with JetStream.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
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

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
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

it("a reader slower than its feed keeps its connection: its pulls are bounded by bytes", async () => {
  // A host's connection scaled down: pings 1 s apart (the host's are 10 s), 150 ms of work a
  // message of 512 KiB. Forty of them are 6 s of work: pulled at once, the answers to the pings
  // sent meanwhile wait behind them, and the connection goes stale after 2 s unanswered.
  const nc = nats.nc;
  await ensureFeedStream(nc);
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  const after = (await jsm.streams.info(FEED_STREAM)).state.last_seq;
  const slow = await connect({ servers: nats.url, pingInterval: 1000, maxReconnectAttempts: -1 });
  const statuses: string[] = [];
  (async () => {
    for await (const s of slow.status()) if (s.type !== "ping") statuses.push(s.type);
  })().catch(() => {});
  const js = jetstream(nc);
  const body = new Uint8Array(512 << 10);
  for (let i = 0; i < 40; i++) await js.publish(feedSubject("metrics", "a"), body);
  const seqs: number[] = [];
  const input = jetStreamInput(slow);
  try {
    await input.start((_m, seq) => {
      seqs.push(seq);
      const until = Date.now() + 150;
      while (Date.now() < until) { /* a host stepping a batch's samples */ }
    }, after);
    await waitFor("forty messages", () => seqs.length === 40, 30_000);
    assert.equal(seqs, Array.from({ length: 40 }, (_, i) => after + 1 + i), "each once, in order");
    assert.equal(statuses, [], "no stale connection, no disconnect");
  } finally {
    await input.stop();
    await slow.close();
  }
});

test.run();
