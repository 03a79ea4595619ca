/**
 * `troupe up --hosts N` (issue 32): N hosts in up's process share the partitions by lease, beside
 * up's nats-server, collaboration server and dashboard. Against a real troupe up: with --hosts 2
 * both hosts own partitions and every partition is held (troupe status, from the lease bucket),
 * troupe status gives each host's channels against its limit, each host's /metrics answers, and Ctrl-C hands the partitions off and stops everything, its
 * nats-server too. Options that cannot share partitions are refused before anything starts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { parseHostConfig } from "../../actors/runtime/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { natsServersOn, upArgs, upNatsAuth } from "./_up.ts";

const test = suite("troupe up --hosts");

interface Status {
  hosts: Array<{
    host: string;
    partitions: number[];
    http_port?: number;
    channels: { admitted: number; max: number; free: number } | null;
  }>;
  partitions: Array<{ partition: number; owner: string }>;
}

test("--hosts with a file journal, without NATS, or below 1 is refused before anything starts", async () => {
  let r = await runTroupe(["up", "--hosts", "2", "--journal", "file", "--no-nats"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "Option --hosts 2 shares the partitions by lease, which needs --journal");
  assert.match(r.stderr, 'got "file"');
  r = await runTroupe(["up", "--hosts", "2", "--no-nats"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "Option --hosts 2 needs NATS: it cannot go with --no-nats");
  r = await runTroupe(["up", "--hosts", "0"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, "--hosts");
});

if (haveNatsServer("troupe up --hosts")) {
  test("up --hosts 2: both hosts own partitions, every one is held, Ctrl-C stops everything", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    const up = startTroupe(upArgs(dataDir, ["--hosts", "2", "--channels", "4", "--rate", "200"]));
    try {
      await up.waitFor("injecting the synthetic market feed");
      assert.match(up.output(), "troupe up: 2 hosts (up-1 to up-2)");
      assert.match(up.output(), "share 8 partitions by lease");
      assert.match(
        up.output(),
        "troupe up: incidents: the cluster's stage runs on the host holding",
      );
      const url = readFileSync(join(dataDir, "nats.url"), "utf8").trim();
      // up-2 joins after up-1 claimed everything: it takes its share by handoff.
      let status: Status = { hosts: [], partitions: [] };
      for (let i = 0; i < 80; i++) {
        const r = await runTroupe(["status", "--nats", url, "--json", "--data-dir", dataDir]);
        assert.is(r.code, 0, r.stderr);
        status = JSON.parse(r.stdout) as Status;
        const shares = status.hosts.map((h) => h.partitions.length);
        if (status.partitions.length === 8 && shares.length === 2 && !shares.includes(0)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(status.hosts.map((h) => h.host), ["up-1", "up-2"]);
      for (const h of status.hosts) assert.ok(h.partitions.length > 0, JSON.stringify(status));
      assert.equal(status.hosts.flatMap((h) => h.partitions).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
      // Each host's channels against its limit, sized from the machine's memory (its /healthz).
      const max = parseHostConfig({}, ACTOR_KINDS).limits.channels_max;
      for (const h of status.hosts) {
        assert.ok(h.channels, JSON.stringify(status));
        assert.is(h.channels.max, max);
        assert.is(h.channels.free, max - h.channels.admitted);
      }
      const shown = await runTroupe(["status", "--nats", url, "--data-dir", dataDir]);
      assert.is(shown.code, 0, shown.stderr);
      assert.is(shown.stdout.match(new RegExp(`\\n {4}channels \\d+ of ${max}: `, "g"))?.length, 2);
      // A kind-wide change is answered by each partition's host (part-<n>), wherever it runs, for
      // its own instances: ctl gathers the answers and prints their sum. A partition just handed
      // off may not be listening yet: asked again until all eight answer.
      const parts = [0, 1, 2, 3, 4, 5, 6, 7].map((p) => `part-${p}`).join(", ");
      let ctl: Awaited<ReturnType<typeof runTroupe>> = { code: -1, stdout: "", stderr: "" };
      for (let i = 0; i < 20 && !ctl.stdout.includes(parts); i++) {
        ctl = await runTroupe([
          "ctl",
          "stats",
          "--set",
          "every_samples=50",
          "--nats",
          url,
          "--nats-nkey",
          upNatsAuth(dataDir, "operator").nkey!,
        ]);
        assert.is(ctl.code, 0, ctl.stdout + ctl.stderr);
      }
      assert.match(ctl.stdout, / to [1-4] running stats instance\(s\) and the configuration/);
      assert.match(ctl.stdout, `those to come on 8 hosts (${parts})\n`, ctl.stdout);
      // Each host's /metrics answers with the partitions it owns.
      for (const h of status.hosts) {
        const text = await (await fetch(`http://127.0.0.1:${h.http_port}/metrics`)).text();
        assert.match(text, "troupe_partitions_owned", h.host);
      }
      assert.is(natsServersOn(join(dataDir, "nats")).length, 1);
      up.signal("SIGINT");
      assert.is(await up.exited, 0, up.output());
      assert.match(up.output(), "troupe up: stopped cleanly:");
      assert.match(up.output(), "released (the host stops)");
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
      assert.not.ok(existsSync(join(dataDir, "nats.url")), "nats.url removed");
    } finally {
      await up.stop();
      dir.remove();
    }
  });
}

test.run();
