/**
 * The scores back out, read as a team reads them: the receiver's `/metrics` gives each channel's
 * highest anomaly score since the last scrape with its source series' labels, and Debian's
 * Prometheus, scraping it and the page budget's threshold, answers the documented rule
 * `troupe_anomaly_score >= on() group_left() troupe_page_threshold` with the series past it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:http";
import { Registry } from "prom-client";
import { parsePagingConfig, registerPageMetrics } from "../../../actors/alerting/mod.ts";
import {
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { encodeColumns, outSubject } from "../../../protocol/mod.ts";
import {
  encodeWriteRequest,
  type Label,
  snappyCompress,
} from "../../../protocol/prometheus/mod.ts";
import { until } from "../../_support/alertmanager.ts";
import {
  haveBinaries,
  PROMETHEUS_BIN,
  type StartedProcess,
  startPrometheus,
} from "../../_support/prometheus.ts";

const test = suite("score watch");

const T0 = 1_700_000_000_000;
const L = (o: Record<string, string>): Label[] =>
  Object.entries(o).map(([name, value]) => ({ name, value }));

/** The anomaly actor's columns frame of `channel` with these scores. */
function scored(channel: string, scores: number[], seq0: number): Uint8Array {
  const t = Float64Array.from(scores, (_, i) => (T0 + (seq0 + i) * 1000) * 1000);
  const col = (x: number) => Float64Array.from(scores, () => x);
  return encodeColumns(
    {
      channel,
      seq0,
      t,
      columns: {
        score: Float64Array.from(scores),
        expected: col(1),
        spread: col(0.1),
        value: col(1),
      },
    },
    { id: `${channel}-${seq0}`, src: "test" },
  );
}

async function receiver() {
  const bus = new InProcessBus();
  const labels = await openChannelLabels(bus, { read: true });
  const server = new IngestServer(parseIngestSettings({ port: 0 }), {
    bus,
    durable: false,
    labels,
  });
  await server.start();
  const url = `http://127.0.0.1:${server.port}`;
  const series = [
    { __name__: "node_load1", job: "node", instance: "n1:9100" },
    { __name__: "node_load1", job: "node", instance: "n2:9100" },
  ].map((l) => ({ labels: L(l), samples: [{ value: 1, timestamp: T0 }] }));
  const res = await fetch(`${url}/api/v1/write`, {
    method: "POST",
    body: snappyCompress(encodeWriteRequest({ timeseries: series })) as Uint8Array<ArrayBuffer>,
  });
  assert.is(res.status, 204);
  const scores = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return text.split("\n").filter((l) => l.startsWith("troupe_anomaly_score{")).sort();
  };
  return { bus, server, url, scores };
}

test("troupe_anomaly_score is the highest score since the last scrape, with the series' labels", async () => {
  const r = await receiver();
  try {
    const n1 = "n1_9100-node-node_load1", n2 = "n2_9100-node-node_load1";
    r.bus.publish(outSubject("anomaly", n1), scored(n1, [0.1, 1, 0.2], 0));
    r.bus.publish(outSubject("anomaly", n2), scored(n2, [0.3], 0));
    r.bus.publish(outSubject("anomaly", "not-a-receiver-channel"), scored("x", [0.9], 0));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const labels = (ch: string, instance: string) =>
      `channel="${ch}",instance="${instance}",job="node",metric="node_load1"`;
    assert.equal(await r.scores(), [
      `troupe_anomaly_score{${labels(n1, "n1:9100")}} 1`,
      `troupe_anomaly_score{${labels(n2, "n2:9100")}} 0.3`,
    ]);
    // A new interval: the highest of its own samples; a channel with none keeps its last score.
    r.bus.publish(outSubject("anomaly", n1), scored(n1, [0.4, 0.25], 3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await r.scores(), [
      `troupe_anomaly_score{${labels(n1, "n1:9100")}} 0.4`,
      `troupe_anomaly_score{${labels(n2, "n2:9100")}} 0.3`,
    ]);
    // Many frames between two scrapes: the highest still counts, the last is what follows.
    for (let i = 0; i < 40; i++) {
      r.bus.publish(outSubject("anomaly", n2), scored(n2, [i === 7 ? 0.97 : 0.05], 10 + i));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await r.scores())[1], `troupe_anomaly_score{${labels(n2, "n2:9100")}} 0.97`);
  } finally {
    await r.server.stop();
  }
});

const real = haveBinaries("score watch", [PROMETHEUS_BIN]);
(real ? test : test.skip)(
  "Prometheus answers troupe_anomaly_score >= on() group_left() troupe_page_threshold with the series past it",
  async () => {
    const r = await receiver();
    // The page budget's threshold as a host serves it: 2^15 samples a day, one page a day, so a
    // single anomaly score must reach 1.
    const registry = new Registry();
    registerPageMetrics(registry, {
      paging: parsePagingConfig({}),
      census: () => ({ channels: 2, samples_per_day: 2 ** 15 }),
    });
    const host = createServer(async (_req, res) => {
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(await registry.metrics());
    });
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    const hostPort = (host.address() as { port: number }).port;
    let prom: StartedProcess | undefined;
    try {
      const n1 = "n1_9100-node-node_load1", n2 = "n2_9100-node-node_load1";
      // Scored between scrapes, again and again: n1 reaches 1 once per burst, n2 never.
      let seq = 0;
      const feed = setInterval(() => {
        seq += 3;
        r.bus.publish(outSubject("anomaly", n1), scored(n1, [0.2, 1, 0.1], seq));
        r.bus.publish(outSubject("anomaly", n2), scored(n2, [0.6, 0.1], seq));
      }, 200);
      try {
        prom = await startPrometheus(
          [new URL(r.url).host, `127.0.0.1:${hostPort}`],
          "http://127.0.0.1:9/api/v1/write",
          { honorLabels: true },
        );
        const query = encodeURIComponent(
          "troupe_anomaly_score >= on() group_left() troupe_page_threshold",
        );
        let found: Array<Record<string, string>> = [];
        await until(
          async () => {
            const body = await (await fetch(`${prom!.url}/api/v1/query?query=${query}`)).json() as {
              data: { result: Array<{ metric: Record<string, string> }> };
            };
            found = body.data.result.map((x) => x.metric);
            return found.length > 0;
          },
          30_000,
          "the rule to select a series",
        );
        assert.equal(found.map((m) => [m.instance, m.job, m.metric, m.channel]), [
          ["n1:9100", "node", "node_load1", n1],
        ]);
      } finally {
        clearInterval(feed);
      }
    } finally {
      await prom?.stop();
      host.close();
      await r.server.stop();
    }
  },
);

test.run();
