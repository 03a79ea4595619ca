import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type ChannelLabelsBook,
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import {
  decodeFeedBatch,
  decodeIncidentControl,
  incidentStaleSubject,
} from "../../../protocol/mod.ts";
import {
  encodeWriteRequest,
  isStaleMarkerAt,
  type Label,
  snappyCompress,
  type WriteRequest,
} from "../../../protocol/prometheus/mod.ts";
import { exposedValue } from "../../_support/prometheus.ts";

const test = suite("ingest server");

const T0 = 1_700_000_000_000;
const L = (o: Record<string, string>): Label[] =>
  Object.entries(o).map(([name, value]) => ({ name, value }));
const good = (name: string, value = 1, t = T0) => ({
  labels: L({ __name__: name, job: "api" }),
  samples: [{ value, timestamp: t }],
});

/** A receiver on an in-process bus, with every batch it publishes decoded. */
async function receiver(
  settings: Record<string, unknown> = {},
  book: (inner: ChannelLabelsBook) => ChannelLabelsBook = (inner) => inner,
  options: { bus?: InProcessBus; now?: () => number } = {},
) {
  const bus = options.bus ?? new InProcessBus();
  const controls: ReturnType<typeof decodeIncidentControl>[] = [];
  bus.subscribe(incidentStaleSubject(), (m) => controls.push(decodeIncidentControl(m.data)));
  const labels = book(await openChannelLabels(bus, { read: true }));
  const samples = new Map<string, Array<[number, number, boolean]>>();
  bus.subscribe("troupe.feed.prom", (msg) => {
    const { batch } = decodeFeedBatch(msg.data);
    let at = 0;
    batch.channels.forEach((c, i) => {
      const list = samples.get(c) ?? [];
      for (let k = at; k < at + batch.n[i]!; k++) {
        list.push([batch.t[k]! / 1000, batch.v[k]!, isStaleMarkerAt(batch.v, k)]);
      }
      samples.set(c, list);
      at += batch.n[i]!;
    });
  });
  const server = new IngestServer(parseIngestSettings({ port: 0, ...settings }), {
    bus,
    durable: false,
    labels,
    now: options.now,
  });
  await server.start();
  const url = `http://127.0.0.1:${server.port}`;
  const post = async (body: Uint8Array, headers: Record<string, string> = {}) => {
    const r = await fetch(`${url}/api/v1/write`, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers,
    });
    return { status: r.status, text: await r.text() };
  };
  const write = (req: WriteRequest, headers: Record<string, string> = {}) =>
    post(snappyCompress(encodeWriteRequest(req)), headers);
  const metric = async (line: string, headers: Record<string, string> = {}) => {
    const text = await (await fetch(`${url}/metrics`, { headers })).text();
    return exposedValue(text, line);
  };
  /** The receiver still takes a good request. */
  const serving = async () => {
    const r = await write({ timeseries: [good("still_up", 1, T0 + Math.random() * 1e6)] });
    assert.is(r.status, 204, r.text);
  };
  return {
    server,
    samples,
    controls,
    labels,
    post,
    write,
    metric,
    serving,
    close: () => server.stop(),
  };
}

test("a good request is journaled and answered 204; gauges pass, counters become rates with resets", async () => {
  const r = await receiver();
  try {
    const counter = (value: number, t: number) => ({
      labels: L({ __name__: "http_requests_total", job: "api" }),
      samples: [{ value, timestamp: t }],
    });
    assert.is(
      (await r.write({ timeseries: [good("temp_celsius", 21.5), counter(100, T0)] })).status,
      204,
    );
    assert.is((await r.write({ timeseries: [counter(160, T0 + 15_000)] })).status, 204);
    assert.is((await r.write({ timeseries: [counter(30, T0 + 30_000)] })).status, 204); // a reset
    assert.equal(r.samples.get("api-temp_celsius"), [[T0, 21.5, false]]);
    assert.equal(r.samples.get("api-http_requests_total"), [
      [T0 + 15_000, 4, false],
      [T0 + 30_000, 2, false],
    ]);
  } finally {
    await r.close();
  }
});

