/**
 * The history cache against a real nats-server: an answer read from the cached columns is the
 * answer of a fresh read of the feed stream, byte for byte, on the same range: at first (the
 * cache filled), again (from memory), after new frames (read incrementally), after the stream let
 * old frames go (dropped from the cache too), for a range before the cached start (read again),
 * past the cache's bound (the channel read longest ago evicted; one too big for it not cached:
 * read from the stream), for a channel never published (answered, not kept), and with frames
 * that are not valid among the good ones (a first read decodes frames straight into the cache's
 * columns: one that fails must leave nothing there; and the newest frames being bad, they are
 * read once, not again by every later answer).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureFeedStream, NatsBus } from "../../actors/runtime/mod.ts";
import { FeedStreamHistory } from "../../collab/history/feed_stream/feed_stream_history.ts";
import { FindingLog } from "../../collab/history/finding_log.ts";
import { type FrameReader, HistoryCache } from "../../collab/history/feed_stream/history_cache.ts";
import { HistoryService } from "../../collab/history/history_service.ts";
import { loadKeyring } from "../../collab/mod.ts";
import {
  encodeEnvelope,
  encodeFrame,
  encodeHistoryResponse,
  feedSubject,
  type HistoryRequest,
} from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { feedStored } from "./_support.ts";

const test = suite("history cache");
const run = haveNatsServer("history cache");

const T0 = (Math.floor(Date.now() / 1000) - 7200) * 1_000_000;

/** Publishes minutes [from, to) of `channel` at 1 Hz, a frame a minute, with spikes. */
async function publish(pub: NatsBus, channel: string, from: number, to: number) {
  for (let f = from; f < to; f++) {
    const t = new Float64Array(60), v = new Float64Array(60);
    for (let i = 0; i < 60; i++) {
      const k = f * 60 + i;
      t[i] = T0 + k * 1_000_000;
      v[i] = k % 997 === 0 ? 900 : 100 + ((k * 7919) % 31) / 3;
    }
    pub.publish(
      feedSubject("m", channel),
      encodeFrame({ channel, seq0: f * 60, t, v }, { id: `${channel}:${f}`, src: "test" }),
    );
  }
  await pub.flush();
}

