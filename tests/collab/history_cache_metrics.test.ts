/**
 * The history cache's metrics on the collab server's `/metrics`: a server on a real nats-server
 * (its history read from the feed stream, held by history_cache.ts) says how its answers were
 * given (a first look read into the cache, a second from memory, a channel never published read
 * from the stream alone) and what the cache holds, exactly, after known requests over HTTP.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ensureFeedStream, NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { encodeFrame, feedSubject, historyQuery } from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { feedStored, getText, metric, tokenFor } from "./_support.ts";

const test = suite("history cache metrics");
const run = haveNatsServer("history cache metrics");
const S = 1_000_000;
const T0 = (Math.floor(Date.now() / 1000) - 3600) * S;
const FRAMES = 10;

/** Publishes FRAMES frames of 60 samples of `channel` at 1 Hz and waits till the stream has them. */
async function publish(pub: NatsBus, channel: string): Promise<void> {
  for (let f = 0; f < FRAMES; f++) {
    const t = new Float64Array(60).map((_, i) => T0 + (f * 60 + i) * S);
    const v = new Float64Array(60).map((_, i) => i % 7);
    const meta = { id: `${channel}:${f}`, src: "test" };
    pub.publish(feedSubject("m", channel), encodeFrame({ channel, seq0: f * 60, t, v }, meta));
  }
  await pub.flush();
  await feedStored(pub, FRAMES);
}

test("a collab server on NATS has its history cache's hits, builds, misses and holdings in /metrics", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-history-cache-metrics-");
  const pub = await NatsBus.connect(nats.url, { name: "history-cache-metrics" });
  let collab: Awaited<ReturnType<typeof launchCollab>> | undefined;
  try {
    await ensureFeedStream(pub.nc);
    await publish(pub, "CA");
    collab = await launchCollab({ dataDir: dir.path, nats: nats.url, bridge: false });
    const token = await tokenFor(dir.path, "main", "viewer");
    const base = `http://127.0.0.1:${collab.server.port}`;
    const ask = async (channel: string) => {
      const t1_us = T0 + FRAMES * 60 * S;
      const query = historyQuery({ channel, t0_us: T0, t1_us, points_max: 40 });
      const res = await fetch(`${base}/history?token=${token}&${query}`);
      assert.is(res.status, 200, `${channel}: ${res.status}`);
      await res.arrayBuffer();
    };
    await ask("CA"); // read into the cache
    await ask("CA"); // from memory
    await ask("NEVER"); // no samples: read from the stream, not kept
    const text = await getText(`${base}/metrics`);
    const names = [
      "troupe_history_cache_hits_total",
      "troupe_history_cache_builds_total",
      "troupe_history_cache_misses_total",
      "troupe_history_cache_samples",
      "troupe_history_cache_capacity_samples",
      "troupe_history_cache_samples_max",
      "troupe_history_cache_channels",
      "troupe_history_queries_total",
    ];
    const got = Object.fromEntries(names.map((name) => [name, metric(text, name)]));
    assert.equal(got, {
      troupe_history_cache_hits_total: 1,
      troupe_history_cache_builds_total: 1,
      troupe_history_cache_misses_total: 1,
      troupe_history_cache_samples: FRAMES * 60,
      // The first read sizes the columns for the frames the stream holds: exactly.
      troupe_history_cache_capacity_samples: FRAMES * 60,
      troupe_history_cache_samples_max: 8_388_608,
      troupe_history_cache_channels: 1,
      troupe_history_queries_total: 3,
    });
    assert.match(text, "# TYPE troupe_history_cache_hits_total counter");
    assert.match(text, "# TYPE troupe_history_cache_samples gauge");
    // The in-memory source's metrics are the server without NATS's, not shown here.
    assert.not.match(text, "troupe_history_channels_max");
  } finally {
    await collab?.close();
    await pub.close();
    await nats.cleanup();
    dir.remove();
  }
});

if (run) test.run();