test("a series admitted as a gauge becomes a rate from its next sample once metadata types it a counter", async () => {
  const r = await receiver();
  try {
    const sent = (value: number, t: number) => ({
      labels: L({ __name__: "jobs_done", job: "api" }),
      samples: [{ value, timestamp: t }],
    });
    const typed = (
      type: "counter" | "gauge",
    ) => [{ type, family: "jobs_done", help: "", unit: "" }];
    assert.is((await r.write({ timeseries: [sent(100, T0)] })).status, 204);
    assert.is((await r.write({ timeseries: [sent(130, T0 + 10_000)] })).status, 204);
    // Metadata comes apart from the samples (Prometheus sends it on its own interval).
    assert.is((await r.write({ timeseries: [], metadata: typed("counter") })).status, 204);
    assert.is((await r.write({ timeseries: [sent(190, T0 + 20_000)] })).status, 204);
    assert.is((await r.write({ timeseries: [sent(10, T0 + 30_000)] })).status, 204); // a reset
    assert.is((await r.write({ timeseries: [], metadata: typed("gauge") })).status, 204);
    assert.is((await r.write({ timeseries: [sent(42, T0 + 40_000)] })).status, 204);
    assert.equal(r.samples.get("api-jobs_done"), [
      [T0, 100, false],
      [T0 + 10_000, 130, false],
      [T0 + 20_000, 6, false],
      [T0 + 30_000, 1, false],
      [T0 + 40_000, 42, false],
    ]);
  } finally {
    await r.close();
  }
});

test("duplicates and out-of-order samples are dropped and counted; the stale marker passes bit for bit", async () => {
  const r = await receiver();
  try {
    await r.write({ timeseries: [good("g", 1, T0 + 1000)] });
    await r.write({ timeseries: [good("g", 2, T0 + 1000), good("g", 3, T0)] });
    const stale = {
      labels: L({ __name__: "g", job: "api" }),
      samples: [{ value: NaN, timestamp: T0 + 2000, stale: true }],
    };
    assert.is((await r.write({ timeseries: [stale] })).status, 204);
    const got = r.samples.get("api-g")!;
    assert.equal(got.map(([t]) => t), [T0 + 1000, T0 + 2000]);
    assert.ok(got[1]![2], "the stale marker's bits");
    // The incident stage is told, at the marker's time, once the marker is journaled.
    assert.equal(r.controls.map((c) => [c.control, c.envelope.ts]), [
      [{ type: "stale", session: "remote-write", channels: ["api-g"] }, (T0 + 2000) * 1000],
    ]);
    // The channel's source labels, as the alert sender reads them.
    assert.equal(r.labels.get("api-g"), L({ __name__: "g", job: "api" }));
    assert.is(
      await r.metric('troupe_ingest_samples_total{api="remote_write",outcome="out_of_order"}'),
      2,
    );
  } finally {
    await r.close();
  }
});

