/**
 * A channel's source labels that reach the alert sender after its first finding (the receiver
 * writes them as it admits the channel; the sender reads them through a watch that can lag): the
 * open incident's alert is built again with them, Debian's Alertmanager lists one alert of the
 * channel, with `job` and `instance`, and the label-less one it was sent first is ended there.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseAlertingConfig, runAlerting } from "../../../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  readIncidentFinding,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../../_support/alertmanager.ts";
import { anomalyFinding } from "../../_support/findings.ts";

const test = suite("late source labels");
const it = haveAlertmanager("late source labels") ? test : test.skip;

it("labels that come after the incident fired are put on its alert, and the label-less alert ends", async () => {
  const hook = await new WebhookReceiver().listen();
  const am = await TestAlertmanager.start(hook.url);
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, {
    config: { ...defaultIncidentConfig, for_us: 0, reorder_us: 0, group_window_us: 1e6 },
  });
  const known = new Map<string, Record<string, string>>();
  const alerting = await runAlerting(bus, {
    config: parseAlertingConfig({
      alertmanagers: [am.url],
      resend_ms: 500,
      paging: { budget: false, page_kinds: ["anomaly"] },
    }),
    stage,
    log: () => {},
    groupWindowUs: 1e6,
    sourceLabels: (channel) => known.get(channel),
  });
  try {
    const ch = "h1-node_load1";
    const t0 = Date.now() * 1000;
    stage.takeFinding(readIncidentFinding(anomalyFinding(ch, t0))!);
    stage.flush(t0 + 2_000_000);
    await until(
      async () => (await am.alerts()).some((a) => a.labels.channel === ch),
      10_000,
      "the label-less alert in Alertmanager",
    );
    assert.is((await am.alerts()).find((a) => a.labels.channel === ch)!.labels.job, undefined);

    // Labels of another channel change nothing; the channel's own rebuild its alert.
    alerting.sender.labelsCame("elsewhere");
    known.set(ch, { __name__: "node_load1", job: "node", instance: "10.0.0.7:9100" });
    alerting.sender.labelsCame(ch);
    await until(
      async () => (await am.alerts()).some((a) => a.labels.channel === ch && a.labels.job),
      10_000,
      "the alert with its source labels",
    );
    const listed = (await am.alerts()).filter((a) => a.labels.channel === ch);
    assert.is(listed.length, 1, "the label-less alert was ended");
    assert.is(listed[0]!.labels.job, "node");
    assert.is(listed[0]!.labels.instance, "10.0.0.7:9100");
    assert.is(listed[0]!.labels.metric, "node_load1");
  } finally {
    await alerting.stop();
    stop();
    await am.cleanup();
    await hook.close();
  }
});

test.run();
