/**
 * The alert sender against Debian's Alertmanager, started here on a free port and routing to a
 * webhook receiver served by the test: a crash over eight channels is one alert, reaches the webhook
 * through Alertmanager's grouping, and resolves there when troupe resolves it; an Alertmanager
 * killed and restarted while incidents fire ends with the same alerts; troupe's silences keep an
 * alert from being sent and an acknowledgement updates it without resolving it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  FIRED_UNSEEN_TEXT,
  parseAlertingConfig,
  runAlerting,
} from "../../../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  type IncidentConfig,
  IncidentStage,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import {
  alertFingerprint,
  encodeIncidentControl,
  incidentControlSubject,
  type IncidentKind,
} from "../../../protocol/mod.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../../_support/alertmanager.ts";
import { anomalyFinding } from "../../_support/findings.ts";
import { readIncidentFinding } from "../../../actors/incidents/mod.ts";

const test = suite("alertmanager");
const it = haveAlertmanager("alertmanager") ? test : test.skip;

/**
 * Incidents gather members for half a second of event time, fire, and resolve a second after
 * their last finding.
 */
const FAST: IncidentConfig = {
  ...defaultIncidentConfig,
  for_us: 500_000,
  reorder_us: 0,
  hold_us: 1_000_000,
  group_window_us: 1_000_000,
};

const CHANNELS = Array.from({ length: 8 }, (_, i) => `SYM00${i}`);

function crash(stage: IncidentStage, channels: readonly string[], ts: number): void {
  for (const ch of channels) stage.takeFinding(readIncidentFinding(anomalyFinding(ch, ts))!);
}

let findings = 0;
/** A finding of `kind` on `channel` at `ts`, severity 5 (kinds group apart). */
function finding(stage: IncidentStage, kind: IncidentKind, channel: string, ts: number): void {
  stage.takeFinding({ id: `f${++findings}`, kind, channel, ts_us: ts, severity: 5 });
}

async function setup(extra: Record<string, unknown> = {}, pair = false) {
  const hook = await new WebhookReceiver().listen();
  const am = await TestAlertmanager.start(hook.url);
  const am2 = pair ? await TestAlertmanager.start(hook.url) : undefined;
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, { config: FAST });
  const logs: string[] = [];
  const alerting = await runAlerting(bus, {
    config: parseAlertingConfig({
      alertmanagers: am2 ? [am.url, am2.url] : [am.url],
      resend_ms: 500,
      resolved_resend_ms: 1000,
      dashboard_url: "http://127.0.0.1:1",
      // Delivery, not paging: every fired incident is sent (paging.test.ts tests the budget).
      paging: { budget: false, page_kinds: ["collapse", "coherence"] },
      ...extra,
    }),
    stage,
    log: (m) => logs.push(m),
  });
  return {
    hook,
    am,
    am2,
    bus,
    stage,
    logs,
    alerting,
    async close() {
      await alerting.stop();
      stop();
      await am.cleanup();
      await am2?.cleanup();
      await hook.close();
    },
  };
}

