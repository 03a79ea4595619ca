/**
 * A lone finding in a recorded live session: `troupe record` keeps the host's progress marks with
 * everything else, the stage of `troupe run` opened the lone spike's incident (its event time moved
 * by the marks, no other finding following), and `troupe replay --verify` makes the same incident
 * updates, the marks handed to the replay's stage in their places. Against a real nats-server and
 * real `troupe run` and `record` processes, the feed published at the wall clock.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/mod.ts";
import {
  decodeEnvelope,
  decodeIncident,
  encodeFrame,
  feedSubject,
  incidentSubject,
  PROGRESS_PATTERN,
  subjectMatches,
} from "../../protocol/mod.ts";
import { ROOT, type RunningTroupe, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("troupe record: a lone finding's incident");
const ZSCORE = join(ROOT, "examples", "zscore", "zscore.ts");

if (haveNatsServer("troupe record: a lone finding's incident")) {
  test("the lone spike's incident is recorded and replay --verify makes it again from the recorded marks", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-lone-finding-");
    const off = Object.fromEntries(
      ["stats", "anomaly", "collapse", "coherence", "bars"].map((k) => [k, { enabled: false }]),
    );
    const config = join(dir.path, "host.json");
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "lone",
        nats: nats.url,
        input: "core",
        data_dir: join(dir.path, "data"),
        kinds: [ZSCORE],
        actors: { ...off, zscore: { warmup_samples: 20 } },
        incidents: { for_us: 0, hold_us: 2_000_000, group_window_us: 3_000_000 },
      }),
    );
    const rec = join(dir.path, "s.rec");
    const recorder = startTroupe(["record", "--out", rec, "--nats", nats.url, "--config", config]);
    let host: RunningTroupe | undefined;
    const bus = await NatsBus.connect(nats.url);
    let timer: ReturnType<typeof setInterval> | undefined;
    try {
      await recorder.waitFor("Ctrl-C to stop", 60_000);
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: incidents:", 60_000);
      let seq = 0;
      const send = (v: number) => {
        const frame = {
          channel: "lone",
          seq0: seq,
          t: new Float64Array([Date.now() * 1000]),
          v: new Float64Array([v]),
        };
        bus.publish(
          feedSubject("test", "lone"),
          encodeFrame(frame, { id: `lone:${seq}`, src: "t" }),
        );
        seq++;
      };
      let spikeAt = 30; // the one spike, past the warm-up
      timer = setInterval(() => send(--spikeAt === 0 ? 1000 : 10 + 0.1 * Math.sin(seq)), 100);
      await new Promise((r) => setTimeout(r, 9000)); // the spike, then its incident's whole life
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 500));
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
      recorder.signal("SIGINT");
      assert.is(await recorder.exitCode(30_000), 0, recorder.output());

      const records = await readRecords(rec);
      const spikes = records.filter((m) =>
        m.subject.startsWith("troupe.finding.zscore_spike.") &&
        decodeEnvelope(m.data).type === "zscore_spike"
      );
      assert.is(spikes.length, 1, "one finding alone");
      const updates = records
        .filter((m) => m.subject === incidentSubject("zscore_spike"))
        .map((m) => decodeIncident(m.data).incident.state);
      assert.equal(updates, ["firing", "resolved"], "opened and resolved with no other finding");
      const marks = records.filter((m) => subjectMatches(PROGRESS_PATTERN, m.subject));
      assert.ok(marks.length >= 10, `${marks.length} progress marks recorded`);
      const r = await runTroupe(["replay", rec, "--verify"], { timeoutMs: 90_000 });
      assert.is(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, "verified");
    } finally {
      clearInterval(timer);
      await bus.close();
      await host?.stop();
      await recorder.stop();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
