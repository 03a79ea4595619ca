/**
 * The scans of a running host, end to end: a host launched over a real nats-server runs the scan
 * service and worker beside its bars actors (what `troupe run` and `troupe up` do); bars come from
 * sample frames published on the feed subjects, as `troupe inject` sends them; a scan started with
 * `POST /scan/stream` on the host's HTTP port streams over a real WebSocket and over SSE the
 * symbols the criteria select, computed here from the same samples grouped into bars directly.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../../actors/mod.ts";
import { compileCriteria } from "../../../actors/criteria/mod.ts";
import type { BarColumns } from "../../../actors/indicators/mod.ts";
import {
  FileJournal,
  type LaunchedHost,
  launchHost,
  parseHostConfig,
  partitionOf,
} from "../../../actors/runtime/mod.ts";
import { REHEARSING, scanHostService, WARMING } from "../../../actors/scan/mod.ts";
import { encodeFrame, feedSubject } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../_support/nats.ts";
import { type Json, postJson, readSse, readWs } from "./_scan_client.ts";
import { until } from "./_scan_setup.ts";

const test = suite("scans on a host");

const SYMBOLS = 40;
const SECONDS = 90;
const PER_SECOND = 4;
const CRITERIA = "close > sma(20) and rsi(14) > 40";
const RANK = "rsi(14)";

/** A second boundary an hour ahead: the host's clock never closes these bars by itself. */
const T0_US = (Math.floor(Date.now() / 1000) + 3600) * 1_000_000;

/** Each symbol's samples: a random walk, PER_SECOND samples a second for SECONDS seconds. */
function samples(seed: number): Map<string, { t: Float64Array; v: Float64Array }> {
  const prng = new Prng(seed);
  const out = new Map<string, { t: Float64Array; v: Float64Array }>();
  for (let s = 0; s < SYMBOLS; s++) {
    const n = SECONDS * PER_SECOND;
    const t = new Float64Array(n), v = new Float64Array(n);
    let x = 100;
    for (let i = 0; i < n; i++) {
      x *= 1 + 0.002 * prng.normal();
      t[i] = T0_US + i * (1_000_000 / PER_SECOND);
      v[i] = x;
    }
    out.set(`S${String(s).padStart(3, "0")}`, { t, v });
  }
  return out;
}

/** The closed 1 s bars of `t, v` grouped directly (the last second is still open). */
function barsOf(t: Float64Array, v: Float64Array): BarColumns {
  const n = SECONDS - 1;
  const c = () => new Float64Array(n);
  const b = { t: c(), open: c(), high: c(), low: c(), close: c(), volume: c() };
  for (let i = 0; i < n * PER_SECOND; i++) {
    const k = Math.floor(i / PER_SECOND), x = v[i]!;
    if (i % PER_SECOND === 0) {
      b.t[k] = t[i]!;
      b.open[k] = b.high[k] = b.low[k] = x;
    }
    b.high[k] = Math.max(b.high[k]!, x);
    b.low[k] = Math.min(b.low[k]!, x);
    b.close[k] = x;
    b.volume[k]! += 1;
  }
  return b;
}

function expected(data: Map<string, { t: Float64Array; v: Float64Array }>) {
  const c = compileCriteria(CRITERIA, { rank: RANK, order: "desc" });
  const want = new Map<string, number | null>();
  for (const [s, { t, v }] of data) {
    const r = c.evaluate(barsOf(t, v));
    if (r.kind === "match") want.set(s, r.rank);
  }
  return want;
}

async function launch(
  dir: string,
  nats: string,
  onWarmed?: (w: { symbols_evaluated: number }) => void,
  warming: Array<string | undefined> = [],
): Promise<LaunchedHost> {
  const config = parseHostConfig({
    host_id: "scanhost",
    nats,
    data_dir: join(dir, "host"),
    http_port: 0,
    actors: {
      stats: { enabled: false },
      anomaly: { enabled: false },
      collapse: { enabled: false },
      coherence: { enabled: false },
      bars: { bar_sizes: ["1s", "1m"], history_bars: 200 },
    },
  }, ACTOR_KINDS);
  const service = scanHostService(onWarmed ? { onWarmed } : {});
  return await launchHost(config, ACTOR_KINDS, {
    log: () => {},
    // What the scans tell /healthz they are warming, noted as they say it.
    service: (parts) =>
      service({
        ...parts,
        warming: (what) => {
          warming.push(what);
          parts.warming(what);
        },
      }),
  });
}