it("a crash over eight channels is one alert to each of an HA pair, reaches the webhook through Alertmanager's grouping, and resolves there when troupe resolves it", async () => {
  const s = await setup({}, true);
  try {
    const t0 = Date.now() * 1000;
    crash(s.stage, CHANNELS, t0);
    s.stage.flush(t0 + 600_000);
    await until(async () => (await s.am.alerts()).length > 0, 15_000, "Alertmanager to list it");
    const listed = await s.am.alerts();
    assert.is(listed.length, 1, "one alert for the eight channels");
    const a = listed[0]!;
    assert.is(a.labels.alertname, "TroupeAnomaly");
    assert.is(a.labels.kind, "anomaly");
    assert.is(a.labels.scope, "group");
    assert.is(a.labels.severity, "critical");
    assert.is(a.labels.severity_level, "5");
    assert.is(a.annotations.channels, CHANNELS.join(","));
    assert.is(a.annotations.incident_id, s.stage.list()[0]!.id);
    assert.is(a.fingerprint, alertFingerprint(a.labels), "troupe's fingerprint is Alertmanager's");
    await until(async () => (await s.am2!.alerts()).length === 1, 15_000, "the pair's other one");
    assert.is((await s.am2!.alerts())[0]!.fingerprint, a.fingerprint);
    await until(() => s.hook.bodies.length > 0, 15_000, "the webhook to get the group");
    const fired = s.hook.bodies[0]!;
    assert.is(fired.status, "firing");
    assert.is(fired.alerts.length, 1);
    assert.is(fired.groupLabels.alertname, "TroupeAnomaly");
    assert.match(fired.alerts[0]!.generatorURL, /^http:\/\/127\.0\.0\.1:1\/\?session=main&from=/);

    s.stage.flush(t0 + 5_000_000); // a quiet stretch: it resolves
    assert.is(s.stage.list()[0]!.state, "resolved");
    await until(
      async () => (await s.am.alerts()).length === 0,
      15_000,
      "Alertmanager to resolve it",
    );
    await until(
      async () => (await s.am2!.alerts()).length === 0,
      15_000,
      "the other to resolve it",
    );
    await until(
      () => s.hook.bodies.some((b) => b.status === "resolved"),
      15_000,
      "the webhook to get the resolve",
    );
    const resolved = s.hook.bodies.find((b) => b.status === "resolved")!;
    assert.is(resolved.alerts[0]!.fingerprint, fired.alerts[0]!.fingerprint);
    for (const c of s.alerting.sender.counts()) {
      assert.ok(c.counts.sent >= 2, `${c.name}: sent ${c.counts.sent}`);
      assert.is(c.counts.failed, 0);
    }
  } finally {
    await s.close();
  }
});

it("Alertmanager killed and restarted while incidents fire ends with the same alerts, and one resolved meanwhile stays resolved", async () => {
  const s = await setup();
  try {
    const t0 = Date.now() * 1000;
    finding(s.stage, "anomaly", "A1", t0);
    finding(s.stage, "collapse", "B1", t0 + 100_000);
    finding(s.stage, "coherence", "C1", t0 + 200_000);
    s.stage.flush(t0 + 800_000);
    await until(async () => (await s.am.alerts()).length === 3, 15_000, "three alerts");
    const before = (await s.am.alerts()).map((a) => a.fingerprint).sort();
    await s.am.kill();
    // While it is down: A1's and B1's incidents resolve, C1's takes another finding.
    finding(s.stage, "coherence", "C1", t0 + 1_150_000);
    s.stage.flush(t0 + 1_190_000);
    const states = s.stage.list().map((i) => i.state);
    assert.equal(states, ["resolved", "resolved", "firing"]);
    await new Promise((r) => setTimeout(r, 1200)); // tries fail and back off
    await s.am.restart();
    await until(
      async () => {
        const now = await s.am.alerts();
        return now.length === 1 && now[0]!.labels.channel === "C1";
      },
      20_000,
      "Alertmanager to hold C1 firing only",
    );
    const after = (await s.am.alerts()).map((a) => a.fingerprint);
    assert.ok(before.includes(after[0]!), "the same alert (labels) as before the restart");
    assert.ok(s.alerting.sender.counts()[0]!.counts.retried > 0, "the tries while down count");
  } finally {
    await s.close();
  }
});

