/**
 * Native histograms in a remote write request are refused by name, with a 400 that Prometheus
 * logs, and counted; the request's float samples are journaled all the same, so a 204 always means
 * every sample was kept.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../../../actors/ingest/mod.ts";
import { ensureFeedStream, InProcessBus, NatsBus } from "../../../actors/runtime/mod.ts";
import { haveNatsServer, startTestNats } from "../../_support/nats.ts";
import { decodeFeedBatch } from "../../../protocol/mod.ts";
import {
  decodeWriteRequest,
  encodeWriteRequest,
  snappyCompress,
} from "../../../protocol/prometheus/mod.ts";

const test = suite("native histograms");

const T0 = 1_700_000_000_000;

/** A protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field `field` holding `body`. */
const lenField = (
  field: number,
  body: number[],
) => [(field << 3) | 2, ...varint(body.length), ...body];
const text = (s: string) => [...new TextEncoder().encode(s)];
const label = (name: string, value: string) =>
  lenField(1, [...lenField(1, text(name)), ...lenField(2, text(value))]);

/**
 * A TimeSeries of `name{job="api"}` holding one native histogram (types.proto's Histogram:
 * count_int = 1, sum = 3, timestamp = 15) of 4 observations summing 2.5.
 */
function histogramSeries(name: string): number[] {
  const sum = new Uint8Array(new Float64Array([2.5]).buffer);
  const histogram = [(1 << 3) | 0, 4, (3 << 3) | 1, ...sum, (15 << 3) | 0, ...varint(T0)];
  return [...label("__name__", name), ...label("job", "api"), ...lenField(4, histogram)];
}

/** A WriteRequest of one float series and one native-histogram series. */
function mixedRequest(): Uint8Array {
  const floats = encodeWriteRequest({
    timeseries: [{
      labels: [{ name: "__name__", value: "temp_celsius" }, { name: "job", value: "api" }],
      samples: [{ value: 21.5, timestamp: T0 }],
    }],
  });
  return new Uint8Array([...floats, ...lenField(1, histogramSeries("rpc_duration_seconds"))]);
}

test("the decoder counts a request's native histogram samples and names their first series", () => {
  const cols = decodeWriteRequest(mixedRequest());
  assert.is(cols.series, 2);
  assert.is(cols.histograms, 1);
  assert.is(cols.histogramSeries, 1);
  assert.is(cols.exemplars, 0);
});

test("a request with native histograms is 400 naming them; its float samples are journaled and counted", async () => {
  const bus = new InProcessBus();
  const fed: string[] = [];
  bus.subscribe("troupe.feed.prom", (m) => fed.push(...decodeFeedBatch(m.data).batch.channels));
  const labels = await openChannelLabels(bus, { read: true });
  const server = new IngestServer(parseIngestSettings({ port: 0 }), {
    bus,
    durable: false,
    labels,
  });
  await server.start();
  try {
    const url = `http://127.0.0.1:${server.port}`;
    const res = await fetch(`${url}/api/v1/write`, {
      method: "POST",
      body: snappyCompress(mixedRequest()) as Uint8Array<ArrayBuffer>,
    });
    const answer = await res.text();
    assert.is(res.status, 400, answer);
    assert.match(answer, /1 refused \(1 samples of the request journaled\)/);
    assert.match(answer, /1 native histogram samples \(the first in timeseries\[1\] /);
    assert.match(answer, /rpc_duration_seconds\{job="api"\}/);
    assert.match(answer, /send_native_histograms: false/);
    assert.equal(fed, ["api-temp_celsius"]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(
      metrics,
      /troupe_ingest_samples_total\{api="remote_write",outcome="native_histogram"\} 1\n/,
    );
  } finally {
    await server.stop();
  }
});

if (haveNatsServer("native histograms")) {
  test("the refusal names its own series while other requests are decoded during its journaling", async () => {
    // Requests in flight at once on a durable feed stream: each awaits the stream's answer, and
    // meanwhile the receiver decodes the others (into the buffer it keeps for every body). The
    // histogram's series is named from the request's own labels, not from what came after.
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url, { name: "test-native-histograms" });
    await ensureFeedStream(bus.nc, {});
    const labels = await openChannelLabels(bus, { read: "start" });
    const server = new IngestServer(parseIngestSettings({ port: 0 }), {
      bus,
      durable: true,
      labels,
    });
    await server.start();
    try {
      const url = `http://127.0.0.1:${server.port}/api/v1/write`;
      const others = (k: number) =>
        encodeWriteRequest({
          timeseries: Array.from({ length: 40 }, (_, i) => ({
            labels: [
              { name: "__name__", value: `other_metric_with_a_longer_name_${i}` },
              { name: "job", value: `web-${k}` },
            ],
            samples: [{ value: i, timestamp: T0 + k }],
          })),
        });
      for (let round = 0; round < 10; round++) {
        const answers = await Promise.all([
          fetch(url, {
            method: "POST",
            body: snappyCompress(mixedRequest()) as Uint8Array<ArrayBuffer>,
          }).then((r) => r.text()),
          ...Array.from({ length: 4 }, (_, k) =>
            fetch(url, {
              method: "POST",
              body: snappyCompress(others(10 * round + k)) as Uint8Array<ArrayBuffer>,
            }).then((r) => r.text())),
        ]);
        assert.match(
          answers[0]!,
          /\(the first in timeseries\[1\] rpc_duration_seconds\{job="api"\}\)/,
          answers[0],
        );
      }
    } finally {
      await server.stop();
      await labels.close();
      await bus.close();
      await nats.cleanup();
    }
  });
}

test.run();
