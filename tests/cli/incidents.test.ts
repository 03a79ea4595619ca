/**
 * `troupe incidents` against a real nats-server and a real incident stage: it lists what the stage
 * holds (a crash over 8 channels is one incident with 8 members), as lines or JSON, one state with
 * --state; a bad --state is a usage error (exit 2); no stage answering is a failure (exit 1), told
 * at once by NATS ("no responders") even where a collab server's gateway subscribes to
 * `troupe.sys.>`.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { ndjson, runTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { anomalyFinding } from "../_support/findings.ts";

const test = suite("troupe incidents");
const TS = 1_800_000_000_000_000;

test("a bad --state is a usage error naming the value (exit 2)", async () => {
  const r = await runTroupe(["incidents", "--state", "open", "--nats", "nats://127.0.0.1:1"]);
  assert.is(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    'Option --state takes pending, firing, resolved, dropped, got "open"',
  );
});

if (haveNatsServer("troupe incidents against nats-server")) {
  test("it lists the stage's incidents: a crash over 8 channels is one, with 8 members", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
    try {
      for (let i = 0; i < 8; i++) {
        const channel = `SYM00${i + 1}`;
        bus.publish(findingSubject("anomaly", channel), anomalyFinding(channel, TS + i * 150_000));
      }
      // Two minutes on: past the crash's grouping window (a minute) and its hold.
      bus.publish(findingSubject("anomaly", "OTHER"), anomalyFinding("OTHER", TS + 120_000_000));
      await bus.flush();
      const all = await runTroupe(["incidents", "--json", "--nats", nats.url]);
      assert.is(all.code, 0, all.stderr);
      const listed = ndjson(all.stdout) as Array<Record<string, unknown>>;
      assert.equal(listed.map((i) => [i.id, i.state, (i.members as unknown[]).length]), [
        [`anomaly-${TS}-SYM001`, "resolved", 8],
      ]);
      assert.is(listed[0]!.fired, true);
      assert.is(listed[0]!.peak_severity, 5);
      // The later finding is held until event time passes it by the reorder bound.
      bus.publish(findingSubject("anomaly", "OTHER2"), anomalyFinding("OTHER2", TS + 130_000_000));
      await bus.flush();
      const firing = await runTroupe(["incidents", "--state", "firing", "--nats", nats.url]);
      assert.is(firing.code, 0, firing.stderr);
      assert.match(
        firing.stdout,
        /^2027-01-15 08:02:00\.000 {2}firing {3}anomaly {3}1 channel: OTHER {2}\[severity 5, 1 finding\] {2}anomaly-1800000120000000-OTHER\n$/,
      );
      const none = await runTroupe(["incidents", "--state", "pending", "--nats", nats.url]);
      assert.is(none.stdout, "troupe incidents: none pending\n");
      // No collab server: listed without acks, and it says why.
      const dir = tempDir("troupe-incidents-list-");
      try {
        const bare = await runTroupe([
          "incidents",
          "--json",
          "--nats",
          nats.url,
          "--data-dir",
          dir.path,
        ]);
        assert.is(bare.code, 0, bare.stderr);
        assert.match(bare.stderr, "acknowledgements not shown: no collab server");
        assert.is(ndjson(bare.stdout).length, 2);
      } finally {
        dir.remove();
      }
    } finally {
      stage.stop();
      await bus.close();
      await nats.cleanup();
    }
  });

  test("--state takes each state the list shows: dropped is an incident resolved without firing", async () => {
    const nats = await startTestNats();
    const bus = await NatsBus.connect(nats.url);
    // A bar no incident clears: each one resolves without firing.
    const config = { ...defaultIncidentConfig, fire_severity_min: 6, fire_members_min: 1000 };
    const stage = runIncidentStage(bus, { config });
    try {
      bus.publish(findingSubject("anomaly", "SYM001"), anomalyFinding("SYM001", TS));
      bus.publish(findingSubject("anomaly", "OTHER"), anomalyFinding("OTHER", TS + 120_000_000));
      bus.publish(findingSubject("anomaly", "OTHER2"), anomalyFinding("OTHER2", TS + 130_000_000));
      await bus.flush();
      const all = await runTroupe(["incidents", "--nats", nats.url]);
      assert.is(all.code, 0, all.stderr);
      assert.match(all.stdout, /dropped +anomaly +1 channel: SYM001/);
      const dropped = await runTroupe(["incidents", "--state", "dropped", "--nats", nats.url]);
      assert.is(dropped.code, 0, dropped.stderr);
      assert.is(dropped.stdout.trim().split("\n").length, 1, dropped.stdout);
      assert.match(dropped.stdout, /dropped +anomaly +1 channel: SYM001 .* anomaly-\d+-SYM001$/m);
      const resolved = await runTroupe(["incidents", "--state", "resolved", "--nats", nats.url]);
      assert.is(resolved.stdout, "troupe incidents: none resolved\n", resolved.stderr);
    } finally {
      stage.stop();
      await bus.close();
      await nats.cleanup();
    }
  });

  test("no incident stage answering is a failure (exit 1) that says so", async () => {
    const nats = await startTestNats();
    try {
      const r = await runTroupe(["incidents", "--nats", nats.url, "--timeout", "300"]);
      assert.is(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        "no incident stage runs: nothing subscribes to troupe.req.incidents.list",
      );
    } finally {
      await nats.cleanup();
    }
  });

  test("with a collab server's stream gateway on troupe.sys.>, no stage is still 'no responders'", async () => {
    // The gateway's wildcard once took the ask, so that it waited out its whole timeout.
    const nats = await startTestNats();
    const dir = tempDir("troupe-incidents-gateway-");
    const collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
    try {
      assert.ok(collab.stream, "the gateway runs");
      await collab.bus!.flush(); // its subscriptions are at the server
      const r = await runTroupe(["incidents", "--nats", nats.url]);
      assert.is(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        "no incident stage runs: nothing subscribes to troupe.req.incidents.list",
      );
      assert.match(r.stderr, "(NATS: no responders)");
    } finally {
      await collab.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
