/**
 * `troupe up --feed remote-write --history-url`, end to end: Debian's Prometheus holds a series'
 * past, an outlier in it; the receiver reads it for the new series and journals it, marked
 * warm-up, before the first live sample, so the host's anomaly detector learns from it and scores
 * that first sample (an outlier, scored high and paged to a real Alertmanager) instead of warming
 * up on it, while the past's outlier makes no finding, no incident and no alert; the session's
 * recording, history read included, replays with --verify.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  decodeAnomalyColumns,
  decodeEnvelope,
  decodeIncident,
  findingSubject,
  incidentSubject,
  ProtocolError,
} from "../../protocol/mod.ts";
import {
  encodeWriteRequest,
  type Label,
  snappyCompress,
  type WriteRequest,
} from "../../protocol/prometheus/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import {
  haveBinaries,
  PROMETHEUS_BIN,
  remoteWriteTo,
  type StartedProcess,
  startPrometheusTakingWrites,
} from "../_support/prometheus.ts";
import { readRecords } from "../_support/recording.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../_support/alertmanager.ts";
import { receiverUrl } from "./_remote_write_run.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe up --history-url");
const run = haveBinaries("troupe up --history-url", [PROMETHEUS_BIN]) &&
    haveAlertmanager("troupe up --history-url")
  ? test
  : test.skip;

const LABELS: Label[] = [
  { name: "__name__", value: "node_load1" },
  { name: "instance", value: "a" },
  { name: "job", value: "node" },
];
const CHANNEL = "a-node-node_load1";
const STEP = 5000;

/** Scores of the recorded anomaly outputs of CHANNEL, by sample time (ms). */
async function scores(recording: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const m of await readRecords(recording)) {
    if (m.subject !== `troupe.out.anomaly.${CHANNEL}`) continue;
    let f: ReturnType<typeof decodeAnomalyColumns>;
    try {
      f = decodeAnomalyColumns(m.data);
    } catch (err) {
      if (err instanceof ProtocolError) continue; // the subject's anomaly events
      throw err;
    }
    f.t.forEach((t, i) => out.set(t / 1000, f.score[i]!));
  }
  return out;
}

/** The recorded anomaly findings' times on CHANNEL (µs), and the anomaly incidents' first_us. */
async function findings(recording: string): Promise<{ found: number[]; opened: number[] }> {
  const found: number[] = [], opened: number[] = [];
  for (const m of await readRecords(recording)) {
    if (m.subject === incidentSubject("anomaly")) {
      opened.push(decodeIncident(m.data).incident.first_us);
    } else if (m.subject === findingSubject("anomaly", CHANNEL)) {
      const env = decodeEnvelope(m.data);
      if (env.type === "anomaly") found.push(env.ts);
    }
  }
  return { found, opened };
}

let prom: StartedProcess | undefined;
let am: TestAlertmanager | undefined;
let hook: WebhookReceiver | undefined;
test.after(async () => {
  await prom?.stop();
  await am?.cleanup();
  await hook?.close();
});

