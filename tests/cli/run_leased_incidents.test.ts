/**
 * The incident stage of a leased cluster (issue 29), against real `troupe run --partitions auto`
 * processes and a real nats-server with JetStream: exactly one host runs the stage, under the
 * lease `stage.incidents`; a crash over several channels is one firing incident in `troupe
 * incidents`; when the stage's host is killed (SIGKILL) its lease expires and the other host takes
 * the stage over from its snapshot and the findings stream, the findings published meanwhile
 * included, so the incident is still there, none of its findings doubled, and later findings
 * join it; a SIGTERM hands the stage off at once. Three hosts start together: whichever claims
 * the lease first runs the stage, as `troupe status` says, and the host that took it over counts
 * the takeover on its /metrics. The findings are published as hosts publish
 * them (troupe.finding.<kind>.<channel>, the finding's id as Nats-Msg-Id), one of them twice.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { type RunningTroupe, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { type ListedIncident, listedIncidents } from "./_incidents.ts";
import { anomalyFinding, anomalyFindingId } from "../_support/findings.ts";

const test = suite("troupe run --partitions auto: the incident stage");
const TS = 1_800_000_000_000_000;
const TTL_MS = 2000;
const RUNS = "this host runs the cluster's stage";

function anomaly(channel: string, ts: number): { id: string; data: Uint8Array } {
  return { id: anomalyFindingId(channel, ts), data: anomalyFinding(channel, ts) };
}

if (haveNatsServer("the leased cluster's incident stage against nats-server")) {
  test("one host runs the stage; killed, the other takes it over with its incident whole; SIGTERM hands it off", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-stage-");
    const bus = await NatsBus.connect(nats.url);
    const publish = (channel: string, ts: number) => {
      const f = anomaly(channel, ts);
      bus.publish(findingSubject("anomaly", channel), f.data, { headers: { "Nats-Msg-Id": f.id } });
    };
    const start = (id: string): RunningTroupe => {
      const file = join(dir.path, `${id}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          host_id: id,
          nats: nats.url,
          input: "jetstream",
          journal: { kind: "jetstream" },
          snapshots: { store: "kv", every_inputs: 3 },
          actors: { stats: {}, anomaly: { enabled: false }, collapse: { enabled: false } },
          partitions: { count: 2, owned: "auto", lease_ttl_ms: TTL_MS },
          http_port: 0,
        }),
      );
      return startTroupe(["run", "--config", file, "--data-dir", join(dir.path, id)]);
    };
    const hosts = new Map<string, RunningTroupe>();
    /** The host whose output says it runs the stage, among `among`, once one does. */
    const holder = async (among: string[], timeoutMs: number): Promise<string> => {
      const t0 = Date.now();
      for (;;) {
        const now = among.filter((id) => hosts.get(id)!.output().includes(RUNS));
        if (now.length > 0) {
          assert.is(now.length, 1, `one host runs the stage, not ${now.join(", ")}`);
          return now[0]!;
        }
        assert.ok(Date.now() - t0 < timeoutMs, `no host of ${among} took the stage`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const owner = async () => {
      const r = await runTroupe(["status", "--nats", nats.url, "--json"]);
      return JSON.parse(r.stdout).incident_stage?.owner as string | undefined;
    };
    try {
      const ids = ["host-a", "host-b", "host-c"];
      for (const id of ids) hosts.set(id, start(id));
      for (const h of hosts.values()) {
        await h.waitFor("incidents: the cluster's stage runs on the host holding lease", 60_000);
      }
      const first = await holder(ids, 30_000);
      assert.is(await owner(), first);
      // A crash over four channels, then a finding 10 s on that moves event time past it.
      for (const [i, ch] of ["SYM1", "SYM2", "SYM3", "SYM4"].entries()) publish(ch, TS + i * 1e5);
      publish("OTHER", TS + 10_000_000);
      await bus.flush();
      const crash = `anomaly-${TS}-SYM1`;
      let before: ListedIncident | undefined;
      for (let i = 0; i < 50 && before?.state !== "firing"; i++) {
        before = (await listedIncidents(nats.url)).find((x) => x.id === crash);
      }
      assert.is(before?.state, "firing");
      assert.equal(before!.members.map((m) => m.channel), ["SYM1", "SYM2", "SYM3", "SYM4"]);
      assert.is(before!.findings, 4);

      // The stage's host dies; findings published before the takeover (one twice) are not lost.
      hosts.get(first)!.signal("SIGKILL");
      await hosts.get(first)!.exited;
      const killedAt = Date.now();
      publish("SYM2", TS + 11_000_000);
      publish("SYM2", TS + 11_000_000); // the same finding again: stored once
      await bus.flush();
      const left = ids.filter((id) => id !== first);
      const second = await holder(left, TTL_MS + 10_000);
      const tookMs = Date.now() - killedAt;
      assert.ok(tookMs <= TTL_MS + 5000, `took the stage over in ${tookMs} ms (TTL ${TTL_MS})`);
      assert.match(
        hosts.get(second)!.output(),
        `lease of ${first} expired or released); recovering`,
      );
      assert.is(await owner(), second);
      // Its /metrics counts the takeover, and says it runs the stage.
      const status = JSON.parse((await runTroupe(["status", "--nats", nats.url, "--json"])).stdout);
      const port = status.hosts.find((h: { host: string }) => h.host === second).http_port;
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, `troupe_stage_takeovers_total{stage="incidents",host="${second}"} 1`);
      assert.match(metrics, `troupe_stage_held{stage="incidents",host="${second}"} 1`);
      publish("SYM3", TS + 12_000_000); // a later finding of a member joins it
      publish("LATER", TS + 16_000_000); // event time past both (they are held for ordering)
      await bus.flush();
      let after: ListedIncident | undefined;
      // OTHER (10 s) is within the crash's grouping window (a minute): it joined too.
      for (let i = 0; i < 50 && after?.findings !== 7; i++) {
        after = (await listedIncidents(nats.url)).find((x) => x.id === crash);
      }
      assert.is(after?.state, "firing");
      assert.is(after!.findings, 7, "4 + OTHER + the one published twice, once + the later one");
      assert.equal(after!.members.map((m) => [m.channel, m.findings]), [
        ["SYM1", 1],
        ["SYM2", 2],
        ["SYM3", 2],
        ["SYM4", 1],
        ["OTHER", 1],
      ]);
      const listedNow = await listedIncidents(nats.url);
      assert.is(listedNow.filter((x) => x.id === crash).length, 1, "one incident, not two");

      // SIGTERM on the stage's host hands the stage to the last one at once, from its snapshot.
      hosts.get(second)!.signal("SIGTERM");
      await hosts.get(second)!.exited;
      assert.match(hosts.get(second)!.output(), "released (epoch");
      const third = await holder(left.filter((id) => id !== second), TTL_MS);
      assert.match(
        hosts.get(third)!.output(),
        "findings refolded from TROUPE_FINDINGS after the snapshot at",
      );
      const handed = (await listedIncidents(nats.url)).find((x) => x.id === crash);
      assert.is(handed?.findings, 7);
    } finally {
      for (const h of hosts.values()) await h.stop(2000).catch(() => {});
      await bus.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
