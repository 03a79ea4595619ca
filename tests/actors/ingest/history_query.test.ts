/**
 * A target's new series read together: the reads a request's new series make (a scrape target's
 * series in one query for many metric names, up to a read's points; the rest one by one), and,
 * against Debian's Prometheus filled with a past, that each series takes exactly its own points
 * from a shared answer, in fewer queries than series (Prometheus's own request counter).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  historyReads,
  type HistorySeries,
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
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

const test = suite("history query");
const havePrometheus = haveBinaries("history query", [PROMETHEUS_BIN]);
const withProm = havePrometheus ? test : test.skip;

const L = (o: Record<string, string>): Label[] =>
  Object.entries(o).map(([name, value]) => ({ name, value }));
const one = (labels: Label[], firstT = 1000): HistorySeries => ({
  channel: labels.map((l) => l.value).join("-"),
  labels,
  counter: false,
  firstT,
});

test("a target's series are read together, by metric names, up to a read's points", () => {
  const cpu = [0, 1, 2].map((c) =>
    one(L({ __name__: "cpu_seconds", job: "node", instance: "a", cpu: String(c) }))
  );
  const load = one(L({ __name__: "load1", job: "node", instance: "a" }));
  const mem = one(L({ __name__: "mem_bytes", job: "node", instance: "a" }));
  const other = one(L({ __name__: "load1", job: "node", instance: "b" }));
  const later = one(L({ __name__: "mem_bytes", job: "node", instance: "b" }), 2000);
  const bare = one(L({ __name__: "up", job: "node" }));
  const odd = one(L({ __name__: "x.y", job: "node", instance: "a" }));
  const all = [...cpu, load, mem, other, later, bare, odd];
  // Ten points a series, a read up to fifty: five series a read.
  const reads = historyReads(all, 10, 50);
  const shown = reads.map((r) => [r.series.map((s) => s.channel), r.selector()]);
  assert.equal(shown, [
    [["up-node"], '{__name__="up",job="node"}'],
    [["x.y-node-a"], '{__name__="x.y",job="node",instance="a"}'],
    [
      [
        "cpu_seconds-node-a-0",
        "cpu_seconds-node-a-1",
        "cpu_seconds-node-a-2",
        "load1-node-a",
        "mem_bytes-node-a",
      ],
      '{job="node",instance="a",__name__=~"cpu_seconds|load1|mem_bytes",cpu=~"0|1|2|"}',
    ],
    // A target alone in its read, and one of another first live time, by exact label sets.
    [["load1-node-b"], '{__name__="load1",job="node",instance="b"}'],
    [["mem_bytes-node-b"], '{__name__="mem_bytes",job="node",instance="b"}'],
  ]);
  // Three series a read: the names are cut into two reads, never a name's series apart.
  const four = historyReads([...cpu, load, mem], 10, 30);
  assert.equal(four.map((r) => r.series.length), [3, 2]);
  assert.match(four[0]!.selector(), /__name__="cpu_seconds",cpu=~"0\|1\|2"\}$/);
  // Two a read: a name with more series than that is read one series at a time.
  const two = historyReads([...cpu, load], 10, 20);
  assert.equal(two.map((r) => r.series.length), [1, 1, 1, 1]);
  // A label name no selector can hold is said when its read is made, and its series is read on
  // its own: its target's other series are read together still.
  const dashed = one(L({ __name__: "load1", job: "node", instance: "a", "a-b": "1" }));
  const bad = historyReads([...cpu, dashed], 10, 50);
  assert.equal(bad.map((r) => r.series.length), [1, 3]);
  assert.throws(() => bad[0]!.selector(), /label name "a-b" cannot be written/);
  assert.match(bad[1]!.selector(), /^\{job="node",instance="a",__name__="cpu_seconds"/);
});

let prom: StartedProcess | undefined;
const STEP = 5000;
const LIVE = Math.floor(Date.now() / 1000) * 1000 - 10_000;
const PAST = Array.from({ length: 100 }, (_, k) => LIVE - (100 - k) * STEP);
/** The lab's series: five of target a (one of them not asked for), two of target b. */
const LAB = [
  L({ __name__: "lab_cpu", job: "lab", instance: "a", cpu: "0" }),
  L({ __name__: "lab_cpu", job: "lab", instance: "a", cpu: "1" }),
  L({ __name__: "lab_load", job: "lab", instance: "a" }),
  L({ __name__: "lab_mem", job: "lab", instance: "a" }),
  L({ __name__: "lab_mem", job: "lab", instance: "a", extra: "not asked for" }),
  L({ __name__: "lab_cpu", job: "lab", instance: "b", cpu: "0" }),
  L({ __name__: "lab_load", job: "lab", instance: "b" }),
];
const valueAt = (i: number, k: number) => 1000 * i + k;
/** Target c: values a regular expression must quote, and their look-alikes, not asked for. */
const ODD = ["a.b", "c|d", "e(f", 'g"h', "i\\j", "k+", "aXb", "c", "d", "k", "kk"].map((v) =>
  L({ __name__: "lab_odd", job: "lab", instance: "c", v })
);
/** Target c's metric of fifty series, two of which are new. */
const MANY = Array.from(
  { length: 50 },
  (_, c) => L({ __name__: "lab_many", job: "lab", instance: "c", cpu: String(c) }),
);

