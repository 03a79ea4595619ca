/**
 * The incident stage on a host of several threads (issue 33 item 3: `troupe run --threads N`
 * works as a one-thread host does): the host that owns partition 0 runs the cluster's stage on its
 * main thread, journaled under its data directory beside the threads' journals, its series in the
 * host's one /metrics; after a restart on the same directory its open incidents are open again.
 * Against a real nats-server and real `troupe run --threads 2` processes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { listedIncidents, publishCrash } from "./_incidents.ts";

const test = suite("troupe run --threads: the incident stage");
// In the past: the stage takes a finding far ahead of the hosts' clocks at a bound.
const TS = 1_700_000_000_000_000;

if (haveNatsServer("troupe run --threads' incident stage against nats-server")) {
  test("a host on two threads runs the stage, serves its metrics, and its incidents survive a restart", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const file = join(dir.path, "host.json");
    writeFileSync(
      file,
      JSON.stringify({ http_port: 0, input: "core", partitions: { count: 2, owned: "all" } }),
    );
    const bus = await NatsBus.connect(nats.url);
    const args = [
      "run",
      "--config",
      file,
      "--nats",
      nats.url,
      "--threads",
      "2",
      "--data-dir",
      join(dir.path, "data"),
    ];
    let host = startTroupe(args);
    try {
      await host.waitFor("troupe run: incidents:");
      assert.match(host.output(), "on 2 threads");
      assert.match(host.output(), "0 findings refolded, 0 incidents open");
      await listedIncidents(nats.url); // answered: the stage's subscriptions are in place
      // A crash over three channels, then a later finding that moves event time past it.
      await publishCrash(bus, { ts: TS, channels: ["SYM001", "SYM002", "SYM003"], later: "OTHER" });
      const before = await listedIncidents(nats.url);
      assert.equal(before.map((i) => [i.id, i.state, i.members.length]), [
        [`anomaly-${TS}-SYM001`, "firing", 3],
      ]);
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(host.output())?.[1];
      assert.ok(url, host.output());
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /troupe_incidents\{[^}]*state="firing"[^}]*\} 1/);
      host.signal("SIGTERM");
      assert.is(await host.exited, 0, host.output());
      host = startTroupe(args);
      await host.waitFor("troupe run: incidents:");
      // The clean stop saved the stage after its 4 findings: the restart restores it.
      // At 4 findings and the hosts' progress marks (journaled among them), as they came.
      const refolded = /troupe run: incidents:.*/.exec(host.output())?.[0] ?? host.output();
      assert.match(refolded, /0 findings refolded after the snapshot at \d+, 1 incident open/);
      assert.equal(await listedIncidents(nats.url), before);
    } finally {
      await host.stop();
      await bus.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
