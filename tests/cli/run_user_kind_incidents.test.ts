/**
 * A user's kind's incidents in a `troupe run` cluster, as troupe's own: the host that runs the
 * incident stage is killed (SIGKILL) with an incident of the zscore example's findings open beside
 * one of anomaly findings; started again, its stage refolds the findings it journaled, both
 * incidents are open again, the same, and a later finding of a member channel joins each rather
 * than opening a new one. Against a real nats-server and real `troupe run` processes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { encodeEventEnvelope, findingSubject } from "../../protocol/mod.ts";
import { ROOT, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { listedIncidents, publishCrash } from "./_incidents.ts";

const test = suite("troupe run: a user's kind's incidents");
// In the past: the stage takes a finding far ahead of the hosts' clocks at a bound.
const TS = 1_700_000_000_000_000;
const ZSCORE = join(ROOT, "examples", "zscore", "zscore.ts");

/** The zscore example's finding on `channel` at `ts` (µs), of strength `z` sd. */
function spike(channel: string, ts: number, z = 9): Uint8Array {
  return encodeEventEnvelope({ id: `z-${channel}-${ts}`, type: "zscore_spike", src: "t", ts }, {
    type: "zscore_spike",
    ts,
    channel,
    seq: 1,
    value: 50,
    mean: 1,
    z,
  });
}

if (haveNatsServer("troupe run's incidents of a user's kind against nats-server")) {
  test("a user's kind's open incident survives a SIGKILL of the stage's host, as an anomaly's does", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const bus = await NatsBus.connect(nats.url);
    const config = join(dir.path, "host.json");
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "uki",
        nats: nats.url,
        data_dir: join(dir.path, "data"),
        http_port: 0,
        kinds: [ZSCORE],
      }),
    );
    const args = ["run", "--config", config];
    let host = startTroupe(args);
    try {
      await host.waitFor("troupe run: incidents:", 60_000);
      await listedIncidents(nats.url); // answered: the stage's subscriptions are in place
      for (const [i, ch] of ["k1", "k2"].entries()) {
        bus.publish(findingSubject("zscore_spike", ch), spike(ch, TS + i * 100_000));
      }
      await publishCrash(bus, { ts: TS, channels: ["SYM001", "SYM002"], later: "OTHER" });
      bus.publish(findingSubject("zscore_spike", "k9"), spike("k9", TS + 10_000_000, 5.5));
      await bus.flush();
      const before = await listedIncidents(nats.url);
      assert.equal(before.map((i) => [i.id, i.state, i.members.length]).sort(), [
        [`anomaly-${TS}-SYM001`, "firing", 2],
        [`zscore_spike-${TS}-k1`, "firing", 2],
      ]);
      host.signal("SIGKILL");
      await host.exited;
      host = startTroupe(args);
      await host.waitFor("troupe run: incidents:", 60_000);
      assert.match(host.output(), "2 incidents open");
      assert.equal(await listedIncidents(nats.url), before);
      // Later findings of member channels join the rebuilt incidents.
      bus.publish(findingSubject("zscore_spike", "k2"), spike("k2", TS + 11_000_000));
      bus.publish(findingSubject("zscore_spike", "LATER"), spike("LATER", TS + 20_000_000, 5.5));
      await bus.flush();
      const after = await listedIncidents(nats.url);
      const z = after.find((i) => i.id === `zscore_spike-${TS}-k1`);
      assert.ok(z, JSON.stringify(after));
      assert.is(z.findings, 4, JSON.stringify(z));
      assert.is(after.filter((i) => i.id.startsWith(`zscore_spike-${TS + 11_000_000}`)).length, 0);
    } finally {
      await host.stop();
      await bus.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
