import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  alertFingerprint,
  buildWebhookPayload,
  decodeAlertDelivery,
  encodeAlertDelivery,
  encodePostableAlerts,
  parsePostableAlerts,
  parseWebhookPayload,
  type PostableAlert,
  ProtocolError,
} from "../../protocol/mod.ts";

const test = suite("alertmanager_alert");

const firing: PostableAlert = {
  labels: { alertname: "TroupeCollapse", kind: "collapse", severity: "critical", group: "market" },
  annotations: { summary: "collapse on 8 channels", incident_id: "collapse-1-A" },
  startsAt: "2026-11-26T05:00:00.000Z",
  generatorURL: "http://127.0.0.1:8080/?session=main",
};

test("encodePostableAlerts() and parsePostableAlerts() round-trip firing and resolved alerts", () => {
  const resolved = { ...firing, endsAt: "2026-11-26T05:10:00.000Z" };
  const back = parsePostableAlerts(encodePostableAlerts([firing, resolved]));
  assert.equal(back, [firing, resolved]);
  // Labels in one order: equal alerts encode to equal text.
  const shuffled = { ...firing, labels: { group: "market", ...firing.labels } };
  assert.is(encodePostableAlerts([shuffled]), encodePostableAlerts([firing]));
});

test("parsePostableAlerts() names a label Alertmanager would refuse", () => {
  for (
    const [labels, field] of [
      [{ "bad-name": "x" }, "alerts[0].labels.bad-name"],
      [{ alertname: "" }, "alerts[0].labels.alertname"],
      [{}, "alerts[0].labels"],
    ] as const
  ) {
    const text = JSON.stringify([{ labels, startsAt: firing.startsAt }]);
    const err = (() => {
      try {
        parsePostableAlerts(text);
      } catch (e) {
        return e;
      }
    })();
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).field, field);
  }
  assert.throws(
    () => parsePostableAlerts(JSON.stringify([{ ...firing, endsAt: "2026-11-26T04:00:00Z" }])),
    /endsAt.*must not be before startsAt/,
  );
  assert.throws(
    () => parsePostableAlerts(`[{"labels":{"a":"b"},"startsAt":"yesterday"}]`),
    /RFC 3339/,
  );
});

test("alertFingerprint() is Alertmanager's: FNV-1a 64 over sorted names and values", () => {
  // The empty set is FNV-1a's offset basis; one label as Prometheus's model computes it.
  assert.is(alertFingerprint({}), "cbf29ce484222325");
  assert.is(alertFingerprint({ a: "b", c: "d" }), alertFingerprint({ c: "d", a: "b" }));
  assert.is.not(alertFingerprint({ a: "b" }), alertFingerprint({ a: "c" }));
  assert.match(alertFingerprint(firing.labels), /^[0-9a-f]{16}$/);
});

test("buildWebhookPayload() and parseWebhookPayload() round-trip a version 4 body", () => {
  const now = Date.parse("2026-11-26T05:20:00Z");
  const resolved = {
    ...firing,
    labels: { ...firing.labels, channel: "SYM001" },
    endsAt: "2026-11-26T05:10:00.000Z",
  };
  const body = buildWebhookPayload([firing, resolved], {
    receiver: "troupe",
    externalURL: "http://troupe",
    nowMs: now,
  });
  assert.is(body.version, "4");
  assert.is(body.status, "firing");
  assert.equal(body.groupLabels, { alertname: "TroupeCollapse" });
  assert.is(body.commonLabels.kind, "collapse");
  assert.is(body.commonLabels.channel, undefined);
  assert.is(body.alerts[0]!.endsAt, "0001-01-01T00:00:00Z");
  assert.is(body.alerts[1]!.status, "resolved");
  assert.is(body.alerts[0]!.fingerprint, alertFingerprint(firing.labels));
  assert.equal(parseWebhookPayload(JSON.stringify(body)), body);
  assert.throws(() => parseWebhookPayload(JSON.stringify({ ...body, version: "3" })), /version/);
  assert.throws(
    () =>
      parseWebhookPayload(
        JSON.stringify({ ...body, alerts: [{ ...body.alerts[0], fingerprint: "x" }] }),
      ),
    /alerts\[0\]\.fingerprint/,
  );
});

test("encodeAlertDelivery() and decodeAlertDelivery() round-trip per target states", () => {
  const targets = [
    {
      target: "http://am1:9093",
      kind: "alertmanager" as const,
      incidents: { "a-1-X": "sent" as const },
    },
    { target: "http://hook", kind: "webhook" as const, incidents: { "a-1-X": "owed" as const } },
  ];
  const bytes = encodeAlertDelivery({ id: "x", src: "alerts", ts: 1 }, targets);
  assert.equal(decodeAlertDelivery(bytes), targets);
  const bad = encodeAlertDelivery({ id: "x", src: "alerts", ts: 1 }, [
    // deno-lint-ignore no-explicit-any
    { ...targets[0]!, incidents: { "a-1-X": "lost" as any } },
  ]);
  assert.throws(() => decodeAlertDelivery(bad), /incidents\.a-1-X.*must be one of/);
});

test.run();
