/**
 * `/history`'s metrics on the collab server's `/metrics`: a server on the in-process bus (what
 * `troupe up` runs without nats-server) says what its in-memory history holds against its bounds,
 * what the channel bound evicted, what it skipped and how many requests it answered; and what the
 * samples bound drops is counted, every sample that came either held or dropped.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Registry } from "prom-client";
import { InProcessBus } from "../../actors/runtime/mod.ts";
import { launchCollab, loadKeyring } from "../../collab/mod.ts";
import { BusFeedHistory } from "../../collab/history/bus_feed_history.ts";
import { FindingLog } from "../../collab/history/finding_log.ts";
import { HistoryService } from "../../collab/history/history_service.ts";
import { encodeFrame, feedSubject, historyQuery } from "../../protocol/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { getText, metric, tokenFor } from "./_support.ts";

const test = suite("history metrics");
const S = 1_000_000;
const T0 = (Math.floor(Date.now() / 1000) - 3600) * S;

/** A frame of `n` samples of `channel` at 1 Hz from second `from`. */
function frame(channel: string, from: number, n: number): Uint8Array {
  const t = new Float64Array(n).map((_, i) => T0 + (from + i) * S);
  const v = new Float64Array(n).map((_, i) => i % 7);
  return encodeFrame({ channel, seq0: from, t, v }, { id: `${channel}:${from}`, src: "test" });
}

test("a collab server without NATS has its in-memory history's holdings, evictions, skips and answers in /metrics", async () => {
  const dir = tempDir("troupe-history-metrics-");
  const bus = new InProcessBus();
  let collab: Awaited<ReturnType<typeof launchCollab>> | undefined;
  try {
    collab = await launchCollab({ dataDir: dir.path, bus, bridge: false });
    // One channel past the bound of 1,024: the first, fed longest ago, is evicted.
    for (let c = 0; c <= 1024; c++) {
      const channel = `C${String(c).padStart(4, "0")}`;
      bus.publish(feedSubject("m", channel), frame(channel, 0, 60));
    }
    bus.publish(feedSubject("m", "JUNK"), new Uint8Array([0xc1]));
    await bus.flush();
    const token = await tokenFor(dir.path, "main", "viewer");
    const base = `http://127.0.0.1:${collab.server.port}`;
    const query = historyQuery({ channel: "C1024", t0_us: T0, t1_us: T0 + 60 * S, points_max: 40 });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${base}/history?token=${token}&${query}`);
      assert.is(res.status, 200);
      await res.arrayBuffer();
    }
    const text = await getText(`${base}/metrics`);
    const got = Object.fromEntries(
      [
        "troupe_history_samples",
        "troupe_history_capacity_samples",
        "troupe_history_samples_max",
        "troupe_history_channels",
        "troupe_history_channels_max",
        "troupe_history_samples_dropped_total",
        "troupe_history_channels_evicted_total",
        "troupe_history_frames_skipped_total",
        "troupe_history_queries_total",
      ].map((name) => [name, metric(text, name)]),
    );
    assert.equal(got, {
      troupe_history_samples: 1024 * 60,
      // Each channel's columns start with room for 1,024 samples.
      troupe_history_capacity_samples: 1024 * 1024,
      troupe_history_samples_max: 8_388_608,
      troupe_history_channels: 1024,
      troupe_history_channels_max: 1024,
      troupe_history_samples_dropped_total: 60,
      troupe_history_channels_evicted_total: 1,
      troupe_history_frames_skipped_total: 1,
      troupe_history_queries_total: 2,
    });
    assert.match(text, "# TYPE troupe_history_queries_total counter");
    assert.match(text, "# TYPE troupe_history_samples gauge");
    // The feed stream's cache is the server on NATS's (history_cache_metrics.test.ts).
    assert.not.match(text, "troupe_history_cache_");
  } finally {
    await collab?.close();
    await bus.close();
    dir.remove();
  }
});

test("what the samples bound drops is counted: every sample that came is held or dropped", async () => {
  const dir = tempDir("troupe-history-metrics-");
  const held = new BusFeedHistory({ samples_max: 4096, channels_max: 4, nowUs: () => T0 });
  try {
    for (let f = 0; f < 100; f++) held.add(feedSubject("m", "A"), frame("A", f * 60, 60));
    for (let f = 0; f < 10; f++) held.add(feedSubject("m", "B"), frame("B", f * 60, 60));
    const service = new HistoryService({
      source: held,
      findings: new FindingLog({ nowUs: () => T0 }),
      keyring: await loadKeyring({ dataDir: dir.path }),
    });
    await service.answer({ channel: "A", t0_us: T0, t1_us: T0 + 6000 * S, points_max: 40 });
    const registry = new Registry();
    service.registerMetrics(registry);
    const text = await registry.metrics();
    const dropped = metric(text, "troupe_history_samples_dropped_total");
    assert.ok(dropped > 0, `${dropped} dropped`);
    assert.is(metric(text, "troupe_history_samples") + dropped, 110 * 60);
    assert.ok(metric(text, "troupe_history_capacity_samples") <= 4096);
    assert.is(metric(text, "troupe_history_samples_max"), 4096);
    assert.is(metric(text, "troupe_history_channels"), 2);
    assert.is(metric(text, "troupe_history_channels_evicted_total"), 0);
    assert.is(metric(text, "troupe_history_queries_total"), 1);
  } finally {
    dir.remove();
  }
});

test.run();
