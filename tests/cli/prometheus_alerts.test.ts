/**
 * Prometheus in, Alertmanager out, end to end with the real parts: Debian's Prometheus scrapes
 * Debian's node exporter every second and remote-writes to a `troupe run` host on NATS, whose
 * alert sender posts to Debian's Alertmanager. An incident on a node-exporter channel (its finding
 * published as an actor would, so the test does not wait on a detector) reaches Alertmanager with
 * the series' `job`, `instance` and metric name as labels, troupe's own labels untouched; the
 * node exporter stopped, Prometheus sends the stale marker, the receiver tells the incident stage,
 * and the incident ends once the stage's event time (its findings') passes the marker's:
 * Alertmanager's webhook gets the alert resolved.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, NatsBus } from "../../actors/runtime/mod.ts";
import { decodeIncidentControl, findingSubject, incidentStaleSubject } from "../../protocol/mod.ts";
import { type RunningTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { anomalyFinding } from "../_support/findings.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../_support/alertmanager.ts";
import {
  haveBinaries,
  NODE_EXPORTER_BIN,
  PROMETHEUS_BIN,
  type StartedProcess,
  startNodeExporter,
  startPrometheus,
} from "../_support/prometheus.ts";

const test = suite("Prometheus in, Alertmanager out");
const name = "Prometheus in, Alertmanager out";
const real = haveNatsServer(name) && haveAlertmanager(name) &&
  haveBinaries(name, [PROMETHEUS_BIN, NODE_EXPORTER_BIN]);

(real ? test : test.skip)(
  "an incident on a node-exporter channel reaches Alertmanager with job and instance; the target stopped, its stale marker resolves it",
  async () => {
    const nats = await startTestNats();
    const hook = await new WebhookReceiver().listen();
    const am = await TestAlertmanager.start(hook.url);
    const dir = tempDir();
    const bus = await NatsBus.connect(nats.url);
    let exporter: StartedProcess | undefined;
    let prom: StartedProcess | undefined;
    let host: RunningTroupe | undefined;
    try {
      exporter = await startNodeExporter();
      const writePort = await freePort();
      const path = join(dir.path, "host.json");
      writeFileSync(
        path,
        JSON.stringify({
          host_id: "pa",
          nats: { url: nats.url },
          input: "jetstream",
          data_dir: join(dir.path, "data"),
          actors: { stats: {} },
          incidents: {
            for_us: 500_000,
            reorder_us: 0,
            hold_us: 600_000_000,
            group_window_us: 1_000_000,
          },
          alerting: {
            alertmanagers: [am.url],
            resend_ms: 500,
            // Every fired incident is sent: this is about delivery, not the page budget.
            paging: { budget: false, page_kinds: ["collapse", "coherence"] },
          },
          remote_write: { port: writePort, match: ['{job="node", __name__="node_load1"}'] },
        }),
      );
      host = startTroupe(["run", "--config", path]);
      await host.waitFor("receiving Prometheus remote write", 60_000);
      // A host fed metrics runs a kind for markets only where its config asks: stats here, not
      // bars.
      assert.match(
        host.output(),
        "running stats, anomaly, collapse, coherence (off: bars for markets)",
      );
      prom = await startPrometheus(
        [`127.0.0.1:${exporter.port}`],
        `http://127.0.0.1:${writePort}/api/v1/write`,
      );
      const instance = `127.0.0.1:${exporter.port}`;
      const load = `127_0_0_1_${exporter.port}-node-node_load1`;
      const channels = async () => {
        const text = await fetch(`http://127.0.0.1:${writePort}/metrics`).then((r) => r.text());
        return Number(/^troupe_ingest_channels (\d+)/m.exec(text)?.[1] ?? 0);
      };
      await until(async () => await channels() === 1, 30_000, "node_load1 as a channel");

      let staleAt: number | undefined;
      bus.subscribe(incidentStaleSubject(), (m) => {
        const { envelope, control } = decodeIncidentControl(m.data);
        if (control.type === "stale" && control.channels.includes(load)) staleAt = envelope.ts;
      });
      const t0 = Date.now() * 1000;
      bus.publish(findingSubject("anomaly", load), anomalyFinding(load, t0));
      // A later finding elsewhere moves the stage's event time past the first one's `for`.
      bus.publish(findingSubject("anomaly", "other"), anomalyFinding("other", t0 + 2_000_000));
      await bus.flush();
      // The finding may be faster than the labels' watch: the sender looks them up first.
      await until(
        async () =>
          (await am.alerts()).some((a) => a.labels.channel === load && a.labels.job !== undefined),
        15_000,
        "the alert of the node_load1 incident in Alertmanager, with its source labels",
      );
      const listed = (await am.alerts()).filter((a) => a.labels.channel === load);
      assert.is(listed.length, 1, "one alert of the channel is active");
      const alert = listed[0]!;
      assert.is(alert.labels.job, "node");
      assert.is(alert.labels.instance, instance);
      assert.is(alert.labels.metric, "node_load1");
      assert.is(alert.labels.alertname, "TroupeAnomaly");
      assert.is(alert.labels.kind, "anomaly");
      assert.is(alert.labels.severity, "critical");

      // The target goes away: Prometheus's next scrape fails and it sends the stale marker, which
      // the receiver journals and tells the stage of, at the marker's time.
      await exporter.stop();
      exporter = undefined;
      await until(
        () => staleAt !== undefined,
        30_000,
        "the receiver's stale message for the channel",
      );
      // The stage's event time is its findings': one past the marker's time takes it in.
      bus.publish(
        findingSubject("anomaly", "other"),
        anomalyFinding("other", staleAt! + 1_000_000),
      );
      await bus.flush();
      const sent = () =>
        hook.bodies.flatMap((b) => b.alerts).filter((a) => a.labels.channel === load);
      await until(
        () => sent().some((a) => a.status === "resolved"),
        30_000,
        "the webhook told the alert resolved",
      );
      const resolved = sent().find((a) => a.status === "resolved")!;
      assert.is(resolved.labels.instance, instance, "the same alert (its labels), resolved");
      // On-call was never paged without them: no alert of the channel went out label-less.
      assert.equal(sent().filter((a) => a.labels.job !== "node"), []);
    } finally {
      await host?.stop();
      await prom?.stop();
      await exporter?.stop();
      await bus.close();
      await am.cleanup();
      await hook.close();
      await nats.cleanup();
      dir.remove();
    }
  },
);

test.run();
