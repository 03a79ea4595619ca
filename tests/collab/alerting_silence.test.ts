/**
 * troupe's silences decide what reaches Alertmanager, against real parts: a nats-server, the collab
 * server, the incident stage with the alert sender beside it, Debian's Alertmanager, and stock
 * y-websocket clients holding a viewer's and an editor's token (not a browser: the silence is a
 * write to the session document, which the dashboard's panel makes the same way). A viewer's
 * silence is dropped at the server and the alert stays; an editor's stops it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { parseAlertingConfig, runAlerting } from "../../actors/alerting/mod.ts";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab, SessionIncidents } from "../../collab/mod.ts";
import { encodeEventEnvelope, findingSubject } from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../_support/alertmanager.ts";
import { connectClient, tokenFor, waitForMetric } from "./_support.ts";

const test = suite("silences decide what reaches Alertmanager");
const real = haveNatsServer("alerting silences") && haveAlertmanager("alerting silences");
const S = 1_000_000;

(real ? test : test.skip)(
  "a viewer's silence is dropped and the alert stays; an editor's silence stops it",
  async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-alerting-silence-");
    const hook = await new WebhookReceiver().listen();
    const am = await TestAlertmanager.start(hook.url);
    const bus = await NatsBus.connect(nats.url);
    const stage = runIncidentStage(bus, {
      config: { ...defaultIncidentConfig, for_us: 0, reorder_us: 0 },
    });
    const alerting = await runAlerting(bus, {
      config: parseAlertingConfig({
        alertmanagers: [am.url],
        resend_ms: 500,
        paging: { budget: false, page_kinds: ["collapse", "coherence"] },
      }),
      stage: stage.stage,
      log: () => {},
    });
    const collab = await launchCollab({
      dataDir: join(dir.path, "collab"),
      nats: nats.url,
      bridgeOptions: { timeoutMs: 3000 },
    });
    const clients: Array<{ destroy(): void }> = [];
    try {
      const t0 = Date.now() * 1000;
      let n = 0;
      const finding = (channel: string, ts: number) =>
        bus.publish(
          findingSubject("anomaly", channel),
          encodeEventEnvelope(
            { id: `in${n++}:anomaly:${channel}:0`, type: "anomaly", src: "h", ts },
            { channel, score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
          ),
        );
      finding("SYM1", t0 - 10 * S);
      await until(async () => (await am.alerts()).length === 1, 15_000, "the alert");

      const store = join(dir.path, "collab");
      const editor = await connectClient(
        collab.server.url,
        "main",
        await tokenFor(store, "main", "editor"),
      );
      const viewer = await connectClient(
        collab.server.url,
        "main",
        await tokenFor(store, "main", "viewer"),
      );
      clients.push(editor, viewer);
      const silence = { matchers: "kind=anomaly", ends_ms: Date.now() + 3600_000, reason: "r" };
      new SessionIncidents(viewer.doc).addSilence({ ...silence, id: "v1", by: "vic" }, Date.now());
      const metrics = `http://127.0.0.1:${collab.server.port}/metrics`;
      assert.is(await waitForMetric(metrics, "troupe_collab_viewer_writes_dropped_total", 1), 1);
      finding("SYM1", t0 + 1 * S); // event time past the (refused) silence's
      await new Promise((r) => setTimeout(r, 700));
      assert.is((await am.alerts()).length, 1, "a viewer cannot silence");
      assert.is(stage.stage.list()[0]!.silenced, false);

      const ana = new SessionIncidents(editor.doc);
      ana.addSilence({ ...silence, id: "s1", by: "ana" }, Date.now());
      await until(() => ana.silences.get("s1")?.status === "ok", 15_000, "the stage's answer");
      finding("SYM1", t0 + 3 * S); // event time past the silence's: it takes force
      await until(async () => (await am.alerts()).length === 0, 15_000, "the alert to stop");
      const held = stage.stage.list()[0]!;
      assert.is(held.state, "firing", "still firing in troupe");
      assert.ok(held.silenced);
      assert.is(alerting.sender.delivery()[0]!.incidents[held.id], "silenced");
    } finally {
      for (const c of clients) c.destroy();
      await alerting.stop();
      stage.stop();
      await collab.close();
      await bus.close();
      await am.cleanup();
      await hook.close();
      await nats.stop();
      dir.remove();
    }
  },
);

test.run();