run(
  "the history read warms the host's detector: its outlier pages nothing, the first live sample is scored; replay --verify reproduces the session",
  async () => {
    prom = await startPrometheusTakingWrites();
    // 50 minutes of a quiet load, every 5 s, up to a step before the live sample.
    const live = Math.floor(Date.now() / 1000) * 1000 - 5000;
    const past = Array.from({ length: 600 }, (_, k) => live - (600 - k) * STEP);
    // One outlier in the past, ten times the load: learned from, not a finding.
    const load = (k: number) => k === 400 ? 5 : 0.5 + 0.02 * Math.sin(k / 7) + 0.01 * ((k * 7) % 5);
    const pushed = await remoteWriteTo(prom.url, {
      timeseries: [{
        labels: LABELS,
        samples: past.map((t, k) => ({ timestamp: t, value: load(k) })),
      }],
    });
    assert.ok(pushed.ok, `${pushed.status} ${await pushed.text()}`);

    hook = await new WebhookReceiver().listen();
    am = await TestAlertmanager.start(hook.url);
    const dir = tempDir();
    const dataDir = join(dir.path, "up");
    const recording = join(dir.path, "session.rec");
    const token = "history-e2e_1";
    const up = startTroupe(upArgs(dataDir, [
      "--no-nats",
      "--feed",
      "remote-write",
      "--remote-write-port",
      "0",
      "--token",
      token,
      "--history-url",
      prom.url,
      "--record",
      recording,
      "--alertmanager",
      am.url,
    ]));
    try {
      await up.waitFor("prometheus-remote-write.yml", 60_000);
      const url = receiverUrl(readFileSync(join(dataDir, "prometheus-remote-write.yml"), "utf8"));
      const base = url.replace("/api/v1/write", "");
      const headers = { authorization: `Bearer ${token}` };
      // The first live sample: a thousand times the load it always had, thousands of σ out, so it
      // pages alone however many samples the budget counts (its score alone, 15 bits, may not).
      const r = await fetch(url, {
        method: "POST",
        headers,
        body: remoteWriteBody([{ labels: LABELS, samples: [{ timestamp: live, value: 500 }] }]),
      });
      assert.is(r.status, 204, await r.text());
      const metrics = await (await fetch(`${base}/metrics`, { headers })).text();
      const read = /troupe_ingest_history_samples_total (\d+)/.exec(metrics)?.[1];
      assert.ok(Number(read) > 150, `history samples: ${read}\n${up.output()}`);
      // The host has scored the live sample once the receiver's scores back out show it.
      const t0 = Date.now();
      for (;;) {
        const text = await (await fetch(`${base}/metrics`, { headers })).text();
        if (/troupe_anomaly_score\{[^}]*instance="a"[^}]*\} 1\n/.test(text)) break;
        assert.ok(Date.now() - t0 < 30_000, `no score of the live sample:\n${text}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      // Quiet live samples after it move event time on, so the stage opens its incident.
      for (let k = 1; k <= 6; k++) {
        const q = await fetch(url, {
          method: "POST",
          headers,
          body: remoteWriteBody([{
            labels: LABELS,
            samples: [{ timestamp: live + k * STEP, value: load(k) }],
          }]),
        });
        assert.is(q.status, 204, await q.text());
      }
      // The live outlier pages; the past's, an outlier as far out, does not.
      const liveIncident = `anomaly-${live * 1000}-${CHANNEL}`;
      await until(
        async () => (await am!.alerts()).some((a) => a.labels.incident === liveIncident),
        30_000,
        `the live outlier's alert in Alertmanager\n${up.output()}`,
      );
      await up.stop();
      const incidents = (await am.alerts()).map((a) => a.labels.incident);
      assert.equal([...new Set(incidents)], [liveIncident], incidents.join());
      assert.not.match(up.output(), "cannot read history");

      // The history was scored (the live sample is past the warm-up) but not published.
      const scored = await scores(recording);
      assert.equal([...scored.keys()], Array.from({ length: 7 }, (_, k) => live + k * STEP));
      const first = scored.get(live);
      assert.ok(first !== undefined && first > 0.9, `the first live sample scored ${first}`);
      // Findings and incidents: the live outlier's, none of the past's.
      const { found, opened } = await findings(recording);
      assert.equal(found, [live * 1000], `findings at ${found}`);
      assert.equal(opened.filter((t) => t < live * 1000), [], `incidents at ${opened}`);
      assert.ok(opened.includes(live * 1000), `incidents at ${opened}\n${up.output()}`);

      const replay = await runTroupe(["replay", recording, "--verify"]);
      assert.is(replay.code, 0, replay.stdout + replay.stderr);
      assert.match(replay.stdout, /verified: \d+ outputs equal to the recorded ones/);
    } finally {
      await up.stop();
      dir.remove();
    }
  },
);

/** A remote-write body (snappy protobuf) of `timeseries`. */
function remoteWriteBody(timeseries: WriteRequest["timeseries"]): Uint8Array<ArrayBuffer> {
  return snappyCompress(encodeWriteRequest({ timeseries })) as Uint8Array<ArrayBuffer>;
}

test.run();