test("answers from the cache equal fresh reads of the stream, as frames come and go", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-history-cache-");
  const pub = await NatsBus.connect(nats.url, { name: "history-cache" });
  try {
    await ensureFeedStream(pub.nc);
    await publish(pub, "CA", 0, 60);
    await publish(pub, "CB", 0, 60);
    await feedStored(pub, 120);
    const keyring = await loadKeyring({ dataDir: dir.path });
    const findings = new FindingLog({ nowUs: () => T0 });
    const raw = new HistoryService({ source: new FeedStreamHistory(pub.nc), findings, keyring });
    const cache = new HistoryCache(new FeedStreamHistory(pub.nc), { samples_max: 16_384 });
    const cached = new HistoryService({ source: cache, findings, keyring });
    const same = async (r: HistoryRequest, why: string) => {
      const [a, b] = await Promise.all([raw.answer(r), cached.answer(r)]);
      assert.ok(a.samples > 0, `${why}: ${a.samples} samples`);
      assert.equal(encodeHistoryResponse(b), encodeHistoryResponse(a), why);
      return a;
    };
    const hour = { channel: "CA", t0_us: T0, t1_us: T0 + 3600e6, points_max: 400 };
    const first = await same(hour, "the first answer, filling the cache");
    assert.ok(first.v.includes(900), "a spike is in the answer");
    await same(hour, "from memory");
    await same({ ...hour, t0_us: T0 + 600e6, t1_us: T0 + 660e6 }, "a minute: every sample");
    await same({ ...hour, t0_us: T0 + 1234e6, t1_us: T0 + 2345e6, points_max: 64 }, "a range");
    await same({ ...hour, channel: "CB" }, "another channel");
    // A channel never published is answered (with nothing) and not kept.
    const never = { ...hour, channel: "NEVER" };
    const [rawNever, cachedNever] = await Promise.all([raw.answer(never), cached.answer(never)]);
    assert.equal(encodeHistoryResponse(cachedNever), encodeHistoryResponse(rawNever));
    assert.is(cachedNever.samples, 0);
    assert.equal([cache.hits, cache.builds, cache.misses], [3, 2, 1]);
    assert.is(cache.samples, 7200);
    // Each channel's columns were sized once for the frames its read held: no room to spare.
    assert.is(cache.capacity, 7200, "room for what was read, no more");

    await publish(pub, "CA", 60, 80); // twenty minutes more
    await feedStored(pub, 140);
    await same({ ...hour, t1_us: T0 + 4800e6 }, "with the frames since, read incrementally");
    assert.is(cache.samples, 8400);
    assert.is(cache.capacity, 8400, "grown once for the twenty frames read");
    // The stream lets its first 30 frames go (CA's first half hour): so does the cache.
    const jsm = await jetstreamManager(pub.nc);
    await jsm.streams.purge("TROUPE_FEED", { seq: 31 });
    await same({ ...hour, t1_us: T0 + 4800e6 }, "after the stream let frames go");
    assert.is(cache.samples, 8400 - 30 * 60);
    await same({ ...hour, t0_us: T0 - 3600e6 }, "a range before the cached start");
    await same({ ...hour, channel: "CB" }, "CB again");
    assert.ok(cache.capacity <= 16_384, `room for ${cache.capacity} samples held`);
    // Past the bound: CA and CB do not both fit; the one read longest ago goes.
    const tight = new HistoryCache(new FeedStreamHistory(pub.nc), { samples_max: 6_000 });
    const tightly = new HistoryService({ source: tight, findings, keyring });
    await tightly.answer(hour);
    await tightly.answer({ ...hour, channel: "CB" });
    assert.is(tight.samples, 3600, "CB alone is held");
    const again = await tightly.answer(hour);
    assert.equal(encodeHistoryResponse(again), encodeHistoryResponse(await raw.answer(hour)));
    assert.equal([tight.hits, tight.builds, tight.misses], [0, 3, 0]);
    const small = new HistoryCache(new FeedStreamHistory(pub.nc), { samples_max: 1000 });
    const a = await raw.answer(hour);
    const b = await new HistoryService({ source: small, findings, keyring }).answer(hour);
    assert.equal(encodeHistoryResponse(b), encodeHistoryResponse(a), "too big to cache");
    assert.equal([small.hits, small.builds, small.misses, small.samples], [0, 0, 1, 0]);
    assert.is(cache.misses, 1);
  } finally {
    await pub.close();
    await nats.cleanup();
    dir.remove();
  }
});

test("a first answer of an early range is read to its end, the frames after it kept after", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-history-cache-");
  const pub = await NatsBus.connect(nats.url, { name: "history-cache-early" });
  try {
    await ensureFeedStream(pub.nc);
    await publish(pub, "CC", 0, 60);
    await feedStored(pub, 60);
    const keyring = await loadKeyring({ dataDir: dir.path });
    const findings = new FindingLog({ nowUs: () => T0 });
    const stream = new FeedStreamHistory(pub.nc);
    // The real reader, counting the frames it hands the cache.
    let handed = 0;
    const reader: FrameReader = {
      read: (range, onFrame) => stream.read(range, onFrame),
      firstSeq: () => stream.firstSeq(),
      readFrames: (channel, from, onFrame) =>
        stream.readFrames(channel, from, (...frame) => (handed++, onFrame(...frame))),
    };
    const cache = new HistoryCache(reader);
    const cached = new HistoryService({ source: cache, findings, keyring });
    const raw = new HistoryService({ source: stream, findings, keyring });
    const early = { channel: "CC", t0_us: T0, t1_us: T0 + 600e6, points_max: 100 };
    const first = await cached.answer(early);
    // Ten minutes' frames and the one starting at t1 that ends the range: not the hour since.
    assert.is(handed, 11, "frames read before the first answer");
    assert.equal(encodeHistoryResponse(first), encodeHistoryResponse(await raw.answer(early)));
    const hour = { ...early, t1_us: T0 + 3600e6 };
    const whole = await cached.answer(hour);
    assert.equal(encodeHistoryResponse(whole), encodeHistoryResponse(await raw.answer(hour)));
    assert.is(handed, 60, "every frame read once");
    assert.equal([cache.hits, cache.builds, cache.misses, cache.samples], [1, 1, 0, 3600]);
    assert.is(cache.capacity, 3600);
  } finally {
    await pub.close();
    await nats.cleanup();
    dir.remove();
  }
});