test("each new channel's labels are written once, however many requests overlap; a failed write is retried", async () => {
  const puts = new Map<string, number>();
  let failFirst = true;
  const r = await receiver({}, (inner) => ({
    ...inner,
    get: (c) => inner.get(c),
    put: async (channel, labels) => {
      puts.set(channel, (puts.get(channel) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 2)); // writes overlap the next requests
      if (channel === "api-s0_0" && failFirst) {
        failFirst = false;
        throw new Error("the bucket refused it");
      }
      await inner.put(channel, labels);
    },
  }));
  try {
    const series = (k: number) =>
      Array.from({ length: 200 }, (_, i) => good(`s${k}_${i}`, 1, T0 + 1000));
    const answers = await Promise.all([0, 1, 2, 3].map((k) => r.write({ timeseries: series(k) })));
    assert.equal(answers.map((a) => a.status), [204, 204, 204, 204]);
    assert.is(await r.metric("troupe_ingest_channel_labels_failures_total"), 1);
    // Each request wrote its own 200 channels once, none of another's; the failed one is owed
    // and retried with a later request.
    assert.is(puts.size, 800);
    const twice = [...puts].filter(([c, n]) => n !== 1 && c !== "api-s0_0");
    assert.equal(twice, [], "no label written twice");
    await r.serving();
    for (let i = 0; i < 50 && r.labels.get("api-s0_0") === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(r.labels.get("api-s0_0"), L({ __name__: "s0_0", job: "api" }));
    assert.is(puts.get("api-s0_0"), 2);
  } finally {
    await r.close();
  }
});

test("match rules choose the series; the others are dropped and counted", async () => {
  const r = await receiver({ match: ['{__name__=~"http_.*"}'] });
  try {
    const res = await r.write({
      timeseries: [good("http_latency_seconds"), good("go_goroutines")],
    });
    assert.is(res.status, 204);
    assert.equal([...r.samples.keys()], ["api-http_latency_seconds"]);
    assert.is(
      await r.metric('troupe_ingest_samples_total{api="remote_write",outcome="unmatched"}'),
      1,
    );
  } finally {
    await r.close();
  }
});

test("the exporters' own instrumentation is not watched unless a selector names it by metric", async () => {
  const names = [
    "http_latency_seconds",
    "node_load1",
    "go_goroutines",
    "process_cpu_seconds_total",
    "promhttp_metric_handler_requests_total",
    "scrape_duration_seconds",
    "node_scrape_collector_duration_seconds",
  ];
  const cases: Array<[string[] | undefined, string[]]> = [
    [undefined, ["api-http_latency_seconds", "api-node_load1"]],
    [['{job="api"}'], ["api-http_latency_seconds", "api-node_load1"]],
    [['{__name__=~"go_.*|node_load1"}'], ["api-node_load1", "api-go_goroutines"]],
  ];
  for (const [match, taken] of cases) {
    const r = await receiver(match ? { match } : {});
    try {
      const res = await r.write({ timeseries: names.map((n) => good(n)) });
      assert.is(res.status, 204);
      assert.equal([...r.samples.keys()], taken, `match ${JSON.stringify(match)}`);
      assert.is(
        await r.metric('troupe_ingest_samples_total{api="remote_write",outcome="unmatched"}'),
        names.length - taken.length,
      );
    } finally {
      await r.close();
    }
  }
});

test("the node preset, the default, watches node exporter's indicators only; a selector naming a metric adds it; none takes all", async () => {
  // Two samples each: a counter's first sample starts its rate and is not sent on.
  const two = [{ value: 1, timestamp: T0 }, { value: 2, timestamp: T0 + 5000 }];
  const cpu = (mode: string) => ({
    labels: L({ __name__: "node_cpu_seconds_total", cpu: "0", job: "api", mode }),
    samples: two,
  });
  const gauge = (name: string) => ({ ...good(name), samples: two });
  const series = [
    gauge("node_load1"),
    gauge("node_load5"),
    gauge("node_memory_MemAvailable_bytes"),
    gauge("node_memory_Cached_bytes"),
    gauge("node_sockstat_TCP_inuse"),
    gauge("http_latency_seconds"),
    cpu("user"),
    cpu("idle"),
  ];
  const indicators = [
    "api-node_load1",
    "api-node_memory_MemAvailable_bytes",
    "api-http_latency_seconds",
    "0-api-user-node_cpu_seconds_total",
  ];
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [{}, indicators],
    [{ preset: "none" }, [
      "api-node_load1",
      "api-node_load5",
      "api-node_memory_MemAvailable_bytes",
      "api-node_memory_Cached_bytes",
      "api-node_sockstat_TCP_inuse",
      "api-http_latency_seconds",
      "0-api-user-node_cpu_seconds_total",
      "0-api-idle-node_cpu_seconds_total",
    ]],
    [{ preset: "node" }, indicators],
    [{ preset: "node", match: ['{job="api"}', '{__name__="node_sockstat_TCP_inuse"}'] }, [
      "api-node_load1",
      "api-node_memory_MemAvailable_bytes",
      "api-node_sockstat_TCP_inuse",
      "api-http_latency_seconds",
      "0-api-user-node_cpu_seconds_total",
    ]],
  ];
  for (const [settings, taken] of cases) {
    const r = await receiver(settings);
    try {
      const res = await r.write({ timeseries: series });
      assert.is(res.status, 204);
      assert.equal([...r.samples.keys()], taken, JSON.stringify(settings));
      assert.is(
        await r.metric('troupe_ingest_samples_total{api="remote_write",outcome="unmatched"}'),
        2 * (series.length - taken.length),
      );
    } finally {
      await r.close();
    }
  }
  assert.throws(
    () => parseIngestSettings({ preset: "node-exporter" }),
    (err: Error) =>
      err.message === 'remote_write.preset must be one of "node", "none", got "node-exporter"',
  );
});

test("a body that is not snappy, or snappy that is not protobuf, is 400 naming it", async () => {
  const r = await receiver();
  try {
    const a = await r.post(new TextEncoder().encode("hello, I am plain text and not snappy"));
    assert.is(a.status, 400);
    assert.match(a.text, /Cannot decompress the body/);
    const b = await r.post(snappyCompress(new TextEncoder().encode("plain text, not protobuf")));
    assert.is(b.status, 400);
    assert.match(b.text, /Cannot decode (WriteRequest|timeseries|metadata)/);
    await r.serving();
  } finally {
    await r.close();
  }
});

