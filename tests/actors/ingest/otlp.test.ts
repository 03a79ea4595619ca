import { suite } from "uvu";
import * as assert from "uvu/assert";
import { gzipSync } from "node:zlib";
import { IngestServer, parseIngestSettings } from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { decodeFeedBatch } from "../../../protocol/mod.ts";
import {
  decodeOtlpMetrics,
  decodeOtlpMetricsResponse,
  encodeOtlpMetrics,
  encodeWriteRequest,
  snappyCompress,
} from "../../../protocol/prometheus/mod.ts";
import { exposedValue } from "../../_support/prometheus.ts";

const test = suite("otlp");

const NS = 1_700_000_000_000 * 1e6;
const resource = [{ name: "service.name", value: "api" }, {
  name: "service.instance.id",
  value: "i-1",
}];

async function receiver(settings: Record<string, unknown> = {}) {
  const bus = new InProcessBus();
  const samples = new Map<string, Array<[number, number]>>();
  bus.subscribe("troupe.feed.prom", (msg) => {
    const { batch } = decodeFeedBatch(msg.data);
    let at = 0;
    batch.channels.forEach((c, i) => {
      const list = samples.get(c) ?? [];
      for (let k = at; k < at + batch.n[i]!; k++) list.push([batch.t[k]! / 1000, batch.v[k]!]);
      samples.set(c, list);
      at += batch.n[i]!;
    });
  });
  const server = new IngestServer(parseIngestSettings({ port: 0, ...settings }), {
    bus,
    durable: false,
  });
  await server.start();
  const post = async (body: Uint8Array, headers: Record<string, string>) => {
    const r = await fetch(`http://127.0.0.1:${server.port}/v1/metrics`, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers,
    });
    return { status: r.status, text: await r.text(), url: r.url };
  };
  const metric = async (line: string) => {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    return exposedValue(text, line);
  };
  /** Posts `body` as protobuf; the status and the ExportMetricsServiceResponse decoded. */
  const export_ = async (body: Uint8Array) => {
    const r = await fetch(`http://127.0.0.1:${server.port}/v1/metrics`, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "application/x-protobuf" },
    });
    const bytes = new Uint8Array(await r.arrayBuffer());
    assert.is(r.headers.get("content-type"), "application/x-protobuf");
    return { status: r.status, partial: decodeOtlpMetricsResponse(bytes) };
  };
  return { samples, post, export_, metric, close: () => server.stop() };
}

test("decodeOtlpMetrics() reads back what encodeOtlpMetrics() wrote, labels named as Prometheus names them", () => {
  const bytes = encodeOtlpMetrics(resource, [
    {
      name: "queue_depth",
      kind: "gauge",
      points: [{ attrs: [{ name: "q", value: "a" }], timeNs: NS, value: 3 }],
    },
  ]);
  const { points } = decodeOtlpMetrics(bytes);
  assert.equal(points, [{
    labels: [
      { name: "__name__", value: "queue_depth" },
      { name: "job", value: "api" },
      { name: "instance", value: "i-1" },
      { name: "q", value: "a" },
    ],
    t: 1_700_000_000_000,
    value: 3,
    counter: false,
  }]);
});

test("POST /v1/metrics takes protobuf (gzip too): gauges pass, monotonic sums become rates, delta sums rates over their interval", async () => {
  const r = await receiver();
  try {
    const req = (k: number) =>
      encodeOtlpMetrics(resource, [
        { name: "queue_depth", kind: "gauge", points: [{ timeNs: NS + k * 1e10, value: 5 + k }] },
        {
          name: "requests",
          kind: "sum",
          monotonic: true,
          temporality: 2,
          points: [{ timeNs: NS + k * 1e10, value: 100 + 50 * k }],
        },
        {
          name: "errors",
          kind: "sum",
          monotonic: true,
          temporality: 1,
          points: [{ startNs: NS + (k - 1) * 1e10, timeNs: NS + k * 1e10, value: 20 }],
        },
      ]);
    const a = await r.post(req(0), { "content-type": "application/x-protobuf" });
    assert.is(a.status, 200, a.text);
    const b = await r.post(gzipSync(req(1)), {
      "content-type": "application/x-protobuf",
      "content-encoding": "gzip",
    });
    assert.is(b.status, 200, b.text);
    const t0 = 1_700_000_000_000;
    assert.equal(r.samples.get("i-1-api-queue_depth"), [[t0, 5], [t0 + 10_000, 6]]);
    assert.equal(r.samples.get("i-1-api-requests"), [[t0 + 10_000, 5]]);
    assert.equal(r.samples.get("i-1-api-errors"), [[t0, 2], [t0 + 10_000, 2]]);
  } finally {
    await r.close();
  }
});

