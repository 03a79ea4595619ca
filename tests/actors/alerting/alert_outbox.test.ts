/**
 * The pure parts of alerting: an incident as an alert (labels a route matches, annotations the
 * dashboard's words), the outbox per target (a label change ends the old alert, a resolved alert is
 * sent for its window then settles, the bound drops settled entries first, a restore owes what was
 * not delivered) and the `alerting` section's checks.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  alertOfIncident,
  AlertOutbox,
  FIRED_UNSEEN_TEXT,
  parseAlertingConfig,
  sourceAlertLabels,
} from "../../../actors/alerting/mod.ts";
import { ConfigError, type Incident } from "../../../protocol/mod.ts";

const test = suite("alert outbox");
const T = Date.parse("2026-11-26T05:00:00Z") * 1000;

function incident(channels: string[], over: Partial<Incident> = {}): Incident {
  return {
    id: `collapse-${T}-${channels[0]}`,
    kind: "collapse",
    state: "firing",
    fired: true,
    silenced: false,
    members: channels.map((channel) => ({
      channel,
      first_us: T,
      last_us: T + 1_000_000,
      findings: 1,
      peak_severity: 4,
    })),
    first_us: T,
    last_us: T + 1_000_000,
    first_finding: "f1",
    last_finding: "f2",
    findings: channels.length,
    peak_severity: 4,
    links: [],
    ...over,
  };
}

const OPTS = { dashboardUrl: "http://dash:8080", session: "ops" };

test("a Prometheus channel's source labels keep their names; troupe's own are never overwritten", () => {
  const source = {
    __name__: "node_load1",
    __scrape_interval__: "1s",
    job: "node",
    instance: "10.0.0.7:9100",
    severity: "page",
    channel: "theirs",
    env: "",
  };
  const one = alertOfIncident(incident(["node-node_load1"]), {
    ...OPTS,
    sourceLabels: (c) => (c === "node-node_load1" ? source : undefined),
  });
  assert.equal(one.labels, {
    alertname: "TroupeCollapse",
    kind: "collapse",
    severity: "high",
    severity_level: "4",
    incident: `collapse-${T}-node-node_load1`,
    channel: "node-node_load1",
    metric: "node_load1",
    source_channel: "theirs",
    instance: "10.0.0.7:9100",
    job: "node",
    source_severity: "page",
  });
  // A grouped incident carries none (its members' labels differ).
  const group = alertOfIncident(incident(["a", "b"]), { ...OPTS, sourceLabels: () => source });
  assert.is(group.labels.job, undefined);
  // A name taken twice over is left out; a reserved name absent from the alert is still prefixed.
  const labels: Record<string, string> = { kind: "x", source_kind: "y" };
  sourceAlertLabels(labels, { kind: "z", scope: "s" });
  assert.equal(labels, { kind: "x", source_kind: "y", source_scope: "s" });
});

test("alertOfIncident() labels a one-channel incident by channel and a grouped one by scope, with the members annotated", () => {
  const one = alertOfIncident(incident(["SYM1"]), OPTS);
  assert.equal(one.labels, {
    alertname: "TroupeCollapse",
    kind: "collapse",
    severity: "high",
    severity_level: "4",
    incident: `collapse-${T}-SYM1`,
    channel: "SYM1",
  });
  assert.is(one.startsAt, "2026-11-26T05:00:00.000Z");
  assert.is(one.endsAt, undefined);
  assert.is(one.annotations.summary, "collapse on SYM1, severity 4 (high)");
  assert.match(
    one.generatorURL!,
    "http://dash:8080/?session=ops&from=2026-11-26T05%3A00%3A00.000Z",
  );
  const group = alertOfIncident(incident(["A", "B", "C"], { state: "resolved" }), {
    ...OPTS,
    ack: { by: "ana", at_ms: 0 },
  });
  assert.is(group.labels.scope, "group");
  assert.is(group.labels.channel, undefined);
  assert.is(group.annotations.channels, "A,B,C");
  assert.is(group.annotations.acknowledged_by, "ana");
  assert.is(group.endsAt, "2026-11-26T05:00:01.000Z");
});

test("AlertOutbox ends the old label set when an incident's labels change after it was sent", () => {
  const box = new AlertOutbox({
    kind: "alertmanager",
    resend_ms: 1000,
    resolved_resend_ms: 5000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 1000,
  });
  const i1 = incident(["A"]);
  assert.ok(box.want(i1.id, alertOfIncident(i1, OPTS), false, 0));
  assert.not.ok(
    box.want(i1.id, alertOfIncident(i1, OPTS), false, 1),
    "the same alert owes nothing",
  );
  let due = box.due(0, 64);
  box.delivered(due.entries, 0);
  assert.is(box.due(500, 64).alerts.length, 0);
  assert.is(box.due(1000, 64).alerts.length, 1, "firing: sent again after resend_ms");
  const i2 = incident(["A", "B"]);
  box.want(i1.id, alertOfIncident(i2, OPTS), false, 1200);
  due = box.due(1200, 64);
  assert.is(due.alerts.length, 2);
  assert.is(due.alerts[0]!.labels.channel, "A");
  assert.is(due.alerts[0]!.endsAt, new Date(Math.max(1200, T / 1000)).toISOString());
  assert.is(due.alerts[1]!.labels.scope, "group");
  box.delivered(due.entries, 1200);
  assert.equal(box.get(i1.id)!.retired, []);
  // A webhook posts an entry at a time, with the old label set's end in the same body.
  const hook = new AlertOutbox({
    kind: "webhook",
    resend_ms: 1000,
    resolved_resend_ms: 5000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 1000,
  });
  hook.want(i1.id, alertOfIncident(i1, OPTS), false, 0);
  hook.delivered(hook.due(0, 1).entries, 0);
  hook.want(i1.id, alertOfIncident(i2, OPTS), false, 10);
  assert.equal(hook.due(10, 1).alerts.map((a) => a.endsAt !== undefined), [true, false]);
});

test("AlertOutbox: an alert that changed while its first post was in flight is still owed, the sent one ended first", () => {
  const box = new AlertOutbox({
    kind: "alertmanager",
    resend_ms: 1000,
    resolved_resend_ms: 5000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 1000,
  });
  const low = incident(["A", "B"], { peak_severity: 2 });
  box.want(low.id, alertOfIncident(low, OPTS), false, 0);
  const flight = box.due(0, 16);
  const high = incident(["A", "B"], { peak_severity: 4 });
  box.want(low.id, alertOfIncident(high, OPTS), false, 5); // while the post is out
  box.delivered(flight.entries, 10, flight.sent);
  const e = box.get(low.id)!;
  assert.is(e.delivered, false);
  const next = box.due(10, 16);
  assert.equal(next.alerts.map((a) => [a.labels.severity, a.endsAt !== undefined]), [
    ["low", true],
    ["high", false],
  ]);
  box.delivered(next.entries, 20, next.sent);
  assert.ok(box.get(low.id)!.delivered);
  assert.equal(box.get(low.id)!.retired, []);
});

test("AlertOutbox sends a resolved alert for its window, then settles it for good; retries back off", () => {
  const box = new AlertOutbox({
    kind: "alertmanager",
    resend_ms: 1000,
    resolved_resend_ms: 3000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 1000,
  });
  const r = incident(["A"], { state: "resolved" });
  box.want(r.id, alertOfIncident(r, OPTS), false, 0);
  const e = box.due(0, 64).entries;
  box.failed(e, 0, 1);
  assert.is(box.get(r.id)!.next_ms, 500);
  box.failed(e, 500, 1);
  assert.is(box.get(r.id)!.next_ms, 1500);
  for (let i = 0; i < 6; i++) box.failed(e, 0, 1);
  assert.is(box.get(r.id)!.next_ms, 4000, "up to retry_ms_max");
  // Another alert taken by the target: the one in backoff is due at once.
  const other = incident(["B"]);
  box.want(other.id, alertOfIncident(other, OPTS), false, 900);
  const b = box.due(900, 64).entries.filter((x) => x.id === other.id);
  box.delivered(b, 900);
  box.targetBack(900);
  assert.is(box.get(r.id)!.next_ms, 900);
  assert.is(box.get(r.id)!.attempts, 0);
  box.delivered(e, 1000);
  assert.is(box.get(r.id)!.next_ms, 2000);
  box.delivered(e, 3000);
  assert.is(box.get(r.id), undefined, "settled after its window");
  assert.ok(box.isDone(r.id));
  assert.not.ok(box.want(r.id, alertOfIncident(r, OPTS), false, 4000), "not owed again");
});

test("AlertOutbox: an incident that fired and resolved before the target took it is owed firing (annotated), then resolved after the hold", () => {
  const box = new AlertOutbox({
    kind: "alertmanager",
    resend_ms: 1000,
    resolved_resend_ms: 3000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 2000,
  });
  const firing = incident(["A"]);
  box.want(firing.id, alertOfIncident(firing, OPTS), false, 0);
  box.failed(box.due(0, 64).entries, 0, 1); // the target is down
  const resolved = incident(["A"], { state: "resolved" });
  assert.ok(box.want(firing.id, alertOfIncident(resolved, OPTS), false, 100));
  assert.not.ok(box.want(firing.id, alertOfIncident(resolved, OPTS), false, 150), "owed once");
  let due = box.due(200, 64);
  assert.is(due.alerts.length, 1);
  assert.is(due.alerts[0]!.endsAt, undefined, "sent firing first");
  assert.is(due.alerts[0]!.annotations.fired_unseen, FIRED_UNSEEN_TEXT);
  box.delivered(due.entries, 200, due.sent);
  assert.is(box.due(2100, 64).alerts.length, 0, "held firing for unseen_hold_ms");
  assert.not.ok(
    box.want(firing.id, alertOfIncident(resolved, OPTS), false, 2150),
    "the hold is not cut short by the same update again",
  );
  due = box.due(2200, 64);
  assert.is(due.alerts.length, 1);
  assert.is(due.alerts[0]!.endsAt, "2026-11-26T05:00:01.000Z", "then resolved, at its true end");
  assert.is(due.alerts[0]!.annotations.fired_unseen, FIRED_UNSEEN_TEXT);
  box.delivered(due.entries, 2200, due.sent);
  assert.ok(box.get(firing.id)!.delivered);
  // One the target took firing resolves as ever: no annotation, no hold.
  const seen = incident(["B"]);
  box.want(seen.id, alertOfIncident(seen, OPTS), false, 0);
  box.delivered(box.due(0, 64).entries.filter((e) => e.id === seen.id), 0);
  box.want(seen.id, alertOfIncident(incident(["B"], { state: "resolved" }), OPTS), false, 300);
  const next = box.due(300, 64).alerts.filter((a) => a.labels.channel === "B");
  assert.is(next.length, 1);
  assert.ok(next[0]!.endsAt !== undefined);
  assert.is(next[0]!.annotations.fired_unseen, undefined);
});

test("AlertOutbox counts as dropped only entries that fell off before the target took them", () => {
  const box = new AlertOutbox({
    kind: "webhook",
    resend_ms: 1000,
    resolved_resend_ms: 3000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 0,
  });
  for (let k = 0; k < 16; k++) {
    const i = incident([`D${k}`]);
    box.want(i.id, alertOfIncident(i, OPTS), false, 0);
  }
  box.delivered(box.due(0, 64).entries.slice(0, 10), 0); // ten delivered, six still owed
  for (let k = 0; k < 12; k++) {
    const i = incident([`E${k}`]);
    box.want(i.id, alertOfIncident(i, OPTS), false, 10);
  }
  assert.is(box.size, 16);
  assert.is(box.dropped, 2, "twelve fell off, ten of them delivered");
});

test("AlertOutbox's bound drops settled entries first and counts them; a restore owes what was not delivered", () => {
  const box = new AlertOutbox({
    kind: "webhook",
    resend_ms: 1000,
    resolved_resend_ms: 3000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 1000,
  });
  for (let k = 0; k < 16; k++) {
    const i = incident([`C${k}`], { state: k === 5 ? "resolved" : "firing" });
    box.want(i.id, alertOfIncident(i, OPTS), false, 0);
  }
  const extra = incident(["X"]);
  box.want(extra.id, alertOfIncident(extra, OPTS), false, 0);
  assert.is(box.size, 16);
  assert.is(box.dropped, 1);
  assert.is(box.get(incident(["C5"]).id), undefined, "the resolved one went first");
  const saved = JSON.parse(JSON.stringify(box.saved()));
  const again = new AlertOutbox({
    kind: "webhook",
    resend_ms: 1000,
    resolved_resend_ms: 3000,
    retry_ms_max: 4000,
    owed_max: 16,
    unseen_hold_ms: 1000,
  });
  again.restore(saved, 10);
  assert.is(again.size, 16);
  assert.is(again.due(10, 64).entries.length, 16, "all owed again at once");
  assert.is(again.nextDueMs(), 0);
});

test("parseAlertingConfig() names a bad field and its value", () => {
  const c = parseAlertingConfig({
    alertmanagers: ["http://am:9093/"],
    webhooks: [{ url: "https://h/x", headers: { Authorization: "Bearer t" } }],
  });
  assert.equal(c.alertmanagers, ["http://am:9093"]);
  assert.is(c.resend_ms, 60_000);
  assert.is(c.resolved_resend_ms, 300_000);
  for (
    const [raw, field] of [
      [{ alertmanagers: "http://am" }, "alerting.alertmanagers"],
      [{ webhooks: [{ url: "h" }] }, "alerting.webhooks[0].url"],
      [
        { webhooks: [{ url: "http://h", headers: { A: "x\ny" } }] },
        "alerting.webhooks[0].headers.A",
      ],
      [{ resend_ms: 10 }, "alerting.resend_ms"],
      [{ sent: 1 }, "alerting.sent"],
    ] as const
  ) {
    try {
      parseAlertingConfig(raw);
      assert.unreachable(`${JSON.stringify(raw)} passed`);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.is((err as ConfigError).field, field, (err as Error).message);
    }
  }
});

test.run();
