/**
 * runAlerting beside its stage: the sender takes the stage's incident updates as the values the
 * stage made, never by decoding its process's own publications back off the bus, and sends them
 * to a webhook served by the test; askAlertDelivery gets from it where each incident stands.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  askAlertDelivery,
  parseAlertingConfig,
  runAlerting,
} from "../../../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  IncidentStage,
  readIncidentFinding,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { encodeIncident, type Incident, incidentSubject } from "../../../protocol/mod.ts";
import { until, WebhookReceiver } from "../../_support/alertmanager.ts";
import { anomalyFinding } from "../../_support/findings.ts";

const test = suite("run_alerting");

test("runAlerting() sends what the stage makes, handed over as values, and takes no incident off the bus", async () => {
  const hook = await new WebhookReceiver().listen();
  const bus = new InProcessBus();
  const published: string[] = [];
  // The stage's updates go nowhere the sender listens: only its values can reach the sender.
  const stage = new IncidentStage({
    config: { ...defaultIncidentConfig, for_us: 0, reorder_us: 0, group_window_us: 1e6 },
    publish: (subject) => published.push(subject),
  });
  const alerting = await runAlerting(bus, {
    config: parseAlertingConfig({
      webhooks: [hook.url],
      resend_ms: 500,
      paging: { budget: false, page_kinds: ["collapse", "coherence"] },
    }),
    stage,
    log: () => {},
  });
  try {
    // An incident on the sender's bus that the stage never made: not the sender's to send.
    const forged: Incident = {
      ...{ id: "anomaly-1-FORGED", kind: "anomaly", state: "firing", fired: true },
      ...{ silenced: false, first_us: 1, last_us: 1, findings: 1, peak_severity: 5, links: [] },
      ...{ first_finding: "x", last_finding: "x" },
      members: [{ channel: "FORGED", first_us: 1, last_us: 1, findings: 1, peak_severity: 5 }],
    };
    const meta = { id: "forged", src: "incidents", ts: 1 };
    bus.publish(incidentSubject("anomaly"), encodeIncident(meta, forged));
    const t0 = Date.now() * 1000;
    for (const ch of ["SYM1", "SYM2"]) {
      stage.takeFinding(readIncidentFinding(anomalyFinding(ch, t0))!);
    }
    stage.flush(t0 + 10_000);
    const id = stage.list()[0]!.id;
    assert.ok(published.length > 0, "the stage published its updates");
    await until(() => hook.bodies.length > 0, 15_000, "the webhook to get the incident");
    const alert = hook.bodies[0]!.alerts[0]!;
    assert.is(alert.annotations.incident_id, id);
    assert.is(alert.annotations.channels, "SYM1,SYM2");
    await bus.flush();
    assert.equal(Object.keys(alerting.sender.delivery()[0]!.incidents), [id]);
    // What `troupe incidents` asks of the sender: each target and where each incident stands.
    const asked = await askAlertDelivery(bus, { timeoutMs: 2000, src: "test", nowMs: Date.now() });
    const held = alerting.sender.delivery()[0]!;
    assert.equal(
      asked.map((t) => [t.target, t.kind, Object.keys(t.incidents)]),
      [[held.target, "webhook", [id]]],
    );
    assert.is(asked[0]!.incidents[id], held.incidents[id]);
  } finally {
    await alerting.stop();
    await hook.close();
  }
});

test.run();
