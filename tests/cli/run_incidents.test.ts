/**
 * The incident stage in a `troupe run` cluster (issue 29): the host that owns partition 0 runs the
 * cluster's stage, so `troupe incidents` is answered without `troupe up`; and the stage journals
 * the findings it takes, so after the host restarts its open incidents are open again, the same,
 * and a later finding of one of their channels joins them rather than opening a new one. Against
 * a real nats-server and real `troupe run` processes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { listedIncidents, publishCrash } from "./_incidents.ts";
import { anomalyFinding } from "../_support/findings.ts";

const test = suite("troupe run: the incident stage");
// In the past: the stage takes a finding far ahead of the hosts' clocks at a bound.
const TS = 1_700_000_000_000_000;

if (haveNatsServer("troupe run's incident stage against nats-server")) {
  test("the host of partition 0 runs the stage, and its open incidents survive a restart", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const bus = await NatsBus.connect(nats.url);
    const args = ["run", "--nats", nats.url, "--data-dir", dir.path];
    let host = startTroupe(args);
    try {
      await host.waitFor("troupe run: incidents:");
      assert.match(host.output(), "0 findings refolded, 0 incidents open");
      await listedIncidents(nats.url); // answered: the stage's subscriptions are in place
      // A crash over three channels, then a later finding that moves event time past it.
      await publishCrash(bus, { ts: TS, channels: ["SYM001", "SYM002", "SYM003"], later: "OTHER" });
      const before = await listedIncidents(nats.url);
      assert.equal(before.map((i) => [i.id, i.state, i.members.length]), [
        [`anomaly-${TS}-SYM001`, "firing", 3],
      ]);
      host.signal("SIGTERM");
      assert.is(await host.exited, 0, host.output());
      host = startTroupe(args);
      await host.waitFor("troupe run: incidents:");
      // The clean stop saved the stage after its 4 findings: the restart restores it, refolds none.
      // At 4 findings and the hosts' progress marks (journaled among them), as they came.
      assert.match(host.output(), /0 findings refolded after the snapshot at \d+, 1 incident open/);
      assert.equal(await listedIncidents(nats.url), before);
      // A finding of a member channel joins the rebuilt incident (a fresh stage would open one).
      bus.publish(findingSubject("anomaly", "SYM002"), anomalyFinding("SYM002", TS + 11_000_000));
      bus.publish(findingSubject("anomaly", "LATER"), anomalyFinding("LATER", TS + 20_000_000));
      await bus.flush();
      const after = await listedIncidents(nats.url);
      const crash = after.find((i) => i.id === `anomaly-${TS}-SYM001`);
      assert.ok(crash, JSON.stringify(after));
      assert.is(crash.findings, 5); // and OTHER's (10 s on, within its grouping window, a minute)
      assert.is(crash.state, "firing");
      assert.is(after.filter((i) => i.id.startsWith(`anomaly-${TS + 11_000_000}`)).length, 0);
    } finally {
      await host.stop();
      await bus.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("the stage takes its settings from the host config's incidents section; a bad one stops startup naming it", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const file = join(dir.path, "host.json");
    writeFileSync(file, JSON.stringify({ incidents: { hold_us: -5 } }));
    const bad = await runTroupe(["run", "--config", file, "--nats", nats.url]);
    assert.is(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, "incidents.hold_us");
    assert.match(bad.stderr, "-5");
    // A hold of 1 s and a grouping window of 1 s: the crash resolves once event time is 1 s past
    // its last finding (by the defaults, 30 s and a minute, it would still be firing).
    const settings = { hold_us: 1_000_000, group_window_us: 1_000_000 };
    writeFileSync(file, JSON.stringify({ incidents: settings }));
    const bus = await NatsBus.connect(nats.url);
    const host = startTroupe(["run", "--config", file, "--nats", nats.url, "--data-dir", dir.path]);
    try {
      await host.waitFor("troupe run: incidents:");
      await listedIncidents(nats.url);
      await publishCrash(bus, { ts: TS, channels: ["SYM001", "SYM002", "SYM003"], later: "OTHER" });
      assert.equal(
        (await listedIncidents(nats.url)).map((i) => [i.id, i.state, i.members.length]),
        [[`anomaly-${TS}-SYM001`, "resolved", 3]],
      );
    } finally {
      await host.stop();
      await bus.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a host that does not own partition 0 runs no stage", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const file = join(dir.path, "host.json");
    writeFileSync(file, JSON.stringify({ partitions: { count: 2, owned: "1" } }));
    const host = startTroupe(["run", "--config", file, "--nats", nats.url, "--data-dir", dir.path]);
    try {
      await host.waitFor("troupe run: host");
      assert.not.match(host.output(), "incidents:");
      await host.stop();
      const r = await runTroupe(["incidents", "--nats", nats.url, "--timeout", "300"]);
      assert.is(r.code, 1, r.stderr);
    } finally {
      await host.stop();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