test("a snappy bomb is refused by its claimed length before anything is allocated", async () => {
  const r = await receiver({ body_bytes_max: 1 << 20 });
  try {
    const bomb = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00]);
    const res = await r.post(bomb);
    assert.is(res.status, 400);
    assert.match(res.text, /claims 4294967295 bytes, over the limit of 1048576/);
    await r.serving();
  } finally {
    await r.close();
  }
});

test("a body over the size limit is 413 naming the setting", async () => {
  const r = await receiver({ body_bytes_max: 1000 });
  try {
    const res = await r.post(new Uint8Array(5000));
    assert.is(res.status, 413);
    assert.match(res.text, /5000 bytes, over the limit of 1000 \(setting body_bytes_max\)/);
    await r.serving();
  } finally {
    await r.close();
  }
});

test("a series of 1,000 labels and a label of 1 MiB are refused by name; the good series of the request are kept", async () => {
  const r = await receiver({ body_bytes_max: 4 << 20 });
  try {
    const many = Array.from({ length: 1000 }, (_, i) => ({ name: `l${i}`, value: "x" }));
    const res = await r.write({
      timeseries: [
        { labels: many, samples: [{ value: 1, timestamp: T0 }] },
        { labels: L({ __name__: "x".repeat(1 << 20) }), samples: [{ value: 1, timestamp: T0 }] },
        good("kept_bytes", 7),
      ],
    });
    assert.is(res.status, 400);
    assert.match(res.text, /timeseries\[0\]\.labels has 1000 labels, over the limit of 64/);
    assert.match(
      res.text,
      /timeseries\[1\]\.labels\[0\]\.value is 1048576 bytes, over the limit of 2048/,
    );
    assert.equal(r.samples.get("api-kept_bytes"), [[T0, 7, false]]);
    await r.serving();
  } finally {
    await r.close();
  }
});

test("a new series past the channel limit is refused and counted; known channels go on", async () => {
  const r = await receiver({ channels_max: 2 });
  try {
    assert.is((await r.write({ timeseries: [good("a"), good("b")] })).status, 204);
    const res = await r.write({ timeseries: [good("c", 1, T0 + 1), good("a", 2, T0 + 1)] });
    assert.is(res.status, 400);
    assert.match(res.text, /timeseries\[0\] would be a new channel past the limit of 2 channels/);
    assert.equal(r.samples.get("api-a"), [[T0, 1, false], [T0 + 1, 2, false]]);
    assert.is(r.samples.get("api-c"), undefined);
    assert.is(await r.metric("troupe_ingest_channels_refused_total"), 1);
  } finally {
    await r.close();
  }
});

test("NaN and infinite values are refused naming the sample; the request's good samples are kept", async () => {
  const r = await receiver();
  try {
    const res = await r.write({
      timeseries: [good("nan_value", NaN), good("inf_value", Infinity), good("fine_value", 3)],
    });
    assert.is(res.status, 400);
    assert.match(res.text, /timeseries\[0\]\.samples\[0\]\.value must be finite, got NaN/);
    assert.match(res.text, /timeseries\[1\]\.samples\[0\]\.value must be finite, got Infinity/);
    assert.equal(r.samples.get("api-fine_value"), [[T0, 3, false]]);
    await r.serving();
  } finally {
    await r.close();
  }
});

test("a wrong or missing token is 401 and counted; the right one is taken", async () => {
  const r = await receiver({ bearer_token: "s3cret" });
  try {
    const req = { timeseries: [good("authed")] };
    const wrong = await r.write(req, { authorization: "Bearer nope" });
    assert.is(wrong.status, 401);
    assert.match(wrong.text, /bearer token is wrong/);
    assert.is((await r.write(req)).status, 401);
    const token = { authorization: "Bearer s3cret" };
    assert.is(await r.metric('troupe_ingest_unauthorized_total{api="remote_write"}', token), 2);
    assert.is(r.samples.get("api-authed"), undefined);
    assert.is((await r.write(req, { authorization: "Bearer s3cret" })).status, 204);
    assert.equal(r.samples.get("api-authed"), [[T0, 1, false]]);
  } finally {
    await r.close();
  }
});