/** Publishes every symbol's samples as frames of 40 samples, as `troupe inject` does. */
async function feed(nc: NatsConnection, data: Map<string, { t: Float64Array; v: Float64Array }>) {
  let id = 0;
  for (const [s, { t, v }] of data) {
    for (let i = 0; i < t.length; i += 40) {
      const frame = { channel: s, seq0: i, t: t.subarray(i, i + 40), v: v.subarray(i, i + 40) };
      nc.publish(feedSubject("market", s), encodeFrame(frame, { id: `f${++id}`, src: "test" }));
    }
  }
  await nc.flush();
}

function heldBars(launched: LaunchedHost): number {
  let n = 0;
  for (const i of launched.host.instances()) {
    if (i.stream.startsWith("bars/")) n += i.pos;
  }
  return n;
}

if (haveNatsServer("scans on a host")) {
  test("a host over NATS serves scans on its HTTP port: results over WebSocket and SSE equal the criteria on bars grouped directly; the scan survives a restart, in its own journal; a restarted host warms its evaluation path over the bars it recovered", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    let nc: NatsConnection | undefined;
    let launched: LaunchedHost | undefined;
    try {
      launched = await launch(dir.path, nats.url);
      nc = await connect({ servers: nats.url });
      const data = samples(7);
      await feed(nc, data);
      // Every frame applied: SYMBOLS instances, each its init record then its frames.
      const frames = SYMBOLS * (1 + (SECONDS * PER_SECOND) / 40);
      await until(() => heldBars(launched!) >= frames, 20_000, "the frames applied");
      const base = `http://127.0.0.1:${launched.host.httpPort}`;
      assert.is((await fetch(`${base}/healthz`)).status, 200);

      const start = await postJson(`${base}/scan/stream`, {
        criteria: CRITERIA,
        rank: RANK,
        bar: "1s",
      });
      assert.is(start.status, 200, JSON.stringify(start.body));
      const { scanId, websocketUrl, sseUrl } = start.body;
      const [ws, sse] = await Promise.all([readWs(websocketUrl), readSse(sseUrl)]);
      const want = expected(data);
      assert.ok(want.size > 3 && want.size < SYMBOLS - 3, `${want.size} matches: a poor test`);
      const seqs = Array.from({ length: want.size }, (_, i) => i + 1);
      assert.equal(ws.results.map((r) => r.seq), seqs);
      assert.equal(sse.results.map((r) => Number(r.id)), seqs);
      const got = new Map(ws.results.map((r) => [r.symbol, r.rank]));
      assert.equal(got, want);
      assert.equal(new Map(sse.results.map((r) => [r.data.symbol, r.data.rank])), want);
      // Ranked best first within each chunk (one chunk here).
      // Best first within each chunk (chunks go out in priority order, not rank order).
      for (const chunk of new Set(ws.results.map((r) => r.chunk))) {
        const ranks = ws.results.filter((r) => r.chunk === chunk).map((r) => r.rank!);
        assert.equal(ranks, [...ranks].sort((a, b) => b - a), `chunk ${chunk}`);
      }
      assert.is(ws.end.state, "done");
      assert.is(ws.end.symbols_done, SYMBOLS);
      assert.is(ws.end.signals, want.size);

      // A bad criteria: 400 with the column, nothing started.
      const bad = await postJson(`${base}/scan/stream`, { criteria: "rsi(14 < 30" });
      assert.is(bad.status, 400);
      assert.match(bad.body.error, "col 7: expected ')'");
      assert.equal(await (await fetch(`${base}/scans/active`)).json(), []);
      assert.is((await fetch(`${base}/metrics`)).status, 200);

      // The scan is kept in the scans' own journal; a restarted host serves it again.
      await launched.close();
      const warmed: number[] = [], warming: Array<string | undefined> = [];
      launched = await launch(dir.path, nats.url, (w) => {
        warmed.push(w.symbols_evaluated);
        assert.is(warming.at(-1), undefined, "/healthz says warm before onWarmed");
      }, warming);
      assert.equal(warming, [WARMING], "warming from the start");
      // Every symbol's 1 s bars evaluated once; its one or two 1 m bars are too few.
      await until(() => warmed.length > 0, 10_000, "the warm-up");
      assert.equal(warmed, [SYMBOLS]);
      assert.equal(warming, [WARMING, REHEARSING, undefined]);
      const again = `http://127.0.0.1:${launched.host.httpPort}`;
      const health = await (await fetch(`${again}/healthz`)).json();
      assert.equal([health.ok, health.warming], [true, []]);
      const stats: Json = await (await fetch(`${again}/scan/stats/${scanId}`)).json();
      assert.is(stats.state, "done");
      assert.is(stats.signals, want.size);
      const replayed = await readSse(`${again}/events/results/${scanId}`);
      assert.equal(replayed.results.map((r) => r.data), ws.results);
      await launched.close();
      launched = undefined;
      const hostJournal = await FileJournal.open(join(dir.path, "host", "journal"), {
        fsync: "never",
      });
      assert.not.ok(hostJournal.streams().some((s) => s.startsWith("scan/")));
      await hostJournal.close();
      const scans = await FileJournal.open(join(dir.path, "host", "scans", scanId), {
        fsync: "never",
      });
      assert.equal(scans.streams(), [`scan/${scanId}`]);
      await scans.close();
    } finally {
      await launched?.close();
      await nc?.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

/** A host of a partitioned cluster of `count` partitions owning `owned`, over `nats`. */
function launchPartitioned(
  dir: string,
  nats: string,
  id: string,
  owned: string,
): Promise<LaunchedHost> {
  const config = parseHostConfig({
    host_id: id,
    nats,
    data_dir: join(dir, id),
    http_port: 0,
    journal: { kind: "memory" },
    snapshots: { store: "memory" },
    partitions: { count: 4, owned },
    actors: {
      ...Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }])),
      bars: { bar_sizes: ["1s"], history_bars: 200 },
    },
  }, ACTOR_KINDS);
  // Chunks of 4 symbols: several per partition; a partition's symbols asked for 300 ms at most.
  const service = scanHostService({ chunk_symbols: 4, gather_timeout_ms: 300 });
  return launchHost(config, ACTOR_KINDS, { log: () => {}, tickEveryMs: 0, service });
}

