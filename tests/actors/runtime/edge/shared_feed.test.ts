/**
 * A process reads the feed stream once for every partition it holds (shared_feed.ts): each
 * partition's share takes every message past its resume point, once and in order, with one
 * consumer on the stream; a share that starts behind catches up with a consumer of its own, joins,
 * and its consumer goes (as it does when the partition stops first). A real nats-server with
 * JetStream.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureFeedStream, FEED_STREAM, SharedFeed } from "../../../../actors/runtime/edge/mod.ts";
import { feedSubject } from "../../../../protocol/mod.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("shared_feed");
const it = haveNatsServer("shared_feed") ? test : test.skip;
const nats = natsForSuite(test, it);

async function consumers(nc: NatsConnection): Promise<number> {
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  let n = 0;
  for await (const _ of jsm.consumers.list(FEED_STREAM)) n++;
  return n;
}

async function lastSeq(nc: NatsConnection): Promise<number> {
  await ensureFeedStream(nc);
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  return (await jsm.streams.info(FEED_STREAM)).state.last_seq;
}

async function publish(nc: NatsConnection, n: number): Promise<number> {
  const js = jetstream(nc);
  let seq = 0;
  for (let i = 0; i < n; i++) {
    seq = (await js.publish(feedSubject("metrics", `c${i % 7}`), new Uint8Array([i & 255]))).seq;
  }
  return seq;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

it("partitions at one resume point share one consumer, each taking every message once", async () => {
  const nc = nats.nc;
  const from = await lastSeq(nc);
  const feed = new SharedFeed(nc);
  const seen: number[][] = [[], [], []];
  const shares = seen.map(() => feed.input());
  await Promise.all(shares.map((s, i) => s.start((_m, pos) => seen[i]!.push(pos), from)));
  assert.is(await consumers(nc), 1, "one consumer for three partitions");
  const to = await publish(nc, 50);
  await waitFor("every share's messages", () => seen.every((s) => s.length === 50));
  for (const s of seen) assert.equal(s, range(from + 1, to));
  assert.is(shares[1]!.delivered!(), to);
  await Promise.all(shares.map((s) => s.stop()));
  assert.is(await consumers(nc), 0, "the consumer goes with the last share");
});

it("a partition behind catches up on its own consumer, joins, and its consumer goes", async () => {
  const nc = nats.nc;
  const behind = await lastSeq(nc);
  const ahead = await publish(nc, 400);
  const feed = new SharedFeed(nc);
  const live: number[] = [];
  const late: number[] = [];
  const first = feed.input();
  await first.start((_m, pos) => live.push(pos), ahead);
  const second = feed.input();
  // The partition catching up steps slowly, so the shared read moves on meanwhile.
  await second.start((_m, pos) => {
    late.push(pos);
    const until = performance.now() + 2;
    while (performance.now() < until) { /* a partition's steps */ }
  }, behind);
  assert.is(feed.consumers, 2, "the shared read and the catch-up");
  const to = await publish(nc, 200);
  await waitFor("both shares at the stream's end", () => live.at(-1) === to && late.at(-1) === to);
  assert.equal(live, range(ahead + 1, to), "the live partition: each once, in order");
  assert.equal(late, range(behind + 1, to), "the late partition: each once, in order");
  assert.is(feed.consumers, 1, "joined: only the shared read");
  await waitFor("the catch-up's consumer deleted", async () => (await consumers(nc)) === 1);
  const more = await publish(nc, 20);
  await waitFor("the next messages", () => late.at(-1) === more && live.at(-1) === more);
  assert.equal(late.slice(-20), range(more - 19, more), "after joining: each once, in order");
  await first.stop();
  await second.stop();
  assert.is(await consumers(nc), 0);
});

it("a partition ahead of the shared read takes nothing it journaled; a new read after all stop", async () => {
  const nc = nats.nc;
  const from = await lastSeq(nc);
  const feed = new SharedFeed(nc);
  const a: number[] = [];
  const b: number[] = [];
  const sa = feed.input();
  await sa.start((_m, pos) => a.push(pos), from);
  const sb = feed.input();
  await sb.start((_m, pos) => b.push(pos), from + 5);
  assert.is(sb.delivered!(), from + 5, "where it starts, before its first");
  const to = await publish(nc, 10);
  await waitFor("both", () => a.length === 10 && b.length === 5);
  assert.equal(b, range(from + 6, to));
  await sa.stop();
  await sb.stop();
  assert.is(feed.consumers, 0);
  const c: number[] = [];
  const sc = feed.input();
  await sc.start((_m, pos) => c.push(pos), to);
  const next = await publish(nc, 3);
  await waitFor("a share started after every other stopped", () => c.length === 3);
  assert.equal(c, range(to + 1, next));
  await sc.stop();
  assert.is(await consumers(nc), 0);
});

it("a partition that stops while it catches up deletes its consumer; the others read on", async () => {
  const nc = nats.nc;
  const behind = await lastSeq(nc);
  const ahead = await publish(nc, 300);
  const feed = new SharedFeed(nc);
  const live: number[] = [];
  const first = feed.input();
  await first.start((_m, pos) => live.push(pos), ahead);
  let took = 0;
  const second = feed.input();
  await second.start(() => {
    took++;
    const until = performance.now() + 5;
    while (performance.now() < until) { /* a partition's steps */ }
  }, behind);
  await second.stop();
  assert.ok(took < 300, `stopped before it caught up: took ${took}`);
  assert.is(feed.consumers, 1, "the shared read alone");
  assert.is(await consumers(nc), 1, "the catch-up's consumer deleted");
  const to = await publish(nc, 10);
  await waitFor("the live partition's messages", () => live.at(-1) === to);
  assert.equal(live, range(ahead + 1, to));
  await first.stop();
  assert.is(await consumers(nc), 0);
});

test.run();