test("a first read skips frames that fail validation and holds nothing of them", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-history-cache-");
  const pub = await NatsBus.connect(nats.url, { name: "history-cache-bad" });
  try {
    await ensureFeedStream(pub.nc);
    // Ten good minutes, each followed by a bad frame of the next minute's times: a NaN value,
    // times that go back, a t column of 13 bytes, then again.
    for (let f = 0; f < 10; f++) {
      await publish(pub, "CD", f, f + 1);
      const t = new Float64Array(60), v = new Float64Array(60).fill(555);
      for (let i = 0; i < 60; i++) t[i] = T0 + ((f + 1) * 60 + i) * 1_000_000;
      if (f % 3 === 0) v[30] = NaN;
      if (f % 3 === 1) t[59] = t[0]! - 1;
      const body = f % 3 === 2
        ? { channel: "CD", seq0: 0, t: new Uint8Array(13), v: new Uint8Array(13) }
        : { channel: "CD", seq0: 0, t: new Uint8Array(t.buffer), v: new Uint8Array(v.buffer) };
      pub.publish(
        feedSubject("m", "CD"),
        encodeEnvelope({ id: `bad:${f}`, type: "frame", src: "test", ts: 0, body }),
      );
    }
    await pub.flush();
    await feedStored(pub, 20);
    const keyring = await loadKeyring({ dataDir: dir.path });
    const findings = new FindingLog({ nowUs: () => T0 });
    const stream = new FeedStreamHistory(pub.nc);
    const raw = new HistoryService({ source: new FeedStreamHistory(pub.nc), findings, keyring });
    const cache = new HistoryCache(stream);
    const cached = new HistoryService({ source: cache, findings, keyring });
    const hour = { channel: "CD", t0_us: T0, t1_us: T0 + 3600e6, points_max: 100 };
    const expected = encodeHistoryResponse(await raw.answer(hour));
    const first = await cached.answer(hour);
    assert.is(first.samples, 600, "the good frames' samples alone");
    assert.not.ok(first.v.includes(555), "no value of a bad frame");
    assert.equal(encodeHistoryResponse(first), expected, "the first answer, read into the cache");
    assert.is(stream.skipped, 10, "every bad frame skipped");
    assert.equal(encodeHistoryResponse(await cached.answer(hour)), expected, "from memory");
    assert.equal([cache.hits, cache.builds, cache.samples, cache.capacity], [1, 1, 600, 600]);
    // The stream's newest frame is a bad one: passed over once, not read again by each answer.
    assert.is(stream.skipped, 10, "the last bad frame is not read again");
    pub.publish(
      feedSubject("m", "CD"),
      encodeEnvelope({ id: "bad:late", type: "frame", src: "test", ts: 0, body: {} }),
    );
    await pub.flush();
    await feedStored(pub, 21);
    assert.equal(encodeHistoryResponse(await cached.answer(hour)), expected, "after a bad frame");
    assert.equal(encodeHistoryResponse(await cached.answer(hour)), expected, "and again");
    assert.is(stream.skipped, 11, "each bad frame read once");
  } finally {
    await pub.close();
    await nats.cleanup();
    dir.remove();
  }
});

if (run) test.run();
