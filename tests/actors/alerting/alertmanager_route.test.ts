/**
 * The alertmanager.yml of docs/alerting.md, run in Debian's Alertmanager (its waits shortened, its
 * receivers' URLs pointed at two webhook receivers served here): troupe's pages reach `pager`, one
 * notification per instance; a group below the budget, sent with `below_budget: "info"`, reaches
 * `team-chat` only.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { parseAlertingConfig, runAlerting } from "../../../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  readIncidentFinding,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { outSubject } from "../../../protocol/mod.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../../_support/alertmanager.ts";
import { anomalyColumns, anomalyFinding } from "../../_support/findings.ts";

const test = suite("alertmanager route");
const it = haveAlertmanager("alertmanager route") ? test : test.skip;

/** The yaml block under the doc's "An alertmanager.yml route". */
function documentedRoute(): string {
  const doc = readFileSync(new URL("../../../docs/alerting.md", import.meta.url), "utf8");
  const section = doc.slice(doc.indexOf("## An alertmanager.yml route"));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(yaml, "docs/alerting.md has the route's yaml");
  return yaml!;
}

it("the documented route sends pages to the pager, one notification per instance, and what is below the budget to the chat", async () => {
  const pager = await new WebhookReceiver().listen();
  const chat = await new WebhookReceiver().listen();
  const config = documentedRoute()
    .replace("http://pager-bridge.internal/alertmanager", pager.url)
    .replace("http://chat-bridge.internal/alertmanager", chat.url)
    .replace("group_wait: 10s", "group_wait: 300ms")
    .replace("group_interval: 1m", "group_interval: 500ms");
  const am = await TestAlertmanager.start(pager.url, undefined, { config });
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, {
    config: { ...defaultIncidentConfig, for_us: 500_000, reorder_us: 0, group_window_us: 1e6 },
  });
  const labels = (channel: string) => {
    const [node, metric] = channel.split("-");
    return { __name__: metric!, instance: `${node}:9100`, job: "node" };
  };
  const alerting = await runAlerting(bus, {
    config: parseAlertingConfig({
      alertmanagers: [am.url],
      resend_ms: 500,
      paging: { below_budget: "info" },
    }),
    stage,
    log: () => {},
    groupWindowUs: 1e6,
    sourceLabels: (channel) => channel.startsWith("n") ? labels(channel) : undefined,
  });
  try {
    const t0 = Date.now() * 1000;
    const channels = ["n1-cpu", "n1-load", "n1-mem", "n2-cpu", "n2-load", "n2-mem", "n3-load"];
    const times = Float64Array.from({ length: 100 }, (_, i) => t0 - (100 - i) * 1_000_000);
    for (const ch of [...channels, ...Array.from({ length: 33 }, (_, i) => `x${i}`)]) {
      bus.publish(outSubject("anomaly", ch), anomalyColumns(ch, times));
    }
    await until(() => alerting.sender.census()?.channels === 40, 5_000, "the census");
    channels.forEach((ch, i) =>
      stage.takeFinding(readIncidentFinding(anomalyFinding(ch, t0 + i * 10_000))!)
    );
    stage.flush(t0 + 3_000_000);

    const instancesOf = (hook: WebhookReceiver) =>
      hook.bodies.map((
        b,
      ) => [...new Set(b.alerts.map((a) => `${a.labels.instance} ${a.labels.page}`))]);
    await until(() => instancesOf(pager).length >= 2, 15_000, "the pager's two notifications");
    await until(() => instancesOf(chat).length >= 1, 15_000, "the chat's notification");
    await new Promise((r) => setTimeout(r, 1_000)); // nothing else comes
    assert.equal(instancesOf(pager).sort(), [["n1:9100 true"], ["n2:9100 true"]]);
    assert.equal(instancesOf(chat), [["n3:9100 false"]]);
    const info = chat.bodies[0]!.alerts[0]!;
    assert.is(info.labels.metric, "load");
    assert.ok(["info", "low"].includes(info.labels.severity!), info.labels.severity);
  } finally {
    await alerting.stop();
    stop();
    await am.cleanup();
    await pager.close();
    await chat.close();
  }
});

test.run();
