/**
 * `troupe run` with an `alerting` section, against a real nats-server and Debian's Alertmanager:
 * its incidents reach Alertmanager; the host killed with SIGKILL while they fire (and Alertmanager
 * restarted meanwhile, so it holds nothing) ends, once the host recovers, with Alertmanager holding
 * the same alerts; `troupe incidents` says per incident that the Alertmanager has it; a bad
 * `alerting` field (or `troupe up --alertmanager` value) stops startup naming it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { anomalyFinding } from "../_support/findings.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../_support/alertmanager.ts";

const test = suite("troupe run alerting");

test("a bad alerting field stops troupe run, naming it and the value (exit 2)", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "host.json");
    writeFileSync(path, JSON.stringify({ alerting: { alertmanagers: ["ftp://x"] } }));
    const r = await runTroupe(["run", "--config", path]);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, 'alerting.alertmanagers[0]" must be an http(s) URL, got "ftp://x"');
    const up = await runTroupe(["up", "--alertmanager", "am:9093", "--data-dir", dir.path]);
    assert.is(up.code, 2, up.stderr);
    assert.match(up.stderr, 'Option --alertmanager: "alertmanagers[0]" must be an http(s) URL');
  } finally {
    dir.remove();
  }
});

const real = haveNatsServer("troupe run alerting") && haveAlertmanager("troupe run alerting");
(real ? test : test.skip)(
  "the host killed with SIGKILL while incidents fire ends with Alertmanager holding the same alerts after it recovers",
  async () => {
    const nats = await startTestNats();
    const hook = await new WebhookReceiver().listen();
    const am = await TestAlertmanager.start(hook.url);
    const dir = tempDir();
    const bus = await NatsBus.connect(nats.url);
    const path = join(dir.path, "host.json");
    writeFileSync(
      path,
      JSON.stringify({
        host_id: "alert-1",
        nats: { url: nats.url },
        data_dir: join(dir.path, "data"),
        journal: { fsync: "always" },
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
      }),
    );
    let run = startTroupe(["run", "--config", path]);
    try {
      await run.waitFor(`alerts go to alertmanager ${am.url}`);
      const t0 = Date.now() * 1000;
      const channels = ["A1", "B1", "C1", "D1"];
      channels.forEach((ch, i) =>
        bus.publish(findingSubject("anomaly", ch), anomalyFinding(ch, t0 + i * 2_000_000))
      );
      await bus.flush();
      await until(
        async () => (await am.alerts()).length === 3,
        10_000,
        "three alerts (D1 pending)",
      );
      const before = (await am.alerts()).map((a) => a.fingerprint).sort();
      const listed = await runTroupe([
        "incidents",
        "--json",
        "--nats",
        nats.url,
        "--data-dir",
        dir.path,
      ]);
      assert.is(listed.code, 0, listed.stderr);
      // NDJSON: an incident a line.
      const rows = listed.stdout.trim().split("\n").map((l) =>
        JSON.parse(l) as { state: string; alerts: Record<string, string> }
      );
      assert.equal(rows.map((r) => [r.state, r.alerts[am.url]]), [
        ["firing", "sent"],
        ["firing", "sent"],
        ["firing", "sent"],
        ["pending", "none"],
      ]);

      run.signal("SIGKILL");
      await run.exitCode();
      await am.restart(); // it keeps no alerts across a restart: only troupe can give them back
      assert.equal(await am.alerts(), []);
      run = startTroupe(["run", "--config", path]);
      await run.waitFor("alerts go to");
      await until(async () => (await am.alerts()).length === 3, 30_000, "the three alerts again");
      const after = (await am.alerts()).map((a) => a.fingerprint).sort();
      assert.equal(after, before);
    } finally {
      await run.stop();
      await bus.close();
      await am.cleanup();
      await hook.close();
      await nats.cleanup();
      dir.remove();
    }
  },
);

test.run();