test("POST /v1/metrics takes OTLP JSON, and refuses JSON that is not, naming it", async () => {
  const r = await receiver();
  try {
    const body = JSON.stringify({
      resourceMetrics: [{
        resource: { attributes: [{ key: "service.name", value: { stringValue: "web" } }] },
        scopeMetrics: [{
          metrics: [{
            name: "temperature_celsius",
            gauge: { dataPoints: [{ timeUnixNano: String(NS), asDouble: 21.5 }] },
          }],
        }],
      }],
    });
    const ok = await r.post(new TextEncoder().encode(body), { "content-type": "application/json" });
    assert.is(ok.status, 200, ok.text);
    assert.is(ok.text, "{}");
    assert.equal(r.samples.get("web-temperature_celsius"), [[1_700_000_000_000, 21.5]]);
    const bad = await r.post(new TextEncoder().encode('{"resourceMetrics": 5}'), {
      "content-type": "application/json",
    });
    assert.is(bad.status, 400);
    assert.match(bad.text, /resourceMetrics must be an array/);
  } finally {
    await r.close();
  }
});

test("histograms, exponential histograms and summaries are taken as their _count and _sum, rates when cumulative", async () => {
  const r = await receiver();
  try {
    const req = (k: number) =>
      encodeOtlpMetrics(resource, [
        {
          name: "latency_seconds",
          kind: "histogram",
          temporality: 2,
          points: [{ timeNs: NS + k * 1e10, value: 100 + 40 * k, sum: 5 + 2 * k }],
        },
        {
          name: "size_bytes",
          kind: "exponentialHistogram",
          temporality: 1,
          points: [{ startNs: NS + (k - 1) * 1e10, timeNs: NS + k * 1e10, value: 30, sum: 600 }],
        },
        {
          name: "rpc_seconds",
          kind: "summary",
          points: [{ attrs: [{ name: "m", value: "get" }], timeNs: NS + k * 1e10, value: 10 * k }],
        },
      ]);
    for (const k of [0, 1]) {
      const a = await r.export_(req(k));
      assert.is(a.status, 200);
      assert.is(a.partial, undefined, JSON.stringify(a.partial));
    }
    const t0 = 1_700_000_000_000;
    assert.equal(r.samples.get("i-1-api-latency_seconds_count"), [[t0 + 10_000, 4]]);
    assert.equal(r.samples.get("i-1-api-latency_seconds_sum"), [[t0 + 10_000, 0.2]]);
    assert.equal(r.samples.get("i-1-api-size_bytes_count"), [[t0, 3], [t0 + 10_000, 3]]);
    assert.equal(r.samples.get("i-1-api-size_bytes_sum"), [[t0, 60], [t0 + 10_000, 60]]);
    // A summary is cumulative; this one has no sum.
    assert.equal(r.samples.get("i-1-api-get-rpc_seconds_count"), [[t0 + 10_000, 1]]);
    assert.is(r.samples.get("i-1-api-get-rpc_seconds_sum"), undefined);
    assert.is(await r.metric('troupe_ingest_samples_total{api="otlp",outcome="journaled"}'), 7);
  } finally {
    await r.close();
  }
});

