/**
 * `troupe status` finds a plain `troupe run` host (no leases) through the http.url it writes in
 * its data directory while it serves HTTP: its partitions, health, channels against its limit, and
 * whether the incident stage runs beside it (only the owner of partition 0 runs it). Once the host
 * has stopped, the file is gone and status says there is no host, naming the directory. Against
 * a real nats-server and `troupe run`.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("troupe status: a troupe run host");

if (haveNatsServer("troupe status: a troupe run host")) {
  test("status --data-dir shows a troupe run host without leases, and none once it stopped", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-status-run-");
    const config = writeStatsOnlyConfig(dir.path, {
      hostId: "run-1",
      nats: nats.url,
      extra: { partitions: { count: 2, owned: "1" } },
    });
    const data = join(dir.path, "data");
    const host = startTroupe(["run", "--config", config]);
    try {
      await host.waitFor("troupe run: host run-1 running", 60_000);
      const url = readFileSync(join(data, "http.url"), "utf8").trim();
      assert.match(host.output(), `${url}/metrics`);
      const status = await runTroupe(["status", "--nats", nats.url, "--data-dir", data]);
      assert.is(status.code, 0, status.stderr);
      assert.match(status.stdout, /^1 host, owning 1 partition without leases\n/);
      assert.match(status.stdout, /\n {2}run-1 {2}partitions 1 {2}\(healthy; /);
      assert.match(status.stdout, /\n {4}channels 0 of \d+: \d+ more fit/);
      assert.match(
        status.stdout,
        "incident stage: not on run-1 (it runs beside the host that owns partition 0)",
      );
      const json = await runTroupe(["status", "--nats", nats.url, "--data-dir", data, "--json"]);
      const parsed = JSON.parse(json.stdout);
      assert.equal(parsed.hosts[0].partitions, [1]);
      assert.is(parsed.incident_stage, null);

      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
      assert.not.ok(existsSync(join(data, "http.url")), "http.url removed at the stop");
      const none = await runTroupe(["status", "--nats", nats.url, "--data-dir", data]);
      assert.is(none.code, 1);
      assert.match(none.stderr, `no troupe up or troupe run in ${data} (no http.url`);
    } finally {
      await host.stop();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