if (haveNatsServer("scans on a host")) {
  test("a scan posted to any host of a partitioned cluster covers every host's symbols once, each chunk of one partition, in priority order; a partition whose host is down is named", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const hosts: LaunchedHost[] = [];
    let nc: NatsConnection | undefined;
    try {
      hosts.push(await launchPartitioned(dir.path, nats.url, "pa", "0-1"));
      hosts.push(await launchPartitioned(dir.path, nats.url, "pb", "2-3"));
      nc = await connect({ servers: nats.url });
      // Every symbol's samples on the feed subjects: each host takes those of its partitions.
      const data = samples(11);
      await feed(nc, data);
      const frames = SYMBOLS * (1 + (SECONDS * PER_SECOND) / 40);
      await until(() => heldBars(hosts[0]!) + heldBars(hosts[1]!) >= frames, 20_000, "the frames");
      const all = [...data.keys()].sort();
      const onA = all.filter((s) => partitionOf(s, 4) < 2);
      assert.ok(onA.length >= 12 && onA.length <= SYMBOLS - 12, `${onA.length} symbols on pa`);
      // The last closed bar's close of each symbol: the priority of the scans below.
      const close = new Map(
        [...data].map(([s, { t, v }]) => [s, barsOf(t, v).close[SECONDS - 2]!]),
      );
      const best = [...close.keys()].sort((a, b) => close.get(b)! - close.get(a)!)[0]!;
      for (const host of hosts) {
        const base = `http://127.0.0.1:${host.host.httpPort}`;
        const request = { criteria: "close > 0", bar: "1s", priority: "close" };
        const start = await postJson(`${base}/scan/stream`, request);
        assert.is(start.status, 200, JSON.stringify(start.body));
        assert.is(start.body.partitions_missing, undefined);
        const ws = await readWs(start.body.websocketUrl);
        assert.equal(ws.results.map((r) => r.symbol).sort(), all, "every symbol once");
        assert.equal(
          [ws.end.state, ws.end.symbols_done, ws.end.signals, ws.end.unknown_symbols],
          ["done", SYMBOLS, SYMBOLS, 0],
        );
        assert.equal(ws.end.partitions_missing, []);
        // Each chunk holds one partition's symbols; the highest close is in the first chunk.
        const chunkPartition = new Map<number, number>();
        for (const r of ws.results) {
          const k = partitionOf(r.symbol as string, 4);
          assert.is(chunkPartition.get(r.chunk as number) ?? k, k, `chunk ${r.chunk}`);
          chunkPartition.set(r.chunk as number, k);
        }
        assert.is(ws.results.find((r) => r.symbol === best)!.chunk, 0);
      }
      // pb down: a scan on pa names partitions 2 and 3, in its response and its stats.
      await hosts.pop()!.close();
      const base = `http://127.0.0.1:${hosts[0]!.host.httpPort}`;
      const start = await postJson(`${base}/scan/stream`, { criteria: "close > 0", bar: "1s" });
      assert.is(start.status, 200, JSON.stringify(start.body));
      assert.equal(start.body.partitions_missing, [2, 3]);
      const ws = await readWs(start.body.websocketUrl);
      assert.equal(ws.results.map((r) => r.symbol).sort(), onA);
      assert.equal([ws.end.state, ws.end.partitions_missing], ["done", [2, 3]]);
    } finally {
      for (const h of hosts) await h.close();
      await nc?.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
