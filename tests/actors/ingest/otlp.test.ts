import { suite } from "uvu";
import * as assert from "uvu/assert";
import { gzipSync } from "node:zlib";
import { IngestServer, parseIngestSettings } from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { decodeFeedBatch } from "../../../protocol/mod.ts";
import { decodeOtlpMetrics, encodeOtlpMetrics } from "../../../protocol/prometheus/mod.ts";

const test = suite("otlp");

const NS = 1_700_000_000_000 * 1e6;
const resource = [{ name: "service.name", value: "api" }, {
  name: "service.instance.id",
  value: "i-1",
}];

async function receiver() {
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
  const server = new IngestServer(parseIngestSettings({ port: 0 }), { bus, durable: false });
  await server.start();
  const post = async (body: Uint8Array, headers: Record<string, string>) => {
    const r = await fetch(`http://127.0.0.1:${server.port}/v1/metrics`, {
      method: "POST",
      body: body as Uint8Array<ArrayBuffer>,
      headers,
    });
    return { status: r.status, text: await r.text() };
  };
  return { samples, post, close: () => server.stop() };
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

test.run();
