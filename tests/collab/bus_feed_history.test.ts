/**
 * History without nats-server: a collab server on the in-process bus (what `troupe up` runs when
 * nats-server is not installed) answers `GET /history` from the frames it saw on the bus, with the
 * findings and the incidents of a real incident stage on the same bus, and `GET /incidents` lists
 * the stage's incidents; the columns stay within their bound, dropping the oldest frames (and, past
 * `channels_max`, the channel fed longest ago) and saying from when a channel is held whole; and
 * on one feed, seen on a NATS connection, the answers are byte for byte those of the feed stream.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { ensureFeedStream, InProcessBus, NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab, loadKeyring } from "../../collab/mod.ts";
import { BusFeedHistory } from "../../collab/history/bus_feed_history.ts";
import { FeedStreamHistory } from "../../collab/history/feed_stream/feed_stream_history.ts";
import { FindingLog } from "../../collab/history/finding_log.ts";
import { HistoryService } from "../../collab/history/history_service.ts";
import {
  type Bus,
  decodeHistoryResponse,
  decodeIncidentList,
  encodeEventEnvelope,
  encodeFrame,
  encodeHistoryResponse,
  feedSubject,
  findingSubject,
  historyQuery,
  type HistoryRequest,
} from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { feedStored, tokenFor, waitFor } from "./_support.ts";

const test = suite("bus feed history");
const S = 1_000_000;
/** The first sample's time: two hours before the test starts, whole seconds. */
const T0 = (Math.floor(Date.now() / 1000) - 7200) * S;
const SPIKE_AT = 1234;

/** Publishes minutes [from, to) of `channel` at 1 Hz, a frame a minute, a spike at SPIKE_AT. */
async function publish(bus: Bus, channel: string, from: number, to: number, level = 100) {
  for (let f = from; f < to; f++) {
    const t = new Float64Array(60), v = new Float64Array(60);
    for (let i = 0; i < 60; i++) {
      const k = f * 60 + i;
      t[i] = T0 + k * S;
      v[i] = k === SPIKE_AT ? level + 500 : level + ((k * 7919) % 13);
    }
    bus.publish(
      feedSubject("m", channel),
      encodeFrame({ channel, seq0: f * 60, t, v }, { id: `${channel}:${f}`, src: "test" }),
    );
  }
  await bus.flush();
}

/** Anomaly findings of `channels` a second apart, then one more of the first 3 s later (past the
 *  stage's reorder bound, so it takes the others), ending 2 s before now: one incident. */
