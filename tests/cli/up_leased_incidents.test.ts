/**
 * `troupe up --hosts N` runs the cluster's incident stage under its lease (issue 29), as `troupe
 * run --partitions auto` hosts do, not in up's own process: against a real troupe up with two
 * hosts and its nats-server, one of up's hosts runs the stage (troupe status names it); a `troupe
 * run --partitions auto` host that joins the cluster does not run a second one; when up is killed
 * outright (its nats-server, a process group of its own, stays up) the stage's lease expires and
 * the joined host takes the stage over from the findings stream, the crash incident published
 * while up ran whole in its `troupe incidents`. up's leases have their 10 s TTL, so the takeover
 * takes that long.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { ndjson, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { natsServersOn, upArgs, upNatsAuth } from "./_up.ts";
import { anomalyFinding, anomalyFindingId } from "../_support/findings.ts";

const test = suite("troupe up --hosts: the incident stage under its lease");
const TS = 1_800_000_000_000_000;
/** up's lease TTL (leaseSettings()'s default), which a host joining its cluster must use. */
const UP_TTL_MS = 10_000;

async function stageOwner(url: string, dataDir: string): Promise<string | undefined> {
  const r = await runTroupe(["status", "--nats", url, "--json", "--data-dir", dataDir]);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).incident_stage?.owner as string | undefined;
}

if (haveNatsServer("troupe up --hosts: the incident stage under its lease")) {
  test("up --hosts 2 runs the stage on the host holding its lease; killed, a joined host takes it over", async () => {
    const dir = tempDir("troupe-up-stage-");
    const dataDir = join(dir.path, "d");
    const up = startTroupe(upArgs(dataDir, ["--hosts", "2", "--channels", "2", "--rate", "50"]));
    let joined: ReturnType<typeof startTroupe> | undefined;
    let bus: NatsBus | undefined;
    try {
      await up.waitFor("injecting the synthetic market feed");
      assert.match(up.output(), "incidents: the cluster's stage runs on the host holding lease");
      assert.not.match(up.output(), "troupe up runs the cluster's stage");
      await up.waitFor("incidents: this host runs the cluster's stage");
      const holders = [...up.output().matchAll(/troupe up: (up-\d): incidents: this host runs/g)];
      assert.is(holders.length, 1, up.output());
      const holder = holders[0]![1]!;
      const url = readFileSync(join(dataDir, "nats.url"), "utf8").trim();
      assert.is(await stageOwner(url, dataDir), holder);

      // A crash over three channels, then a finding 10 s on that moves event time past it.
      bus = await NatsBus.connect(url, { auth: upNatsAuth(dataDir) });
      const publish = (channel: string, ts: number) => {
        const id = anomalyFindingId(channel, ts);
        const data = anomalyFinding(channel, ts);
        bus!.publish(findingSubject("anomaly", channel), data, { headers: { "Nats-Msg-Id": id } });
      };
      for (const [i, ch] of ["SYM1", "SYM2", "SYM3"].entries()) publish(ch, TS + i * 1e5);
      publish("OTHER", TS + 10_000_000);
      await bus.flush();

      const file = join(dir.path, "joined.json");
      writeFileSync(
        file,
        JSON.stringify({
          host_id: "joined",
          nats: { url, nkey: upNatsAuth(dataDir).nkey },
          input: "jetstream",
          journal: { kind: "jetstream" },
          snapshots: { store: "kv" },
          actors: { stats: {}, anomaly: { enabled: false }, collapse: { enabled: false } },
          partitions: { count: 8, owned: "auto", lease_ttl_ms: UP_TTL_MS },
        }),
      );
      joined = startTroupe(["run", "--config", file, "--data-dir", join(dir.path, "joined")]);
      await joined.waitFor("incidents: the cluster's stage runs on the host holding lease");
      assert.not.match(joined.output(), "this host runs the cluster's stage");

      up.signal("SIGKILL");
      await up.exited;
      await joined.waitFor("this host runs the cluster's stage", UP_TTL_MS + 10_000);
      assert.match(joined.output(), `lease of ${holder} expired or released); recovering`);
      assert.is(await stageOwner(url, dataDir), "joined");
      const r = await runTroupe([
        "incidents",
        "--json",
        "--nats",
        url,
        "--timeout",
        "5000",
        "--nats-nkey",
        upNatsAuth(dataDir, "viewer").nkey!,
      ]);
      assert.is(r.code, 0, r.stderr);
      const crash = (ndjson(r.stdout) as Array<{ id: string; members: unknown[] }>)
        .find((i) => i.id === `anomaly-${TS}-SYM1`);
      assert.is(crash?.members.length, 3, r.stdout);
    } finally {
      await bus?.close();
      await joined?.stop(5000).catch(() => {});
      await up.stop(2000).catch(() => {});
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });
}

test.run();