test("a sample before 1970 or past 2100 is refused with 400 naming its series and time; the rest of the request is kept", async () => {
  const r = await receiver();
  try {
    const res = await r.write({
      timeseries: [
        good("kept_one", 1, T0),
        {
          labels: L({ __name__: "year_3000", job: "api" }),
          samples: [{ value: 2, timestamp: 32503680000000 }],
        },
        {
          labels: L({ __name__: "before_1970", job: "api" }),
          samples: [{ value: 3, timestamp: -1000 }],
        },
        {
          labels: L({ __name__: "mixed", job: "api" }),
          samples: [{ value: 4, timestamp: T0 }, { value: 5, timestamp: Number.MAX_SAFE_INTEGER }],
        },
      ],
    });
    assert.is(res.status, 400, res.text);
    assert.match(res.text, /3 refused \(2 samples of the request journaled\)/);
    assert.match(
      res.text,
      'timeseries[1] year_3000{job="api"} sample 0: timestamp 32503680000000 ms ' +
        "(3000-01-01T00:00:00.000Z) is past 2100-01-01T00:00:00Z, the latest troupe takes",
    );
    assert.match(res.text, 'timeseries[2] before_1970{job="api"} sample 0: timestamp -1000 ms');
    assert.match(res.text, "is before 1970-01-01T00:00:00Z");
    assert.match(
      res.text,
      `timeseries[3] mixed{job="api"} sample 1: timestamp ${Number.MAX_SAFE_INTEGER} ms is past`,
    );
    // What is journaled is what a host's edge takes: every time within a frame's bounds.
    assert.equal(r.samples.get("api-kept_one"), [[T0, 1, false]]);
    assert.equal(r.samples.get("api-mixed"), [[T0, 4, false]]);
    assert.is(r.samples.get("api-year_3000"), undefined);
    assert.is(r.samples.get("api-before_1970"), undefined);
    assert.is(
      await r.metric('troupe_ingest_samples_total{api="remote_write",outcome="refused"}'),
      3,
    );
    // The series refused whole took no channel.
    assert.is(await r.metric("troupe_ingest_channels"), 2);
    assert.ok(!r.server.table.has("api-year_3000"));
  } finally {
    await r.close();
  }
});

test("a sample further ahead of the receiver's clock than future_ms_max is refused and does not block its series", async () => {
  const r = await receiver({}, undefined, { now: () => T0 });
  try {
    const ahead = await r.write({ timeseries: [good("clocked", 1, T0 + 86_400_000)] });
    assert.is(ahead.status, 400, ahead.text);
    assert.match(
      ahead.text,
      `timestamp ${T0 + 86_400_000} ms (2023-11-15T22:13:20.000Z) is more than 600000 ms ahead ` +
        "of the receiver's clock (2023-11-14T22:13:20.000Z; setting future_ms_max)",
    );
    // Within the grace period it is taken; the series goes on with its next samples.
    assert.is((await r.write({ timeseries: [good("clocked", 2, T0 - 1000)] })).status, 204);
    assert.is((await r.write({ timeseries: [good("clocked", 3, T0 + 300_000)] })).status, 204);
    assert.equal(r.samples.get("api-clocked"), [[T0 - 1000, 2, false], [T0 + 300_000, 3, false]]);
    assert.is(
      await r.metric('troupe_ingest_samples_total{api="remote_write",outcome="out_of_order"}'),
      0,
    );
  } finally {
    await r.close();
  }
  const strict = await receiver({ future_ms_max: 1000 }, undefined, { now: () => T0 });
  try {
    const res = await strict.write({ timeseries: [good("clocked", 1, T0 + 2000)] });
    assert.is(res.status, 400, res.text);
    assert.match(res.text, "more than 1000 ms ahead");
  } finally {
    await strict.close();
  }
});

