/**
 * The history budget: what a receiver reads of new series' past is bounded by a bucket of samples
 * that fills at a steady rate. A request's new series share it (their window, or an equal share
 * down to the fewest points worth reading), then the first get the fewest and the rest none; it
 * fills again with time. Against Debian's Prometheus filled with a past: the samples journaled,
 * the counter, the one line a minute.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  HISTORY_POINTS_LEAST,
  HistoryBudget,
  IngestServer,
  openChannelLabels,
  parseIngestSettings,
} from "../../../actors/ingest/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
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

const test = suite("history budget");
const havePrometheus = haveBinaries("history budget", [PROMETHEUS_BIN]);
const withProm = havePrometheus ? test : test.skip;

const STEP = 5000;
const LIVE = Math.floor(Date.now() / 1000) * 1000 - 10_000;
/** 400 points of past, STEP apart, up to one step before LIVE. */
const PAST = Array.from({ length: 400 }, (_, k) => LIVE - (400 - k) * STEP);
/** Series `i` of the lab: a gauge with a past in Prometheus. */
const series = (i: number): Label[] => [
  { name: "__name__", value: "lab_load" },
  { name: "job", value: "lab" },
  { name: "instance", value: `h${i}` },
];

test("the fewest points read is the anomaly detector's warm-up", () => {
  assert.is(HISTORY_POINTS_LEAST, defaultAnomalyConfig.warmup_samples);
});

test("a budget shares what it holds, then gives the fewest to the first, and fills again", () => {
  let now = 0;
  const b = new HistoryBudget(100, 1000, () => now);
  assert.equal(b.allot(2, 300, 150), { each: 300, series: 2 }); // whole windows
  assert.is(b.level(), 400);
  assert.equal(b.allot(2, 300, 150), { each: 200, series: 2 }); // an equal share
  assert.equal(b.allot(1, 300, 150), { each: 0, series: 0 }); // nothing left
  now = 1_500; // 150 samples later
  assert.equal(b.allot(3, 300, 150), { each: 150, series: 1 }); // the first gets the fewest
  assert.equal(b.allot(1, 100, 150), { each: 0, series: 0 });
  b.settle(120); // a series read with fewer points than it was given
  assert.equal(b.allot(1, 100, 150), { each: 100, series: 1 }); // a window under the fewest
  assert.is(b.level(), 20);
  b.settle(-30); // read past its allotment
  assert.is(b.level(), -10);
  now = 1_000_000;
  assert.is(b.level(), 1000); // full, and no fuller
  assert.equal(b.allot(0, 300, 150), { each: 0, series: 0 });
});

let prom: StartedProcess | undefined;

test.before(async () => {
  if (!havePrometheus) return;
  prom = await startPrometheusTakingWrites();
  const pushed = await remoteWriteTo(prom.url, {
    timeseries: Array.from({ length: 10 }, (_, i) => ({
      labels: series(i),
      samples: PAST.map((t, k) => ({ timestamp: t, value: i + (k % 5) })),
    })),
  });
  assert.ok(pushed.ok, `${pushed.status} ${await pushed.text()}`);
});

test.after(async () => {
  await prom?.stop();
});

withProm(
  "a receiver's history reads follow its budget: shortened, then none, then filled again",
  async () => {
    const bus = new InProcessBus();
    const history = new Map<string, number>();
    const live = new Map<string, number>();
    bus.subscribe("troupe.feed.prom", (msg) => {
      const { batch, meta } = decodeFeedBatch(msg.data);
      const into = isWarmupId(meta.id) ? history : live;
      batch.channels.forEach((c, i) => into.set(c, (into.get(c) ?? 0) + batch.n[i]!));
    });
    let clock = Date.now();
    const lines: string[] = [];
    const server = new IngestServer(
      parseIngestSettings({
        port: 0,
        history_url: prom!.url,
        history_window_ms: 300 * STEP,
        history_step_ms: STEP,
        history_samples_per_s: 1,
        history_burst_samples: 1000,
      }),
      {
        bus,
        durable: false,
        labels: await openChannelLabels(bus, { read: true }),
        log: (line) => lines.push(line),
        now: () => clock,
      },
    );
    await server.start();
    const url = `http://127.0.0.1:${server.port}`;
    const send = async (from: number, to: number) => {
      const r = await remoteWriteTo(url, {
        timeseries: Array.from({ length: to - from }, (_, k) => ({
          labels: series(from + k),
          samples: [{ timestamp: LIVE, value: 1 }],
        })),
      });
      assert.is(r.status, 204, await r.text());
      await bus.flush();
    };
    const metric = async (line: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return exposedValue(text, line);
    };
    const budget = 'troupe_ingest_history_budget_series_total{outcome="shortened"}';
    const none = 'troupe_ingest_history_budget_series_total{outcome="none"}';
    try {
      const level = "troupe_ingest_history_budget_samples";
      assert.is(await metric(level), 1000);
      // Six new series share 1,000 samples: 166 points each (a window's both ends: 167 read).
      await send(0, 6);
      assert.is(await metric(level), 0);
      for (let i = 0; i < 6; i++) assert.is(history.get(`h${i}-lab-lab_load`), 167, `h${i}`);
      assert.is(await metric(budget), 6);
      assert.is(await metric("troupe_ingest_history_samples_total"), 6 * 167);
      assert.is(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, /history budget spent \(history_samples_per_s 1, /);
      assert.match(
        lines[0]!,
        /6 new series read with fewer points than the window \(down to 166\)/,
      );
      // The budget spent: the next two get none, their live samples go on; no second line yet.
      await send(6, 8);
      assert.is(history.get("h6-lab-lab_load"), undefined);
      assert.is(live.get("h6-lab-lab_load"), 1);
      assert.is(live.get("h7-lab-lab_load"), 1);
      assert.is(await metric(none), 2);
      assert.is(lines.length, 1, lines.join("\n"));
      clock += 100_000;
      assert.is(await metric(level), 98); // it fills a sample a second
      clock += 100_000;
      // 200 s after the first it holds some 198 samples: one series gets the fewest points, one
      // none, and a minute has passed, so a line says all since the last.
      await send(8, 10);
      assert.is(history.get("h8-lab-lab_load"), HISTORY_POINTS_LEAST + 1);
      assert.is(history.get("h9-lab-lab_load"), undefined);
      assert.is(await metric(budget), 7);
      assert.is(await metric(none), 3);
      assert.is(lines.length, 2, lines.join("\n"));
      assert.match(
        lines[1]!,
        /1 new series read with fewer points than the window \(down to 150\)/,
      );
      assert.match(lines[1]!, /3 given none \(they warm up on their live samples\)/);
    } finally {
      await server.stop();
    }
  },
);

test("the budget's settings are checked", () => {
  assert.throws(
    () => parseIngestSettings({ history_samples_per_s: 0 }),
    /remote_write.history_samples_per_s must be a whole number >= 1, got 0/,
  );
  assert.throws(
    () => parseIngestSettings({ history_burst_samples: 149 }),
    /history_burst_samples \(149\) is under the 150 points a series' history is read with at fewest/,
  );
  // A window of fewer points than that is read whole.
  const short = parseIngestSettings({ history_window_ms: 60_000, history_burst_samples: 4 });
  assert.is(short.historyBurstSamples, 4);
  const s = parseIngestSettings({});
  assert.is(s.historySamplesPerS, 10_000);
  assert.is(s.historyBurstSamples, 6_000_000);
});

test.run();
