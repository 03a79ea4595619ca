import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ProtocolError } from "../../../protocol/mod.ts";
import {
  decodeWriteRequest,
  encodeWriteRequest,
  isStaleMarker,
  isStaleMarkerAt,
  type WriteRequest,
  writeRequestOf,
} from "../../../protocol/prometheus/mod.ts";

const test = suite("remote write");

const request: WriteRequest = {
  timeseries: [
    {
      labels: [{ name: "__name__", value: "node_load1" }, { name: "job", value: "node" }],
      samples: [{ value: 0.25, timestamp: 1_700_000_000_000 }, {
        value: 0.5,
        timestamp: 1_700_000_015_000,
      }],
    },
    {
      labels: [{ name: "__name__", value: "up" }, { name: "instance", value: "h:9100 ü" }],
      samples: [{ value: NaN, timestamp: 1_700_000_030_000, stale: true }],
    },
  ],
  metadata: [{ type: "counter", family: "http_requests_total", help: "requests", unit: "" }],
};

test("decodeWriteRequest() reads back what encodeWriteRequest() wrote, stale marker bit for bit", () => {
  const cols = decodeWriteRequest(encodeWriteRequest(request));
  assert.is(cols.series, 2);
  assert.equal([...cols.samplesFrom], [0, 2, 3]);
  const back = writeRequestOf(cols);
  assert.equal(back.timeseries[0], request.timeseries[0]);
  assert.equal(back.timeseries[1]!.labels, request.timeseries[1]!.labels);
  assert.ok(isStaleMarkerAt(cols.v, 2), "the stale marker's bits survive");
  assert.equal(back.timeseries[1]!.samples, request.timeseries[1]!.samples);
  assert.not.ok(isStaleMarker(NaN), "a plain NaN is not the stale marker");
  assert.equal(back.metadata, request.metadata);
});

test("decodeWriteRequest() reads requests of many series and then of few, each series its own", () => {
  const many = (n: number, tag: string): WriteRequest => ({
    timeseries: Array.from({ length: n }, (_, i) => ({
      labels: [{ name: "__name__", value: `m_${tag}_${i}` }],
      samples: Array.from({ length: 1 + (i % 3) }, (_, j) => ({
        value: i + j / 10,
        timestamp: 1_700_000_000_000 + j,
      })),
    })),
  });
  // Past the series a first request of a process holds room for, then fewer than before.
  for (const [n, tag] of [[5000, "a"], [3, "b"], [1500, "c"]] as const) {
    const sent = many(n, tag);
    const back = writeRequestOf(decodeWriteRequest(encodeWriteRequest(sent)));
    assert.equal(back.timeseries, sent.timeseries, `${n} series`);
  }
});

test("decodeWriteRequest() refuses one series with too many labels or a long label, keeping the rest", () => {
  const many = Array.from({ length: 1000 }, (_, i) => ({ name: `l${i}`, value: "x" }));
  const long = [{ name: "__name__", value: "x".repeat(1 << 20) }];
  const req: WriteRequest = {
    timeseries: [
      { labels: many, samples: [{ value: 1, timestamp: 1 }] },
      request.timeseries[0]!,
      { labels: long, samples: [{ value: 1, timestamp: 1 }] },
    ],
  };
  const cols = decodeWriteRequest(encodeWriteRequest(req), { labelsMax: 64, labelBytesMax: 2048 });
  assert.is(cols.refused[0], "timeseries[0].labels has 1000 labels, over the limit of 64");
  assert.is(cols.refused[1], undefined);
  assert.is(
    cols.refused[2],
    "timeseries[2].labels[0].value is 1048576 bytes, over the limit of 2048",
  );
  assert.equal(writeRequestOf(cols).timeseries, [request.timeseries[0]]);
});

test("decodeWriteRequest() refuses a request over its series or samples limit, naming the field", () => {
  const bytes = encodeWriteRequest(request);
  try {
    decodeWriteRequest(bytes, { seriesMax: 1 });
    assert.unreachable("over the series limit");
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.match((e as Error).message, /more than 1 timeseries/);
  }
  try {
    decodeWriteRequest(bytes, { samplesMax: 2 });
    assert.unreachable("over the samples limit");
  } catch (e) {
    assert.match((e as Error).message, /3 samples, over the limit of 2/);
    assert.is((e as ProtocolError).field, "timeseries.samples");
  }
});

test("decodeWriteRequest() names where bytes that are not protobuf go wrong", () => {
  const junk = new TextEncoder().encode("this is snappy-decoded text, not a WriteRequest");
  try {
    decodeWriteRequest(junk);
    assert.unreachable("junk decoded");
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.match((e as Error).message, /^Cannot decode (WriteRequest|timeseries|metadata)/);
  }
  // A length that runs past the end.
  try {
    decodeWriteRequest(new Uint8Array([0x0a, 0x7f, 1, 2]));
    assert.unreachable("cut short decoded");
  } catch (e) {
    assert.match((e as Error).message, /runs past the end of its message/);
  }
});

test.run();
