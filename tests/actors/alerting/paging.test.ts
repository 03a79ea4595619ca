/**
 * What pages, against Debian's Alertmanager started here on a free port: the incident stage fed
 * findings as the detectors publish them, the sender counting the budget's census from the
 * detectors' columns frames on the bus. One incident over two nodes is two pages, one per
 * `instance`, each with the group's `job` and `instance` and, per series, the value, the expected
 * range and the tail probability against the threshold; a lone finding below the budget and a
 * change point send nothing, and the change point is named on its node's page as what changed.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseAlertingConfig, runAlerting } from "../../../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  type IncidentConfig,
  readIncidentFinding,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { outSubject } from "../../../protocol/mod.ts";
import { Registry } from "prom-client";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../../_support/alertmanager.ts";
import { anomalyColumns, anomalyFinding } from "../../_support/findings.ts";

const test = suite("paging");
const it = haveAlertmanager("paging") ? test : test.skip;

const FAST: IncidentConfig = {
  ...defaultIncidentConfig,
  for_us: 500_000,
  reorder_us: 0,
  hold_us: 60_000_000,
  group_window_us: 1_000_000,
};

/** Three series on each of two nodes, one on a third; labels as the receiver writes them. */
const LABELS = new Map<string, Record<string, string>>();
for (const node of ["n1", "n2", "n3"]) {
  for (const metric of node === "n3" ? ["load"] : ["cpu", "load", "mem"]) {
    LABELS.set(`${node}-${metric}`, { __name__: metric, instance: `${node}:9100`, job: "node" });
  }
}

it("one incident over two nodes is a page per instance with job, instance and per series what was seen; a lone finding and a change point page nothing", async () => {
  const hook = await new WebhookReceiver().listen();
  const am = await TestAlertmanager.start(hook.url);
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, { config: FAST });
  const registry = new Registry();
  const alerting = await runAlerting(bus, {
    config: parseAlertingConfig({ alertmanagers: [am.url], resend_ms: 500 }),
    stage,
    log: () => {},
    registry,
    groupWindowUs: FAST.group_window_us,
    sourceLabels: (channel) => LABELS.get(channel),
  });
  try {
    const t0 = Date.now() * 1000;
    // The census: every channel scored, 100 samples each (and 33 channels more elsewhere).
    const times = Float64Array.from({ length: 100 }, (_, i) => t0 - (100 - i) * 1_000_000);
    const all = [...LABELS.keys(), ...Array.from({ length: 33 }, (_, i) => `other${i}`)];
    for (const ch of all) bus.publish(outSubject("anomaly", ch), anomalyColumns(ch, times));
    await until(() => alerting.sender.census()?.channels === 40, 5_000, "the census");

    // A change point on n1's load at t0: context, never sent alone.
    stage.takeFinding({ id: "c1", kind: "collapse", channel: "n1-load", ts_us: t0, severity: 5 });
    // Anomalies on the six series of n1 and n2 within the window; a lone one on n3 later.
    let k = 0;
    for (const ch of ["n1-cpu", "n1-load", "n1-mem", "n2-cpu", "n2-load", "n2-mem"]) {
      stage.takeFinding(readIncidentFinding(anomalyFinding(ch, t0 + 10_000 * k++))!);
    }
    stage.takeFinding(readIncidentFinding(anomalyFinding("n3-load", t0 + 3_000_000))!);
    stage.flush(t0 + 6_000_000);
    const fired = stage.list().filter((i) => i.fired).map((i) => `${i.kind} ${i.members.length}`);
    assert.equal(fired.sort(), ["anomaly 1", "anomaly 6", "collapse 1"]);

    await until(async () => (await am.alerts()).length >= 2, 15_000, "the two pages");
    await new Promise((r) => setTimeout(r, 1_500)); // a resend or two: nothing more comes
    const alerts = (await am.alerts()).sort((a, b) =>
      a.labels.instance! < b.labels.instance! ? -1 : 1
    );
    assert.equal(alerts.map((a) => [a.labels.instance, a.labels.job, a.labels.page]), [
      ["n1:9100", "node", "true"],
      ["n2:9100", "node", "true"],
    ]);
    for (const a of alerts) {
      assert.is(a.labels.alertname, "TroupeAnomaly");
      assert.is(a.labels.metric, undefined, "three series: no one metric");
      assert.is(a.labels.scope, "group");
      assert.ok(Number(a.labels.severity_level) >= 3, a.labels.severity);
      // 0.95 states 14.5 bits: p = 2^-14.5; the threshold is 1 / the samples a day.
      assert.match(
        a.annotations.description!,
        /-cpu: value 80 expected 95 to 105 p 4\.32e-5 \(page threshold [0-9.e-]+\)/,
      );
      assert.match(a.annotations.description!, /decade\(s\) past the budget of 1 page\(s\) a day/);
    }
    // `troupe incidents` sees the incident of two alerts as one, sent; the lone one as none.
    const id = alerts[0]!.labels.incident!;
    assert.is(alerts[1]!.labels.incident, id, "two alerts of one incident");
    await until(() => alerting.sender.delivery()[0]!.incidents[id] === "sent", 5_000, "sent");
    assert.equal(Object.keys(alerting.sender.delivery()[0]!.incidents), [id]);
    assert.match(alerts[0]!.annotations.what_changed ?? "", /^collapse on n1-load from /);
    assert.is(alerts[1]!.annotations.what_changed, undefined, "n2 had no change point");
    // A change point on n2 that comes after its page (within its window): named on the page.
    stage.takeFinding({
      id: "c2",
      kind: "collapse",
      channel: "n2-mem",
      ts_us: t0 + 600_000,
      severity: 4,
    });
    stage.flush(t0 + 9_000_000);
    await until(
      async () =>
        (await am.alerts()).some((a) =>
          /collapse on n2-mem/.test(a.annotations.what_changed ?? "")
        ),
      15_000,
      "n2's page to name its change point",
    );
    assert.is((await am.alerts()).length, 2, "the change point is not an alert of its own");
    const metrics = await registry.metrics();
    // 4,000 samples in the census's first 10 s: 34.56 million a day, 25 bits; one finding alone
    // would need a score of 2, which none can reach: only groups page.
    const needed = Number(/troupe_page_threshold\{kind="anomaly"\} ([0-9.]+)/.exec(metrics)?.[1]);
    assert.ok(needed > 1.9 && needed <= 2.01, `threshold ${needed}`);
    assert.match(metrics, /troupe_page_budget_channels 40/);
  } finally {
    await alerting.stop();
    stop();
    await am.cleanup();
    await hook.close();
  }
});

test.run();