test.before(async () => {
  if (!havePrometheus) return;
  prom = await startPrometheusTakingWrites();
  const pushed = await remoteWriteTo(prom.url, {
    timeseries: [...LAB, ...ODD, ...MANY].map((labels, i) => ({
      labels,
      samples: PAST.map((t, k) => ({ timestamp: t, value: valueAt(i, k) })),
    })),
  });
  assert.ok(pushed.ok, `${pushed.status} ${await pushed.text()}`);
});

test.after(async () => {
  await prom?.stop();
});

withProm("each series takes its own points from its target's shared answer", async () => {
  const bus = new InProcessBus();
  const history = new Map<string, number[]>();
  bus.subscribe("troupe.feed.prom", (msg) => {
    const { batch, meta } = decodeFeedBatch(msg.data);
    if (!isWarmupId(meta.id)) return;
    let at = 0;
    batch.channels.forEach((c, i) => {
      history.set(c, Array.from(batch.v.subarray(at, at + batch.n[i]!)));
      at += batch.n[i]!;
    });
  });
  const lines: string[] = [];
  const server = new IngestServer(
    parseIngestSettings({
      port: 0,
      history_url: prom!.url,
      history_window_ms: 50 * STEP,
      history_step_ms: STEP,
    }),
    {
      bus,
      durable: false,
      labels: await openChannelLabels(bus, { read: true }),
      log: (line) => lines.push(line),
    },
  );
  await server.start();
  const queries = async () =>
    exposedValue(
      await (await fetch(`${prom!.url}/metrics`)).text(),
      'prometheus_http_requests_total{code="200",handler="/api/v1/query_range"}',
    );
  try {
    const before = await queries();
    const asked = [0, 1, 2, 3, 5, 6];
    const r = await remoteWriteTo(`http://127.0.0.1:${server.port}`, {
      timeseries: asked.map((i) => ({
        labels: LAB[i]!,
        samples: [{ timestamp: LIVE, value: -1 }],
      })),
    });
    assert.is(r.status, 204, await r.text());
    await bus.flush();
    assert.equal(lines, []);
    // Target a's four series in one read, target b's two in another.
    assert.is(await queries() - before, 2);
    const said = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.is(exposedValue(said, "troupe_ingest_history_queries_total"), 2);
    // Each the latest of its own past at every step of the last 50 before its first sample.
    const end = LIVE - 1;
    const latest = (e: number) => {
      let k = PAST.length - 1;
      while (PAST[k]! > e) k--;
      return k;
    };
    const evals = Array.from({ length: 51 }, (_, k) => end - 50 * STEP + k * STEP);
    assert.is(history.size, asked.length);
    for (const i of asked) {
      const channel = [...history.keys()].find((c) =>
        history.get(c)![0]! >= 1000 * i &&
        history.get(c)![0]! < 1000 * (i + 1)
      );
      assert.ok(channel !== undefined, `series ${i}: ${[...history.keys()].join()}`);
      assert.equal(history.get(channel!), evals.map((e) => valueAt(i, latest(e))), channel);
    }
  } finally {
    await server.stop();
  }
});

withProm("a target's selector answers its wanted series, not a metric's every series", async () => {
  const wanted = [...ODD.slice(0, 6), MANY[0]!, MANY[1]!].map((labels) => one(labels, LIVE));
  const reads = historyReads(wanted, 10, 1000);
  assert.is(reads.length, 1);
  const form = new URLSearchParams({
    query: reads[0]!.selector(),
    start: String((LIVE - 60_000) / 1000),
    end: String((LIVE - 1) / 1000),
    step: "5",
  });
  const r = await fetch(`${prom!.url}/api/v1/query_range`, { method: "POST", body: form });
  const body = await r.json() as { data: { result: Array<{ metric: Record<string, string> }> } };
  const got = body.data.result.map((x) => x.metric.v ?? `cpu ${x.metric.cpu}`).sort();
  assert.equal(got, ["a.b", "c|d", "cpu 0", "cpu 1", "e(f", 'g"h', "i\\j", "k+"].sort());
});

test.run();
