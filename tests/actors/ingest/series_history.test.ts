/**
 * Warm start from history: Debian's Prometheus (its remote-write receiver on, filled with a past
 * of known values) is the receiver's history URL; a new series' past is journaled before its
 * first live sample, converted as live samples are, and warms the anomaly detector so that the
 * first live sample is scored. A history URL that is down, slow or answers garbage gives one
 * line naming it and why, a counter, and the live samples journaled as without history.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import {
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../../../actors/ingest/mod.ts";
import { freePort, InProcessBus } from "../../../actors/runtime/mod.ts";
import { anomalyKernel, defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
import { decodeFeedBatch, isWarmupId } from "../../../protocol/mod.ts";
import type { Label } from "../../../protocol/prometheus/mod.ts";
import {
  exposedValue,
  haveBinaries,
  PROMETHEUS_BIN,
  remoteWriteTo,
  type StartedProcess,
  startPrometheusTakingWrites,
} from "../../_support/prometheus.ts";

const test = suite("series history");
const havePrometheus = haveBinaries("series history", [PROMETHEUS_BIN]);
const withProm = havePrometheus ? test : test.skip;

const L = (o: Record<string, string>): Label[] =>
  Object.entries(o).map(([name, value]) => ({ name, value }));
const GAUGE = L({ __name__: "room_temp_celsius", job: "lab", instance: 'a"b' });
const COUNTER = L({ __name__: "lab_requests_total", job: "lab" });
const STEP = 5000;
/** The live samples' time, whole seconds, a little before now (Prometheus takes no future). */
const LIVE = Math.floor(Date.now() / 1000) * 1000 - 10_000;
/** The past pushed into Prometheus: 300 points, STEP apart, up to one step before LIVE. */
const PAST = Array.from({ length: 300 }, (_, k) => LIVE - (300 - k) * STEP);
const gaugeAt = (t: number) => 20 + 3 * Math.sin(t / 60_000) + ((t / STEP) % 7) / 10;
/** 10 a second, reset to 0 at the 200th point. */
const counterAt = (k: number) => (k < 200 ? 10 * 5 * k : 10 * 5 * (k - 200));

const remoteWrite = remoteWriteTo;

/** A receiver on an in-process bus; every published batch decoded, in publish order. */
async function receiver(settings: Record<string, unknown>) {
  const bus = new InProcessBus();
  const published: Array<Array<{ channel: string; t: number; v: number }>> = [];
  const ids: string[] = [];
  bus.subscribe("troupe.feed.prom", (msg) => {
    const { batch, meta } = decodeFeedBatch(msg.data);
    ids.push(meta.id);
    const list: Array<{ channel: string; t: number; v: number }> = [];
    let at = 0;
    batch.channels.forEach((channel, i) => {
      for (let k = at; k < at + batch.n[i]!; k++) {
        list.push({ channel, t: batch.t[k]! / 1000, v: batch.v[k]! });
      }
      at += batch.n[i]!;
    });
    published.push(list);
  });
  const lines: string[] = [];
  const server = new IngestServer(parseIngestSettings({ port: 0, ...settings }), {
    bus,
    durable: false,
    labels: await openChannelLabels(bus, { read: true }),
    log: (line) => lines.push(line),
  });
  await server.start();
  const url = `http://127.0.0.1:${server.port}`;
  const samples = (channel: string) =>
    published.flat().filter((s) => s.channel === channel).map((s) => [s.t, s.v]);
  const metric = async (line: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return exposedValue(text, line);
  };
  const flush = () => bus.flush();
  const close = () => server.stop();
  return { server, url, published, ids, samples, lines, metric, flush, close };
}

/** What the anomaly detector says of the last of `samples` ([ms, value]) fed in order. */
function lastScored(samples: number[][]): { seen: number; score: number } {
  const st = anomalyKernel.init(defaultAnomalyConfig, "c");
  const t = Float64Array.from(samples, (s) => s[0]! * 1000);
  const v = Float64Array.from(samples, (s) => s[1]!);
  const r = anomalyKernel.step(st, { channel: "c", seq0: 0, t, v });
  return { seen: r.seen, score: r.score[samples.length - 1]! };
}

let prom: StartedProcess | undefined;

test.before(async () => {
  if (!havePrometheus) return;
  prom = await startPrometheusTakingWrites();
  const pushed = await remoteWrite(prom.url, {
    timeseries: [
      { labels: GAUGE, samples: PAST.map((t) => ({ timestamp: t, value: gaugeAt(t) })) },
      { labels: COUNTER, samples: PAST.map((t, k) => ({ timestamp: t, value: counterAt(k) })) },
    ],
  });
  assert.ok(pushed.ok, `${pushed.status} ${await pushed.text()}`);
});

