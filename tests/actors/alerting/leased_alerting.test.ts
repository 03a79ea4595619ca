/**
 * The alert sender moves with a leased stage, against real parts (a nats-server with JetStream,
 * the findings stream, the cluster's KV snapshot store, Debian's Alertmanager): its holder dies
 * without a word while incidents fire, Alertmanager restarts and so holds nothing, findings come
 * in while no host runs the stage (one incident resolves, another opens), and the host that takes
 * the stage over, with the outboxes its holder saved, ends with Alertmanager holding the true
 * state: the firing incidents, not the resolved one.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseAlertingConfig, runAlerting } from "../../../actors/alerting/mod.ts";
import { defaultIncidentConfig, runDurableIncidentStage } from "../../../actors/incidents/mod.ts";
import { KvSnapshotStore, NatsBus, openFindingsStream } from "../../../actors/runtime/mod.ts";
import { findingSubject } from "../../../protocol/mod.ts";
import { haveNatsServer, startTestNats } from "../../_support/nats.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../../_support/alertmanager.ts";
import { anomalyFinding } from "../../_support/findings.ts";

const test = suite("leased alerting");
const real = haveNatsServer("leased alerting") && haveAlertmanager("leased alerting");
const S = 1_000_000;

(real ? test : test.skip)(
  "a leased stage's sender taken over after its holder died ends with Alertmanager holding the true state",
  async () => {
    const nats = await startTestNats();
    const hook = await new WebhookReceiver().listen();
    const am = await TestAlertmanager.start(hook.url);
    const feed = await NatsBus.connect(nats.url);
    const hostA = await NatsBus.connect(nats.url);
    const hostB = await NatsBus.connect(nats.url);
    const stops: Array<() => Promise<unknown>> = [];
    try {
      const config = {
        ...defaultIncidentConfig,
        for_us: 0,
        reorder_us: 0,
        hold_us: 5 * S,
        group_window_us: S,
      };
      const alerting = parseAlertingConfig({
        alertmanagers: [am.url],
        resend_ms: 500,
        paging: { budget: false, page_kinds: ["collapse", "coherence"] },
      });
      const holder = async (bus: NatsBus) => {
        const source = await openFindingsStream(bus.nc);
        const snapshots = await KvSnapshotStore.open(bus.nc);
        const run = await runDurableIncidentStage(bus, { config, source, snapshots });
        const sender = await runAlerting(bus, {
          config: alerting,
          stage: run.stage,
          store: snapshots,
          log: () => {},
        });
        return { run, sender, snapshots };
      };
      const publish = (ch: string, ts: number) =>
        feed.publish(findingSubject("anomaly", ch), anomalyFinding(ch, ts));
      const t0 = Date.now() * 1000;
      const a = await holder(hostA);
      publish("OLD", t0);
      publish("KEEP", t0 + 2 * S);
      await until(async () => (await am.alerts()).length === 2, 15_000, "two alerts");
      // Its holder dies: no stop, no save beyond what it had saved as it went.
      await a.sender.abandon();
      await a.run.abandon();
      await am.restart();
      assert.equal(await am.alerts(), []);
      // While no host runs the stage: OLD's incident resolves (5 s quiet), KEEP takes a finding,
      // NEW opens.
      publish("KEEP", t0 + 6 * S);
      publish("NEW", t0 + 8 * S);
      await feed.flush();
      const b = await holder(hostB);
      stops.push(() => b.sender.stop(), () => b.run.stop(), () => b.snapshots.close());
      const states = Object.fromEntries(
        b.run.stage.list().map((i) => [i.members[0]!.channel, i.state]),
      );
      assert.equal(states, { OLD: "resolved", KEEP: "firing", NEW: "firing" });
      await until(
        async () => {
          const held = (await am.alerts()).map((x) => x.labels.channel).sort();
          return held.join() === "KEEP,NEW";
        },
        20_000,
        "Alertmanager to hold KEEP and NEW firing, not OLD",
      );
      const old = b.run.stage.list().find((i) => i.members[0]!.channel === "OLD")!;
      await until(
        () => b.sender.sender.delivery()[0]!.incidents[old.id] === "sent",
        15_000,
        "OLD's resolve delivered",
      );
      await a.snapshots.close();
    } finally {
      for (const stop of stops) await stop().catch(() => {});
      await hostA.close();
      await hostB.close();
      await feed.close();
      await am.cleanup();
      await hook.close();
      await nats.cleanup();
    }
  },
);

test.run();
