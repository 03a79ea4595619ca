/**
 * A session of a user's kind that makes findings, recorded by `troupe record` across a SIGKILL of
 * the host that runs the kind and the incident stage, replays with `--verify`: the incident
 * updates the restarted stage publishes are the ones a replay of the recorded inputs makes. Against
 * a real nats-server, with JetStream input, and real `troupe run`, `inject` and `record` processes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEnvelope, incidentSubject } from "../../protocol/mod.ts";
import { ROOT, type RunningTroupe, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("troupe record: a user's kind's findings across a SIGKILL");
const ZSCORE = join(ROOT, "examples", "zscore", "zscore.ts");

if (haveNatsServer("troupe record across a SIGKILL of a user's kind's host")) {
  test("replay --verify reproduces a session whose findings' host was killed and restarted", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-kill-kind-");
    const off = Object.fromEntries(
      ["stats", "anomaly", "collapse", "coherence", "bars"].map((k) => [k, { enabled: false }]),
    );
    const config = join(dir.path, "host.json");
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "kk",
        nats: nats.url,
        input: "jetstream",
        data_dir: join(dir.path, "data"),
        http_port: 0,
        snapshots: { store: "file", every_inputs: 20, every_ms: 200 },
        kinds: [ZSCORE],
        actors: { ...off, zscore: { threshold: 3, warmup_samples: 20 } },
      }),
    );
    const rec = join(dir.path, "s.rec");
    const recorder = startTroupe(["record", "--out", rec, "--nats", nats.url, "--config", config]);
    let host: RunningTroupe | undefined;
    let inject: RunningTroupe | undefined;
    try {
      await recorder.waitFor("Ctrl-C to stop", 60_000);
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: incidents:", 60_000);
      // A first feed taken while the host runs; the host killed once it is idle (a kill with a
      // finding in flight is run_incidents_kill.test.ts's case); a second feed
      // sent while it is down, which the restarted host catches up on: the findings it makes then
      // must reach the incident stage, which is up before the input.
      inject = startTroupe(feedArgs(nats.url, 7));
      assert.is(await inject.exitCode(60_000), 0, inject.output());
      await new Promise((r) => setTimeout(r, 1500));
      host.signal("SIGKILL");
      await host.exited;
      inject = startTroupe(feedArgs(nats.url, 8));
      assert.is(await inject.exitCode(60_000), 0, inject.output());
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: incidents:", 60_000);
      await new Promise((r) => setTimeout(r, 2500));
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
      recorder.signal("SIGINT");
      assert.is(await recorder.exitCode(30_000), 0, recorder.output());

      // The session made findings and incidents of them, so --verify has them to compare.
      const records = await readRecords(rec);
      const spikes = records.filter((m) =>
        m.subject.startsWith("troupe.finding.zscore_spike.") &&
        decodeEnvelope(m.data).type === "zscore_spike"
      );
      const updates = records.filter((m) => m.subject === incidentSubject("zscore_spike"));
      assert.ok(spikes.length >= 10, `${spikes.length} zscore_spike findings recorded`);
      assert.ok(updates.length >= 10, `${updates.length} incident updates recorded`);
      const r = await runTroupe(["replay", rec, "--verify"], { timeoutMs: 90_000 });
      assert.is(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, "verified");
    } finally {
      inject?.signal("SIGKILL");
      await host?.stop();
      await recorder.stop();
      await nats.cleanup();
      dir.remove();
    }
  });
}

/** `troupe inject`'s arguments for a short metrics feed of four channels. */
function feedArgs(natsUrl: string, seed: number): string[] {
  return [
    "inject",
    "--feed",
    "metrics",
    "--channels",
    "4",
    "--rate",
    "4000",
    "--duration",
    "2",
    "--nats",
    natsUrl,
    "--seed",
    String(seed),
  ];
}

test.run();
