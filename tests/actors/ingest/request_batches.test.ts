/**
 * A request of more samples than one feed batch holds is journaled in several batches, each of its
 * own samples: every sample arrives once, in order, with its value.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { decodeFeedBatch } from "../../../protocol/mod.ts";
import {
  encodeWriteRequest,
  type Label,
  snappyCompress,
} from "../../../protocol/prometheus/mod.ts";

const test = suite("request batches");

const T0 = 1_700_000_000_000;
const labels = (name: string): Label[] => [
  { name: "__name__", value: name },
  { name: "job", value: "api" },
];

test("a request of 41,000 samples is journaled in batches of at most 20,000, each holding its own samples", async () => {
  const bus = new InProcessBus();
  const batches: Array<ReturnType<typeof decodeFeedBatch>["batch"]> = [];
  bus.subscribe("troupe.feed.prom", (m) => batches.push(decodeFeedBatch(m.data).batch));
  const server = new IngestServer(parseIngestSettings({ port: 0, match: [] }), {
    bus,
    durable: false,
    labels: await openChannelLabels(bus, { read: true }),
  });
  await server.start();
  try {
    // Four series of 5,000 samples fill a batch to the sample; two of 6,000 make the next, which
    // the last, of 9,000, would not fit in.
    const lengths = [5000, 5000, 5000, 5000, 6000, 6000, 9000];
    const timeseries = lengths.map((length, s) => ({
      labels: labels(`gauge_${s}`),
      samples: Array.from({ length }, (_, j) => ({
        value: s * 1e6 + j,
        timestamp: T0 + j * 1000,
      })),
    }));
    const r = await fetch(`http://127.0.0.1:${server.port}/api/v1/write`, {
      method: "POST",
      body: snappyCompress(encodeWriteRequest({ timeseries })) as Uint8Array<ArrayBuffer>,
    });
    assert.is(r.status, 204, await r.text());
    assert.equal(batches.map((b) => b.channels.length), [4, 2, 1]);
    assert.equal(batches.map((b) => b.t.length), [20_000, 12_000, 9000]);
    const seen = new Map<string, number[]>();
    for (const b of batches) {
      let at = 0;
      b.channels.forEach((c, i) => {
        const n = b.n[i]!;
        for (let k = at; k < at + n; k++) {
          const j = k - at;
          assert.is(b.t[k], (T0 + j * 1000) * 1000, `${c} time ${j}`);
        }
        seen.set(c, Array.from(b.v.subarray(at, at + n)));
        at += n;
      });
    }
    assert.equal([...seen.keys()], timeseries.map((_, s) => `api-gauge_${s}`));
    timeseries.forEach((_, s) => {
      const v = seen.get(`api-gauge_${s}`)!;
      assert.ok(v.every((x, j) => x === s * 1e6 + j), `gauge_${s}'s values`);
    });
  } finally {
    await server.stop();
  }
});

test.run();
