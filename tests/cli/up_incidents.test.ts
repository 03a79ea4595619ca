/**
 * `troupe up`'s incident stage across restarts (issue 29): the stage journals the findings it
 * takes under the data directory, so a Ctrl-C and a new `troupe up` on the same data directory
 * have the incidents open before it open again, with the same ids, states and members, and a later
 * finding of one of their channels joins them rather than opening a new one. Real `troupe up`
 * processes, each with its own nats-server; the findings are published on that server.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { upArgs, upNatsAuth } from "./_up.ts";
import { type ListedIncident, listedIncidents, publishCrash } from "./_incidents.ts";
import { anomalyFinding } from "../_support/findings.ts";

const test = suite("troupe up: incidents across restarts");
// Event time far past the synthetic feed's (now): its own findings never join these.
const TS = 1_900_000_000_000_000;

/** The crash's incident as listed: id, state and member channels. */
function crashOf(all: ListedIncident[]): [string, string, string[], number] | undefined {
  const i = all.find((i) => i.id === `anomaly-${TS}-UPA`);
  return i && [i.id, i.state, i.members.map((m) => m.channel).sort(), i.findings];
}

/** Starts troupe up on `dataDir` and returns it with its nats-server's URL. */
async function up(dataDir: string) {
  const proc = startTroupe(upArgs(dataDir, ["--channels", "2", "--rate", "100"]));
  await proc.waitFor("injecting the synthetic market feed");
  const url = readFileSync(join(dataDir, "nats.url"), "utf8").trim();
  return { proc, url };
}

if (haveNatsServer("troupe up's incidents across restarts")) {
  test("open incidents survive a Ctrl-C and a new troupe up on the same data directory", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "d");
    let { proc, url } = await up(dataDir);
    let bus: NatsBus | undefined;
    try {
      assert.match(proc.output(), "troupe up: incidents: troupe up runs the cluster's stage");
      assert.match(proc.output(), "0 findings refolded");
      await listedIncidents(url, upNatsAuth(dataDir, "viewer").nkey); // answered: the stage's subscriptions are in place
      bus = await NatsBus.connect(url, { auth: upNatsAuth(dataDir) });
      // A crash over three channels, then a later finding that moves event time past it.
      await publishCrash(bus, { ts: TS, channels: ["UPA", "UPB", "UPC"], later: "UPLATER" });
      const before = await listedIncidents(url, upNatsAuth(dataDir, "viewer").nkey);
      assert.equal(crashOf(before), [`anomaly-${TS}-UPA`, "firing", ["UPA", "UPB", "UPC"], 3]);
      await bus.close();
      bus = undefined;
      proc.signal("SIGINT");
      assert.is(await proc.exited, 0, proc.output());
      ({ proc, url } = await up(dataDir));
      // Ctrl-C saved the stage after its findings (our 4, and any the demo feed made): the
      // restart starts from that snapshot and refolds nothing.
      const saved = /0 findings refolded after the snapshot at (\d+)/.exec(proc.output());
      assert.ok(saved && Number(saved[1]) >= 4, proc.output());
      assert.equal(
        crashOf(await listedIncidents(url, upNatsAuth(dataDir, "viewer").nkey)),
        crashOf(before),
      );
      // Every incident listed before the restart is listed after it.
      const ids = new Set(
        (await listedIncidents(url, upNatsAuth(dataDir, "viewer").nkey)).map((i) => i.id),
      );
      for (const i of before) assert.ok(ids.has(i.id), `${i.id} after the restart`);
      // A finding of a member channel joins the rebuilt incident (a fresh stage would open one).
      bus = await NatsBus.connect(url, { auth: upNatsAuth(dataDir) });
      bus.publish(findingSubject("anomaly", "UPB"), anomalyFinding("UPB", TS + 11_000_000));
      bus.publish(findingSubject("anomaly", "UPLAST"), anomalyFinding("UPLAST", TS + 20_000_000));
      await bus.flush();
      const after = await listedIncidents(url, upNatsAuth(dataDir, "viewer").nkey);
      // UPLATER (10 s on) is within the crash's grouping window (a minute): it joined too.
      const members = ["UPA", "UPB", "UPC", "UPLATER"];
      assert.equal(crashOf(after), [`anomaly-${TS}-UPA`, "firing", members, 5]);
      assert.is(after.filter((i) => i.id.startsWith(`anomaly-${TS + 11_000_000}`)).length, 0);
    } finally {
      await bus?.close();
      await proc.stop();
      dir.remove();
    }
  });
}

test.run();