async function crash(bus: Bus, channels: string[]): Promise<number> {
  const t0 = Date.now() * 1000 - (channels.length + 5) * S;
  const at = [...channels.map((_, i) => t0 + i * S), t0 + (channels.length + 3) * S];
  [...channels, channels[0]!].forEach((channel, i) =>
    bus.publish(
      findingSubject("anomaly", channel),
      encodeEventEnvelope(
        { id: `c${i}:anomaly:${channel}:0`, type: "anomaly", src: "h", ts: at[i]! },
        { channel, score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
      ),
    )
  );
  await bus.flush();
  return t0;
}

async function answer(url: string) {
  const res = await fetch(url);
  assert.is(res.status, 200, await res.clone().text());
  return decodeHistoryResponse(new Uint8Array(await res.arrayBuffer()));
}

test("on the in-process bus, /history answers the feed's samples with findings and incidents, and /incidents lists the stage's", async () => {
  const dir = tempDir("troupe-bus-history-");
  const bus = new InProcessBus();
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  let collab: Awaited<ReturnType<typeof launchCollab>> | undefined;
  try {
    // The incident opens before the server starts: the server learns it from the stage's list.
    const t0 = await crash(bus, ["SYM1", "SYM2"]);
    await waitFor(() => stage.stage.list().length === 1, 5_000, "the stage's incident");
    const id = stage.stage.list()[0]!.id;
    const before = Date.now() * 1000;
    collab = await launchCollab({ dataDir: dir.path, bus });
    const after = Date.now() * 1000;
    await publish(bus, "HX", 0, 60);
    await publish(bus, "OTHER", 0, 60, -100);
    bus.publish(
      findingSubject("anomaly", "HX"),
      encodeEventEnvelope(
        { id: "hx:anomaly:0", type: "anomaly", src: "h", ts: T0 + 100 * S },
        { channel: "HX", score: 0.9, value: 5, expected: 1, lower: 0, upper: 2 },
      ),
    );
    await bus.flush();
    const token = await tokenFor(dir.path, "main", "viewer");
    const base = `http://127.0.0.1:${collab.server.port}`;
    const hour: HistoryRequest = {
      channel: "HX",
      t0_us: T0,
      t1_us: T0 + 3600 * S,
      points_max: 400,
    };
    const h = await answer(`${base}/history?token=${token}&${historyQuery(hour)}`);
    assert.is(h.samples, 3600);
    assert.ok(h.t.length <= 400 && h.t.length > 300, `${h.t.length} points`);
    assert.ok(h.v.includes(600), "the spike is in the answer");
    assert.ok(h.v.every((x) => x >= 100), "no sample of another channel");
    assert.is(h.bars.size_us, 60 * S);
    assert.is(h.bars.count.reduce((a, b) => a + b, 0), 3600);
    assert.is(Math.max(...h.bars.high), 600, "the spike is the high of its bar");
    assert.equal(h.findings.map((f) => [f.kind, f.ts_us]), [["anomaly", T0 + 100 * S]]);
    // Held whole from the server's start (what came before it was never seen).
    assert.ok(
      h.samples_since_us !== null && h.samples_since_us >= before && h.samples_since_us <= after,
      `samples known from ${h.samples_since_us}, the server started in [${before}, ${after}]`,
    );
    const minute = { ...hour, t0_us: T0 + 60 * S, t1_us: T0 + 120 * S };
    const m = await answer(`${base}/history?token=${token}&${historyQuery(minute)}`);
    assert.equal([...m.t], Array.from({ length: 60 }, (_, i) => T0 + (60 + i) * S));

    // The incident the stage opened before the server started: in /history and /incidents.
    const around = { channel: "SYM2", t0_us: t0 - 60 * S, t1_us: t0 + 60 * S, points_max: 100 };
    const url = `${base}/history?token=${token}&${historyQuery(around)}`;
    let s = await answer(url);
    for (let i = 0; s.incidents.length === 0 && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      s = await answer(url);
    }
    assert.equal(s.incidents.map((i) => i.id), [id]);
    const res = await fetch(`${base}/incidents?token=${token}`);
    assert.is(res.status, 200, await res.clone().text());
    const listed = decodeIncidentList(new Uint8Array(await res.arrayBuffer()));
    // The stage's, and the one HX's finding made on the same bus.
    assert.equal(listed.map((i) => [i.id, i.members.map((x) => x.channel)]).sort(), [
      [`anomaly-${T0 + 100 * S}-HX`, ["HX"]],
      [id, ["SYM1", "SYM2"]],
    ]);
    assert.is((await fetch(`${base}/incidents`)).status, 401);
  } finally {
    stage.stop();
    await collab?.close();
    await bus.close();
    dir.remove();
  }
});

test("BusFeedHistory keeps its bound, drops the oldest frames and says from when it holds a channel", async () => {
  const bus = new InProcessBus();
  let nowUs = T0 - S;
  const held = new BusFeedHistory({ samples_max: 4096, channels_max: 2, nowUs: () => nowUs })
    .follow(bus);
  const keyDir = tempDir("troupe-bus-history-bound-");
  const keyring = await loadKeyring({ dataDir: keyDir.path });
  const service = new HistoryService({
    source: held,
    findings: new FindingLog({ nowUs: () => nowUs }),
    keyring,
  });
  const whole = { channel: "A", t0_us: T0, t1_us: T0 + 7200 * S, points_max: 16_384 };
  try {
    for (let f = 0; f < 120; f++) {
      await publish(bus, "A", f, f + 1);
      assert.ok(held.capacity <= 4096, `room for ${held.capacity} samples after frame ${f}`);
    }
    assert.ok(held.samples > 2048 && held.samples <= 4096, `${held.samples} held`);
    const a = await service.answer(whole);
    // Exactly the samples from the horizon on, all of them: whole frames, the newest.
    assert.is(a.samples, held.samples);
    assert.is(a.t[0], T0 + (7200 - a.samples) * S);
    assert.is(a.t[a.t.length - 1], T0 + (120 * 60 - 1) * S);
    assert.is(a.samples % 60, 0);
    assert.is(a.samples_since_us, a.t[0]! - S + 1, "the horizon: just after the last dropped");
    assert.is(held.dropped, 7200 - a.samples);
    // A range wholly before the horizon: nothing, and the answer says it is not held.
    const early = await service.answer({ ...whole, t1_us: T0 + 600 * S });
    assert.is(early.samples, 0);
    assert.ok(early.samples_since_us! > early.t1_us, "the answer says the range is not held");

    // Past channels_max the channel fed longest ago goes, and the horizon of a channel not held
    // (or new) moves to that time and past the samples evicted (here A's last, 2 h in).
    await publish(bus, "B", 0, 10);
    nowUs += 5 * S;
    await publish(bus, "C", 0, 10);
    assert.is(held.channels, 2);
    assert.is(held.evicted, 1);
    const gone = await service.answer(whole);
    assert.is(gone.samples, 0);
    assert.is(gone.samples_since_us, T0 + 7199 * S + 1);
    assert.is((await service.answer({ ...whole, channel: "C" })).samples, 600);
    assert.is(held.since_us("C"), T0 + 7199 * S + 1);
    assert.is(held.since_us("B"), T0 - S, "B was held before: whole since the start");
    nowUs = T0 + 9000 * S;
    await publish(bus, "D", 0, 1);
    assert.is(held.since_us("D"), nowUs, "after the clock, when it is later");
    assert.ok(held.capacity <= 4096, `room for ${held.capacity} samples`);
    // A frame alone larger than the bound is not held, and nothing before it is claimed.
    const big = new Float64Array(5000).map((_, i) => T0 + 8000 * S + i);
    bus.publish(
      feedSubject("m", "C"),
      encodeFrame({ channel: "C", seq0: 0, t: big, v: big }, { id: "big", src: "test" }),
    );
    bus.publish(feedSubject("m", "C"), new Uint8Array([1, 2, 3]));
    await bus.flush();
    assert.is(held.skipped, 1);
    assert.is(held.since_us("C"), T0 + 8000 * S + 5000);
    assert.is((await service.answer({ ...whole, channel: "C" })).samples, 0);
  } finally {
    held.close();
    await bus.close();
    keyDir.remove();
  }
});

test("on one feed, answers from the bus equal the feed stream's, byte for byte", async () => {
  if (!haveNatsServer("bus feed history")) return;
  const nats = await startTestNats();
  const pub = await NatsBus.connect(nats.url, { name: "bus-history-pub" });
  const sub = await NatsBus.connect(nats.url, { name: "bus-history-sub" });
  const held = new BusFeedHistory({ nowUs: () => Date.now() * 1000 }).follow(sub);
  const keyDir = tempDir("troupe-bus-history-same-");
  try {
    await ensureFeedStream(pub.nc);
    await sub.flush();
    await publish(pub, "HX", 0, 120);
    await publish(pub, "OTHER", 0, 30, 7);
    await publish(pub, "HX", 120, 121, 50);
    await feedStored(pub, 151);
    await waitFor(() => held.samples === 151 * 60, 5_000, "the bus history to hold every frame");
    const keyring = await loadKeyring({ dataDir: keyDir.path });
    const findings = new FindingLog({ nowUs: () => 0 });
    const stream = new HistoryService({ source: new FeedStreamHistory(pub.nc), findings, keyring });
    const memory = new HistoryService({ source: held, findings, keyring });
    const ranges: [number, number, number][] = [
      [0, 7260, 1000],
      [0, 7260, 16_384],
      [61.5, 3599, 400],
      [1200, 1260, 400],
      [7100, 9000, 64],
      [-600, 30, 4],
    ];
    for (const [a, b, points_max] of ranges) {
      const request = { channel: "HX", t0_us: T0 + a * S, t1_us: T0 + b * S, points_max };
      const x = await stream.answer(request), y = await memory.answer(request);
      assert.ok(x.samples > 0, `[${a}, ${b}) holds samples`);
      assert.is(x.samples_since_us, null, "the feed stream does not say");
      assert.equal(
        encodeHistoryResponse({ ...y, samples_since_us: null }),
        encodeHistoryResponse(x),
        `[${a}, ${b}) at ${points_max} points`,
      );
    }
  } finally {
    held.close();
    await sub.close();
    await pub.close();
    await nats.cleanup();
    keyDir.remove();
  }
});

test.run();