test("a request kept in part is answered 200 with OTLP's partial success naming what was not kept, and counted", async () => {
  const r = await receiver();
  try {
    const body = encodeOtlpMetrics(resource, [
      { name: "fine_gauge", kind: "gauge", points: [{ timeNs: NS, value: 1 }] },
      { name: "nan_gauge", kind: "gauge", points: [{ timeNs: NS, value: NaN }] },
      { name: "far_gauge", kind: "gauge", points: [{ timeNs: 4_200_000_000_000 * 1e6, value: 2 }] },
    ]);
    const a = await r.export_(body);
    assert.is(a.status, 200);
    assert.is(a.partial?.rejectedDataPoints, 2);
    assert.match(
      a.partial!.errorMessage,
      "2 of the request's data points not kept (1 samples journaled)",
    );
    assert.match(a.partial!.errorMessage, /nan_gauge.*value must be finite, got NaN/);
    assert.match(
      a.partial!.errorMessage,
      /far_gauge.*timestamp 4200000000000 ms .* is past 2100-01-01/,
    );
    assert.equal(r.samples.get("i-1-api-fine_gauge"), [[1_700_000_000_000, 1]]);
    assert.is(await r.metric('troupe_ingest_partial_success_total{api="otlp"}'), 1);
    assert.is(await r.metric('troupe_ingest_rejected_points_total{api="otlp"}'), 2);
    // In JSON the same answer, in OTLP's JSON mapping.
    const json = await r.post(
      new TextEncoder().encode(JSON.stringify({
        resourceMetrics: [{
          scopeMetrics: [{
            metrics: [{
              name: "j",
              gauge: { dataPoints: [{ timeUnixNano: "-5000000000", asDouble: 1 }] },
            }],
          }],
        }],
      })),
      { "content-type": "application/json" },
    );
    assert.is(json.status, 200);
    const got = JSON.parse(json.text);
    assert.is(got.partialSuccess.rejectedDataPoints, "1");
    assert.match(got.partialSuccess.errorMessage, /before 1970-01-01/);
  } finally {
    await r.close();
  }
});

test("when match drops every point, the answer says so: a partial success, not an empty 200", async () => {
  const r = await receiver({ match: ['{job="other"}'] });
  try {
    const a = await r.export_(
      encodeOtlpMetrics(resource, [
        {
          name: "g",
          kind: "gauge",
          points: [{ timeNs: NS, value: 1 }, { timeNs: NS + 1e9, value: 2 }],
        },
      ]),
    );
    assert.is(a.status, 200);
    assert.is(a.partial?.rejectedDataPoints, 2);
    assert.match(
      a.partial!.errorMessage,
      "2 data points matched none of the receiver's match selectors",
    );
    assert.is(r.samples.size, 0);
  } finally {
    await r.close();
  }
});

test("a body in an encoding the endpoint does not read is 415, not read as plain, and counted", async () => {
  const r = await receiver();
  try {
    const write = snappyCompress(encodeWriteRequest({
      timeseries: [{
        labels: [{ name: "__name__", value: "up" }],
        samples: [{ value: 1, timestamp: 1_700_000_000_000 }],
      }],
    }));
    const url = (await r.post(new Uint8Array(), {})).url;
    const gz = await fetch(url.replace("/v1/metrics", "/api/v1/write"), {
      method: "POST",
      body: write as Uint8Array<ArrayBuffer>,
      headers: { "content-encoding": "gzip" },
    });
    assert.is(gz.status, 415);
    assert.match(
      await gz.text(),
      'Unsupported Content-Encoding "gzip": this endpoint takes snappy',
    );
    assert.is(r.samples.size, 0);
    const br = await r.post(encodeOtlpMetrics(resource, []), { "content-encoding": "br" });
    assert.is(br.status, 415);
    assert.match(br.text, 'Unsupported Content-Encoding "br": this endpoint takes gzip or none');
    assert.is(await r.metric('troupe_ingest_requests_total{api="remote_write",code="415"}'), 1);
    assert.is(await r.metric('troupe_ingest_requests_total{api="otlp",code="415"}'), 1);
  } finally {
    await r.close();
  }
});

test.run();