test.after(async () => {
  await prom?.stop();
});

withProm(
  "a new series' history is journaled before its first live sample and warms the detector",
  async () => {
    const window = 240 * STEP;
    const r = await receiver({
      history_url: `${prom!.url}/`,
      history_window_ms: window,
      history_step_ms: STEP,
    });
    try {
      const live = await remoteWrite(r.url, {
        timeseries: [
          { labels: GAUGE, samples: [{ timestamp: LIVE, value: 20.5 }] },
          { labels: COUNTER, samples: [{ timestamp: LIVE, value: 500 }] },
        ],
      });
      assert.is(live.status, 204, await live.text());
      await r.flush();
      assert.equal(r.lines, []);
      // The points Prometheus evaluates: every step back from just before the first live sample,
      // each the latest pushed value at or before it.
      const end = LIVE - 1;
      const evals = Array.from({ length: 241 }, (_, k) => end - window + k * STEP);
      const latest = (e: number) => {
        let k = PAST.length - 1;
        while (PAST[k]! > e) k--;
        return k;
      };
      const gauge = r.samples("a_b-lab-room_temp_celsius");
      const want = evals.map((e) => [e, gaugeAt(PAST[latest(e)]!)]);
      assert.equal(gauge.slice(0, -1), want);
      assert.equal(gauge.at(-1), [LIVE, 20.5]);
      // The counter's rates, its reset read as Prometheus's rate() reads one.
      const rates = evals.slice(1).map((e, k) => {
        const prev = counterAt(latest(evals[k]!)), v = counterAt(latest(e));
        return [e, (v >= prev ? v - prev : v) / (STEP / 1000)];
      });
      assert.equal(r.samples("lab-lab_requests_total"), rates);
      assert.ok(rates.some(([, v]) => v === 10) && rates.some(([, v]) => v === 0));
      // One history message, published before the live samples', marked warm-up (its findings
      // are not published).
      assert.is(r.published.length, 2);
      assert.equal(r.ids.map(isWarmupId), [true, false], r.ids.join());
      assert.ok(r.published[0]!.every((s) => s.t < LIVE));
      assert.ok(r.published[1]!.every((s) => s.t === LIVE));
      assert.is(await r.metric("troupe_ingest_history_samples_total"), 241 + 240);
      // Warmed: the first live sample is past the detector's warm-up, and scored; without the
      // history it is the detector's first sample, in its warm-up.
      const warmed = lastScored(gauge);
      assert.is(warmed.seen, 242);
      assert.ok(warmed.seen > defaultAnomalyConfig.warmup_samples);
      assert.ok(warmed.score >= 0 && warmed.score <= 1, String(warmed.score));
      assert.is(lastScored([[LIVE, 20.5]]).seen, 1);
      // The series is not new on its next request: no second read.
      const next = await remoteWrite(r.url, {
        timeseries: [{ labels: GAUGE, samples: [{ timestamp: LIVE + STEP, value: 20.6 }] }],
      });
      assert.is(next.status, 204);
      await r.flush();
      assert.is(r.published.length, 3);
      assert.equal(r.published[2], [{
        channel: "a_b-lab-room_temp_celsius",
        t: LIVE + STEP,
        v: 20.6,
      }]);
    } finally {
      await r.close();
    }
  },
);

withProm("a series Prometheus does not have gets no history and no failure", async () => {
  const r = await receiver({ history_url: prom!.url, history_window_ms: 600_000 });
  try {
    const labels = L({ __name__: "never_stored", job: "lab" });
    const live = await remoteWrite(r.url, {
      timeseries: [{ labels, samples: [{ timestamp: LIVE, value: 1 }] }],
    });
    assert.is(live.status, 204);
    await r.flush();
    assert.equal(r.samples("lab-never_stored"), [[LIVE, 1]]);
    assert.equal(r.lines, []);
    assert.is(await r.metric('troupe_ingest_history_failures_total{reason="down"}'), 0);
  } finally {
    await r.close();
  }
});