it("an incident that fired and resolved while Alertmanager was down reaches it firing, annotated, and then resolved", async () => {
  const s = await setup({ unseen_hold_ms: 1500, retry_ms_max: 400 });
  try {
    await s.am.kill();
    const t0 = Date.now() * 1000;
    finding(s.stage, "anomaly", "U1", t0);
    s.stage.flush(t0 + 800_000);
    assert.is(s.stage.list()[0]!.state, "firing");
    await new Promise((r) => setTimeout(r, 300)); // a try fails
    s.stage.flush(t0 + 3_000_000);
    assert.is(s.stage.list()[0]!.state, "resolved", "it resolved while Alertmanager was down");
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(s.alerting.sender.counts()[0]!.counts.retried > 0, "tries failed meanwhile");
    await s.am.restart();
    await until(
      () => s.hook.bodies.some((b) => b.status === "resolved"),
      20_000,
      "the webhook to get the resolve",
    );
    const statuses = s.hook.bodies.map((b) => b.status);
    assert.is(statuses[0], "firing", `told it fired first: ${statuses.join(", ")}`);
    const fired = s.hook.bodies[0]!.alerts[0]!;
    assert.is(fired.labels.channel, "U1");
    assert.is(fired.annotations.fired_unseen, FIRED_UNSEEN_TEXT);
    const resolved = s.hook.bodies.find((b) => b.status === "resolved")!.alerts[0]!;
    assert.is(resolved.fingerprint, fired.fingerprint);
    const end = Date.parse(resolved.endsAt);
    assert.ok(
      end <= (t0 + 3_000_000) / 1000,
      `resolved at its true end, not later: ${resolved.endsAt}`,
    );
  } finally {
    await s.close();
  }
});

it("a silenced incident is not sent, a silence made later ends its alert, and an ack updates it without resolving it", async () => {
  const s = await setup();
  try {
    const t0 = Date.now() * 1000;
    const silence = (channels: string[], at: number) =>
      s.stage.control(encodeIncidentControl({ id: `s${at}`, src: "t", ts: at }, {
        type: "silences",
        session: "main",
        silences: channels.map((value, i) => ({
          id: `s${i}`,
          matchers: [{ label: "channel" as const, op: "=" as const, value }],
          starts_us: at,
          ends_us: at + 3_600_000_000,
        })),
      }));
    silence(["Q1"], t0 - 1);
    finding(s.stage, "collapse", "Q1", t0);
    finding(s.stage, "anomaly", "R1", t0 + 10);
    s.stage.flush(t0 + 600_000);
    s.stage.silencesChanged();
    await until(async () => (await s.am.alerts()).length === 1, 15_000, "R1's alert");
    await new Promise((r) => setTimeout(r, 700));
    const listed = await s.am.alerts();
    assert.equal(listed.map((a) => a.labels.channel), ["R1"], "Q1 is silenced: never sent");
    assert.ok(s.stage.list().find((i) => i.members[0]!.channel === "Q1")!.silenced);
    const delivery = s.alerting.sender.delivery()[0]!.incidents;
    const q = s.stage.list().find((i) => i.members[0]!.channel === "Q1")!.id;
    assert.is(delivery[q], "silenced");

    // The acknowledgement, as the collab bridge sends it: an annotation, the alert still firing.
    const r = s.stage.list().find((i) => i.members[0]!.channel === "R1")!.id;
    s.bus.publish(
      incidentControlSubject(),
      encodeIncidentControl({ id: "ack1", src: "t", ts: Date.now() * 1000 }, {
        type: "ack",
        session: "main",
        incident: r,
        by: "ana",
      }),
    );
    await until(
      async () => {
        const a = (await s.am.alerts())[0];
        return a?.annotations.acknowledged_by === "ana";
      },
      15_000,
      "the ack's annotation",
    );
    assert.is((await s.am.alerts()).length, 1, "acknowledged, still firing");

    // Silenced once sent: Alertmanager is told it ended, and troupe still holds it, marked.
    silence(["Q1", "R1"], t0 + 700_000);
    s.stage.flush(t0 + 800_000);
    await until(async () => (await s.am.alerts()).length === 0, 15_000, "R1's alert to end");
    const held = s.stage.list().find((i) => i.id === r)!;
    assert.is(held.state, "firing");
    assert.ok(held.silenced);
    await until(
      () => s.alerting.sender.delivery()[0]!.incidents[r] === "silenced",
      10_000,
      "R1 shown silenced",
    );
  } finally {
    await s.close();
  }
});

test.run();