test("a label value that is not UTF-8 is 400 naming it and counted; the request's good series are journaled once", async () => {
  const r = await receiver();
  try {
    const bytes = encodeWriteRequest({
      timeseries: [
        good("fine_series", 1, T0 + 1000),
        {
          labels: L({ __name__: "bad_label", path: "a-QQQ-b" }),
          samples: [{ value: 2, timestamp: T0 }],
        },
      ],
    });
    // "QQQ" made bytes that are no UTF-8 (a lone continuation byte, then two bytes UTF-8 never has).
    const at = bytes.findIndex((_, i) =>
      bytes[i] === 81 && bytes[i + 1] === 81 && bytes[i + 2] === 81
    );
    bytes.set([0x80, 0xfe, 0xff], at);
    const body = snappyCompress(bytes);
    const first = await r.post(body);
    assert.is(first.status, 400, first.text);
    assert.match(
      first.text,
      /Cannot decode timeseries\[1\]\.labels\[1\]\.value: a string is not UTF-8: "a-\ufffd\ufffd\ufffd-b"/,
    );
    assert.match(first.text, /1 samples of the request journaled/);
    assert.is(await r.metric('troupe_ingest_requests_total{api="remote_write",code="400"}'), 1);
    // Prometheus does not send a 4xx again; were it sent, its good sample is not taken twice.
    const again = await r.post(body);
    assert.is(again.status, 400, again.text);
    assert.equal(r.samples.get("api-fine_series"), [[T0 + 1000, 1, false]]);
    assert.is(await r.metric('troupe_ingest_requests_total{api="remote_write",code="400"}'), 2);
    await r.serving();
  } finally {
    await r.close();
  }
});

test("a series whose samples were all refused takes no channel: the limit holds for series that feed one", async () => {
  const r = await receiver({ channels_max: 2 });
  try {
    const nan = await r.write({ timeseries: [good("all_nan", NaN)] });
    assert.is(nan.status, 400);
    assert.is(await r.metric("troupe_ingest_channels"), 0);
    const res = await r.write({ timeseries: [good("b"), good("c")] });
    assert.is(res.status, 204, res.text);
    // It is admitted when it brings a sample it takes, if there is room then.
    const late = await r.write({ timeseries: [good("all_nan", 1, T0 + 1)] });
    assert.is(late.status, 400);
    assert.match(late.text, /would be a new channel past the limit of 2 channels/);
    assert.equal([...r.samples.keys()].sort(), ["api-b", "api-c"]);
    assert.is(r.labels.get("api-all_nan"), undefined, "no labels written for a channel not fed");
  } finally {
    await r.close();
  }
});

test("two label sets that make one channel name keep their names across a restart, whichever comes first", async () => {
  const bus = new InProcessBus();
  const sent = (a: string, value: number, t: number) => ({
    labels: L({ __name__: "m", a }),
    samples: [{ value, timestamp: t }],
  });
  const first = await receiver({}, undefined, { bus });
  let names: string[];
  try {
    assert.is((await first.write({ timeseries: [sent("x.y", 1, T0)] })).status, 204);
    assert.is((await first.write({ timeseries: [sent("x_y", 2, T0)] })).status, 204);
    names = [...first.samples.keys()];
    assert.is(names[0], "x_y-m");
    assert.match(names[1]!, /^x_y-[0-9a-f]{8}-m$/);
  } finally {
    await first.close();
  }
  // Restarted (the labels book, the record of the channels admitted, is kept), the other first.
  const second = await receiver({}, undefined, { bus });
  try {
    assert.is((await second.write({ timeseries: [sent("x_y", 20, T0 + 1000)] })).status, 204);
    assert.is((await second.write({ timeseries: [sent("x.y", 10, T0 + 1000)] })).status, 204);
    assert.equal(second.samples.get(names[0]!), [[T0 + 1000, 10, false]]);
    assert.equal(second.samples.get(names[1]!), [[T0 + 1000, 20, false]]);
    assert.is(second.samples.size, 2);
  } finally {
    await second.close();
  }
});

test("a restarted receiver counts the channels it admitted before under its limit", async () => {
  const bus = new InProcessBus();
  const first = await receiver({ channels_max: 2 }, undefined, { bus });
  try {
    assert.is((await first.write({ timeseries: [good("a"), good("b")] })).status, 204);
  } finally {
    await first.close();
  }
  let puts = 0;
  const second = await receiver({ channels_max: 2 }, (inner) => ({
    ...inner,
    put: (channel, labels) => {
      puts++;
      return inner.put(channel, labels);
    },
  }), { bus });
  try {
    assert.is(await second.metric("troupe_ingest_channels"), 2);
    const res = await second.write({ timeseries: [good("c", 1, T0 + 1)] });
    assert.is(res.status, 400, res.text);
    assert.match(res.text, /timeseries\[0\] would be a new channel past the limit of 2 channels/);
    assert.is((await second.write({ timeseries: [good("b", 2, T0 + 1)] })).status, 204);
    assert.equal(second.samples.get("api-b"), [[T0 + 1, 2, false]]);
    assert.is(second.samples.get("api-c"), undefined);
    assert.is(puts, 0, "a channel of the record has its labels there: none written again");
  } finally {
    await second.close();
  }
});

test.run();
