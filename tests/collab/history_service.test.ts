/**
 * `GET /history` against a real nats-server: frames published on `troupe.feed.*` are kept by the
 * feed stream, and the collab server answers a range of them downsampled, with the findings and
 * the incidents (latest update of each) that have the channel as a member.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { WebSocket as NodeWebSocket } from "ws";
import { ensureFeedStream, NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab, StreamClient, type StreamSocketConstructor } from "../../collab/mod.ts";
import {
  decodeHistoryResponse,
  encodeEventEnvelope,
  encodeFrame,
  encodeIncident,
  feedSubject,
  findingSubject,
  HISTORY_LIMITS,
  historyQuery,
  type HistoryRequest,
  type Incident,
  incidentSubject,
} from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { feedStored, tokenFor } from "./_support.ts";

const test = suite("history service");
const run = haveNatsServer("history service");

const HOUR_S = 3600;
/** The first sample's time: an hour before the test starts (a live feed's past), whole seconds. */
const T0 = (Math.floor(Date.now() / 1000) - HOUR_S - 60) * 1_000_000;
const SPIKE_AT = 1234;

/** Publishes an hour of `channel` at 1 Hz in frames of 60, a spike at SPIKE_AT, and waits till kept. */
async function publishHour(pub: NatsBus, channel: string, level: number): Promise<void> {
  for (let f = 0; f < HOUR_S / 60; f++) {
    const t = new Float64Array(60), v = new Float64Array(60);
    for (let i = 0; i < 60; i++) {
      const k = f * 60 + i;
      t[i] = T0 + k * 1_000_000;
      v[i] = k === SPIKE_AT ? level + 500 : level + ((k * 7919) % 13);
    }
    pub.publish(
      feedSubject("m", channel),
      encodeFrame({ channel, seq0: f * 60, t, v }, { id: `h:${channel}:${f}`, src: "test" }),
    );
  }
  await pub.flush();
}

/** An incident update of `channels` spanning [first, last] (µs), in `state`. */
function incident(
  channels: string[],
  first: number,
  last: number,
  state: Incident["state"],
): Uint8Array {
  const id = `anomaly-${first}-${channels[0]}`;
  const members = channels.map((channel) => ({
    channel,
    first_us: first,
    last_us: last,
    findings: 2,
    peak_severity: 3,
  }));
  const body: Incident = {
    id,
    kind: "anomaly",
    state,
    fired: state !== "pending",
    silenced: false,
    members,
    first_us: first,
    last_us: last,
    first_finding: `f-${first}`,
    last_finding: `f-${last}`,
    findings: 2 * channels.length,
    peak_severity: 3,
    links: [],
  };
  return encodeIncident({ id: `${id}:${state}`, src: "test", ts: last }, body);
}

function anomaly(channel: string, ts: number): Uint8Array {
  return encodeEventEnvelope({ id: `a-${channel}-${ts}`, type: "anomaly", src: "test", ts }, {
    type: "anomaly",
    ts,
    channel,
    score: 0.9,
    value: 5,
    expected: 1,
    lower: 0,
    upper: 2,
  });
}

async function withHistory(
  fn: (
    get: (q: string) => Promise<Response>,
    token: string,
    pub: NatsBus,
    port: number,
    delivered: () => Promise<void>,
  ) => Promise<void>,
) {
  const nats = await startTestNats();
  const dir = tempDir("troupe-history-");
  const pub = await NatsBus.connect(nats.url, { name: "test-publisher" });
  await ensureFeedStream(pub.nc);
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
  try {
    await collab.bus!.flush();
    const token = await tokenFor(dir.path, "main", "viewer");
    const base = `http://127.0.0.1:${collab.server.port}/history`;
    // What `pub` published so far has reached the server's subscriptions: the nats-server routed
    // it before answering pub's flush, and sends the server's flush answer after it.
    const delivered = async () => {
      await pub.flush();
      await collab.bus!.flush();
    };
    await fn((q) => fetch(`${base}?${q}`), token, pub, collab.server.port, delivered);
  } finally {
    await pub.close();
    await collab.close();
    await nats.cleanup();
    dir.remove();
  }
}

