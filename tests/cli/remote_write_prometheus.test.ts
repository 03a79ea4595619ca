/**
 * Debian's Prometheus scraping Debian's node exporter every second and remote-writing to the
 * receiver of a `troupe run` host on NATS: the node exporter's series arrive as channels and
 * reach the detectors; a kill -9 of the host while Prometheus sends loses nothing and doubles
 * nothing, compared with what Prometheus itself stored.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { FEED_STREAM, freePort } from "../../actors/runtime/mod.ts";
import { decodeFeedBatch } from "../../protocol/mod.ts";
import { type RunningTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, natsForSuite, tempDir } from "../_support/nats.ts";
import {
  haveBinaries,
  NODE_EXPORTER_BIN,
  PROMETHEUS_BIN,
  promSamples,
  type StartedProcess,
  startNodeExporter,
  startPrometheus,
} from "../_support/prometheus.ts";

const test = suite("remote write from Prometheus");
const run = haveNatsServer("remote write from Prometheus") &&
    haveBinaries("remote write from Prometheus", [PROMETHEUS_BIN, NODE_EXPORTER_BIN])
  ? test
  : test.skip;
const nats = natsForSuite(test, run);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await fetch(url).then((r) => r.text(), () => "");
  let sum = 0;
  for (const l of text.split("\n")) {
    const m = line.exec(l);
    if (m) sum += Number(l.slice(l.lastIndexOf(" ") + 1));
  }
  return sum;
}

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** Every sample the feed stream holds for `channel`, in stream order: `[ms, value]`. */
async function journaled(channel: string): Promise<Array<[number, number]>> {
  const jsm = await jetstreamManager(nats.nc);
  const info = await jsm.streams.info(FEED_STREAM);
  const out: Array<[number, number]> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(FEED_STREAM, { seq }).catch(() => null);
    if (!m || m.subject !== "troupe.feed.prom") continue;
    const { batch } = decodeFeedBatch(m.data);
    let at = 0;
    for (let c = 0; c < batch.channels.length; c++) {
      const n = batch.n[c]!;
      if (batch.channels[c] === channel) {
        for (let i = at; i < at + n; i++) out.push([batch.t[i]! / 1000, batch.v[i]!]);
      }
      at += n;
    }
  }
  return out;
}

run(
  "node exporter series arrive as channels and reach the detectors; kill -9 of the host loses and doubles nothing",
  async () => {
    const dir = tempDir();
    let exporter: StartedProcess | undefined;
    let prom: StartedProcess | undefined;
    let host: RunningTroupe | undefined;
    try {
      exporter = await startNodeExporter();
      const writePort = await freePort();
      const httpPort = await freePort();
      const config = join(dir.path, "host.json");
      writeFileSync(
        config,
        JSON.stringify({
          nats: { url: nats.url },
          input: "jetstream",
          data_dir: join(dir.path, "data"),
          http_port: httpPort,
          actors: { anomaly: {} },
          // Every series the exporter's few collectors give, not only the node preset's.
          remote_write: { port: writePort, match: ['{job="node"}'], preset: "none" },
        }),
      );
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("receiving Prometheus remote write");
      assert.match(host.output(), `url: http://127.0.0.1:${writePort}/api/v1/write`);
      prom = await startPrometheus(
        [`127.0.0.1:${exporter.port}`],
        `http://127.0.0.1:${writePort}/api/v1/write`,
      );
      const receiverMetrics = `http://127.0.0.1:${writePort}/metrics`;
      const load = `127_0_0_1_${exporter.port}-node-node_load1`;
      await until(
        "the node exporter's series as channels",
        async () => await metric(receiverMetrics, /^troupe_ingest_channels /) >= 20,
      );
      await until("the anomaly detectors' inputs", async () =>
        await metric(
          `http://127.0.0.1:${httpPort}/metrics`,
          /^troupe_inputs_total\{kind="anomaly"/,
        ) >= 40);
      assert.ok((await journaled(load)).length > 0, `channel ${load} journaled`);

      // Kill -9 while Prometheus sends, then start the host again on the same ports.
      await sleep(1500);
      host.signal("SIGKILL");
      await host.exitCode(10_000);
      await sleep(2500); // Prometheus meets a closed port and retries
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("receiving Prometheus remote write");
      await sleep(4000);

      const ours = await journaled(load);
      const theirs = await promSamples(prom.url, `node_load1{job="node"}`);
      const times = ours.map(([t]) => t);
      assert.equal(
        times,
        [...new Set(times)].sort((a, b) => a - b),
        "journaled once each, in order",
      );
      const last = Math.min(ours.at(-1)![0], theirs.at(-1)![0]);
      const first = ours[0]![0];
      const want = theirs.filter(([t]) => t >= first && t <= last);
      const got = ours.filter(([t]) => t <= last);
      assert.ok(want.length >= 8, `compared ${want.length} samples`);
      assert.equal(got, want, "what troupe journaled is what Prometheus stored");
    } finally {
      await host?.stop();
      await prom?.stop();
      await exporter?.stop();
      dir.remove();
    }
  },
);

test.run();