/** A history URL that fails as `reason` says: the live samples go on, said once, counted. */
async function fallsBack(url: string, reason: string, why: RegExp, timeoutMs = 2000) {
  const r = await receiver({ history_url: url, history_timeout_ms: timeoutMs });
  try {
    const t0 = Date.now();
    const live = await remoteWrite(r.url, {
      timeseries: [
        { labels: GAUGE, samples: [{ timestamp: LIVE, value: 20.5 }] },
        {
          labels: COUNTER,
          samples: [{ timestamp: LIVE, value: 1 }, { timestamp: LIVE + STEP, value: 6 }],
        },
      ],
    });
    assert.is(live.status, 204, await live.text());
    assert.ok(Date.now() - t0 < timeoutMs + 3000, `answered after ${Date.now() - t0} ms`);
    await r.flush();
    assert.equal(r.samples("a_b-lab-room_temp_celsius"), [[LIVE, 20.5]]);
    assert.equal(r.samples("lab-lab_requests_total"), [[LIVE + STEP, 1]]);
    assert.is(r.lines.length, 1, r.lines.join("\n"));
    const line = r.lines[0]!;
    assert.ok(line.includes(`${url}/api/v1/query_range`), line);
    assert.ok(line.includes("for 2 of 2 new series"), line);
    assert.match(line, why);
    assert.is(await r.metric(`troupe_ingest_history_failures_total{reason="${reason}"}`), 2);
    assert.is(await r.metric("troupe_ingest_history_samples_total"), 0);
  } finally {
    await r.close();
  }
}

/** An HTTP server on a free loopback port answering as `handle` does. */
async function httpServer(handle: Parameters<typeof createServer>[1]): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const server: Server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

test("a history URL that is down: the live samples go on, one line names it and why", async () => {
  await fallsBack(`http://127.0.0.1:${await freePort()}`, "down", /cannot reach it: \S+/);
});

test("a history URL that does not answer in time: the request goes on after the timeout", async () => {
  const slow = await httpServer(() => {}); // takes the request, never answers
  try {
    await fallsBack(
      slow.url,
      "timeout",
      /no answer within 400 ms \(setting history_timeout_ms\)/,
      400,
    );
  } finally {
    await slow.close();
  }
});

test("a history URL that answers garbage: said, with what it answered", async () => {
  const html = await httpServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>login required</html>");
  });
  const wrong = await httpServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
  });
  const failing = await httpServer((req, res) => {
    req.resume();
    res.writeHead(503);
    res.end("overloaded");
  });
  try {
    await fallsBack(html.url, "garbage", /the answer is not JSON: "<html>login required<\/html>"/);
    await fallsBack(wrong.url, "garbage", /not a query_range success with a matrix/);
    await fallsBack(failing.url, "status", /HTTP 503: "overloaded"/);
  } finally {
    await html.close();
    await wrong.close();
    await failing.close();
  }
});

test("a later request with samples of a series whose history is being read waits for it: the past, then the live samples in order", async () => {
  const metric = Object.fromEntries(GAUGE.map((l) => [l.name, l.value]));
  const values = [[(LIVE - 10_000) / 1000, "20"], [(LIVE - 5000) / 1000, "21"]];
  const slow = await httpServer((req, res) => {
    req.resume();
    setTimeout(() => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({
        status: "success",
        data: { resultType: "matrix", result: [{ metric, values }] },
      }));
    }, 500);
  });
  const r = await receiver({ history_url: slow.url });
  try {
    const first = remoteWrite(r.url, {
      timeseries: [{ labels: GAUGE, samples: [{ timestamp: LIVE, value: 22 }] }],
    });
    await new Promise((res) => setTimeout(res, 100)); // the first request is reading
    const second = await remoteWrite(r.url, {
      timeseries: [{ labels: GAUGE, samples: [{ timestamp: LIVE + STEP, value: 23 }] }],
    });
    assert.is(second.status, 204);
    assert.is((await first).status, 204);
    await r.flush();
    assert.equal(r.samples("a_b-lab-room_temp_celsius"), [
      [LIVE - 10_000, 20],
      [LIVE - 5000, 21],
      [LIVE, 22],
      [LIVE + STEP, 23],
    ]);
    assert.equal(r.lines, []);
  } finally {
    await r.close();
    await slow.close();
  }
});

test("history settings are checked: a URL, and points a range query answers", () => {
  assert.throws(
    () => parseIngestSettings({ history_url: "prometheus:9090" }),
    /remote_write.history_url must be an http\(s\) URL without a query, .*got "prometheus:9090"/,
  );
  assert.throws(
    () => parseIngestSettings({ history_url: "http://p:9090", history_step_ms: 5000 }),
    /history_window_ms \(86400000\) over history_step_ms \(5000\) is 17280 points, over the 11000/,
  );
  const s = parseIngestSettings({ history_url: "http://p:9090/prom/" });
  assert.is(s.historyUrl, "http://p:9090/prom");
  assert.is(s.historyStepMs, 15_000);
});

test.run();