test("answers an hour of a channel at 400 points: M4 keeps the spike, findings in range only", async () => {
  await withHistory(async (get, token, pub, _port, delivered) => {
    await publishHour(pub, "HX", 100);
    await publishHour(pub, "OTHER", -100);
    await feedStored(pub, 120);
    pub.publish(findingSubject("anomaly", "HX"), anomaly("HX", T0 + 100_000_000));
    pub.publish(findingSubject("anomaly", "HX"), anomaly("HX", T0 - 1));
    pub.publish(findingSubject("anomaly", "OTHER"), anomaly("OTHER", T0 + 100_000_000));
    // Incidents: HX's in the range (its latest update is the one kept), one that began before
    // the range and ran into it, one that ended before it, and another channel's.
    const inc = (channels: string[], a: number, b: number, state: Incident["state"]) =>
      pub.publish(
        incidentSubject("anomaly"),
        incident(channels, T0 + a * 1e6, T0 + b * 1e6, state),
      );
    inc(["OTHER", "HX"], 100, 100, "pending");
    inc(["OTHER", "HX"], 100, 160, "firing");
    inc(["HX"], -300, 20, "resolved");
    inc(["HX"], -400, -200, "resolved");
    inc(["OTHER"], 50, 60, "firing");
    await delivered();
    const request: HistoryRequest = {
      channel: "HX",
      t0_us: T0,
      t1_us: T0 + HOUR_S * 1_000_000,
      points_max: 400,
    };
    const res = await get(`token=${token}&${historyQuery(request)}`);
    assert.is(res.status, 200, await res.clone().text());
    assert.is(res.headers.get("content-type"), "application/msgpack");
    const h = decodeHistoryResponse(new Uint8Array(await res.arrayBuffer()));
    assert.is(h.samples, HOUR_S);
    assert.ok(h.t.length <= 400 && h.t.length > 300, `${h.t.length} points`);
    assert.ok(h.v.includes(600), "the spike is in the answer");
    assert.ok(h.v.every((x) => x > 0), "no sample of another channel");
    for (let i = 1; i < h.t.length; i++) assert.ok(h.t[i]! > h.t[i - 1]!, "in time order");
    // Its bars: one a bucket at most (100), so 1m bars, on whole minutes (an hour from T0 spans
    // 60 or 61 of them); the spike is its bar's high, and every sample is in one bar.
    assert.is(h.bars.size_us, 60e6);
    assert.ok(h.bars.t.length <= 100 && h.bars.t.length >= 60, `${h.bars.t.length} bars`);
    assert.ok(h.bars.t.every((x) => x % 60e6 === 0), "bars start on a minute");
    assert.is(h.bars.count.reduce((a, b) => a + b, 0), HOUR_S);
    assert.is(Math.max(...h.bars.high), 600, "the spike is the high of its bar");
    const spikeBar = h.bars.t.findIndex((x) => x > T0 + SPIKE_AT * 1e6) - 1;
    assert.is(h.bars.high[spikeBar], 600);
    assert.is(h.bars.open[0], 100, "the first bar opens with the first sample");
    assert.is(h.bars.close[h.bars.t.length - 1], 100 + (((HOUR_S - 1) * 7919) % 13));
    assert.ok(h.bars.low.every((x) => x >= 100), "no sample of another channel");
    assert.equal(h.findings.map((f) => [f.kind, f.ts_us]), [["anomaly", T0 + 100_000_000]]);
    assert.ok(h.findings_since_us !== null && h.findings_since_us <= Date.now() * 1000);
    assert.equal(h.incidents.map((i) => [i.id, i.state, i.last_us]), [
      [`anomaly-${T0 - 300e6}-HX`, "resolved", T0 + 20e6],
      [`anomaly-${T0 + 100e6}-OTHER`, "firing", T0 + 160e6],
    ]);
    assert.ok(h.incidents_since_us !== null && h.incidents_since_us <= Date.now() * 1000);

    // A minute fits in 400 points: every sample, as published.
    const minute = { ...request, t0_us: T0 + 60_000_000, t1_us: T0 + 120_000_000 };
    const m = decodeHistoryResponse(
      new Uint8Array(await (await get(`token=${token}&${historyQuery(minute)}`)).arrayBuffer()),
    );
    assert.equal([...m.t], Array.from({ length: 60 }, (_, i) => T0 + (60 + i) * 1_000_000));

    // A channel never published: nothing, and no error.
    const none = { ...request, channel: "NEVER" };
    const n = await get(`token=${token}&${historyQuery(none)}`);
    assert.is(n.status, 200);
    assert.is(decodeHistoryResponse(new Uint8Array(await n.arrayBuffer())).samples, 0);
  });
});

test("the WebSocket form on /stream answers what GET /history answers, and says why not", async () => {
  await withHistory(async (get, token, pub, port) => {
    await publishHour(pub, "WX", 100);
    await feedStored(pub, 60);
    const WS = ("Deno" in globalThis
      ? globalThis.WebSocket
      : NodeWebSocket) as unknown as StreamSocketConstructor;
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const client = new StreamClient({
      url: `ws://127.0.0.1:${port}/stream`,
      token,
      WebSocket: WS,
      reconnect: false,
      onStatus: (s) =>
        s === "open" && opened(),
    });
    try {
      await open;
      const request: HistoryRequest = {
        channel: "WX",
        t0_us: T0,
        t1_us: T0 + HOUR_S * 1_000_000,
        points_max: 400,
      };
      const [byWs, byHttp] = await Promise.all([
        client.history(request),
        get(`token=${token}&${historyQuery(request)}`).then(async (r) =>
          new Uint8Array(await r.arrayBuffer())
        ),
      ]);
      const h = decodeHistoryResponse(byWs);
      assert.is(h.samples, HOUR_S);
      assert.ok(h.v.includes(600), "the spike is in the answer");
      assert.equal(h, decodeHistoryResponse(byHttp));
      // A request the gateway would not read (too few points, a span over the limit) is refused
      // by the client before it is sent, naming the field, and the socket stays open.
      const why = (p: Promise<unknown>) => p.then(() => "answered", (err: Error) => err.message);
      assert.match(await why(client.history({ ...request, points_max: 2 })), "points_max");
      assert.match(
        await why(client.history({ ...request, t1_us: T0 + HISTORY_LIMITS.span_us_max + 1 })),
        "spans",
      );
      assert.ok(client.open, "the socket stays open");
    } finally {
      client.close();
    }
  });
});

test("refuses a request without a token (401) and a bad one, naming the field (400)", async () => {
  await withHistory(async (get, token) => {
    const q = historyQuery({ channel: "HX", t0_us: 0, t1_us: 10, points_max: 8 });
    const anon = await get(q);
    assert.is(anon.status, 401);
    assert.match(await anon.text(), /No token/);
    const bad = await get(`token=${token}&channel=HX&t0_us=0&t1_us=10&points_max=x`);
    assert.is(bad.status, 400);
    assert.match(await bad.text(), /"points_max" must be an integer, got "x"/);
  });
});

if (run) test.run();
