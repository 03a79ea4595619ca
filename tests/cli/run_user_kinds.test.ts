/**
 * `troupe run --config` with a user's kinds (`"kinds"` in the file): the example kinds run beside
 * troupe's own on two worker threads against a real nats-server, their findings and columns
 * published; a kinds module that cannot be loaded stops startup naming the module (exit 2); and
 * `troupe ctl` checks a change of a user's kind against its schema.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { ROOT, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("cli run: a user's kinds");
const ZSCORE = join(ROOT, "examples", "zscore", "zscore.ts");

/** The stats-only config of the thread suites, with the zscore example beside stats. */
function configWithZscore(dir: string, nats: string, kinds: string[] = [ZSCORE]): string {
  const path = writeStatsOnlyConfig(dir, { hostId: "uk", nats });
  const raw = JSON.parse(
    readFileSync(path, "utf8"),
  ) as { actors: Record<string, unknown> };
  writeFileSync(path, JSON.stringify({ ...raw, kinds, actors: { ...raw.actors, zscore: {} } }));
  return path;
}

test("a kinds module that cannot be loaded stops troupe run naming it, exit 2", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "host.json");
    writeFileSync(path, JSON.stringify({ kinds: ["./nope.ts"], data_dir: join(dir.path, "d") }));
    const r = await runTroupe(["run", "--config", path]);
    assert.is(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      `Kind module "./nope.ts" not found: no file ${join(dir.path, "nope.ts")}`,
    );
    const c = await runTroupe(["ctl", "zscore", "--set", "threshold=-1", "--kinds", ZSCORE]);
    assert.is(c.code, 2, c.stderr);
    assert.match(c.stderr, 'Field "ctl.zscore.threshold" must be >= 0.5, got -1');
  } finally {
    dir.remove();
  }
});

if (haveNatsServer("cli run: a user's kinds")) {
  test("the example kinds run beside troupe's own on two threads", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    try {
      const path = configWithZscore(dir.path, nats.url);
      const run = startTroupe(["run", "--config", path, "--threads", "2"]);
      try {
        await run.waitFor("troupe run: host uk running", 60_000);
        assert.match(run.output(), /running stats, zscore on 2 threads/);
        const subjects = new Map<string, number>();
        const spikes = new Map<string, number>();
        nc.subscribe("troupe.out.zscore.>", {
          callback: (_e, m) => void subjects.set(m.subject, (subjects.get(m.subject) ?? 0) + 1),
        });
        // A finding is published once, on its own subject (troupe.finding.<type>.<channel>).
        nc.subscribe("troupe.finding.zscore_spike.>", {
          callback: (_e, m) => void spikes.set(m.subject, (spikes.get(m.subject) ?? 0) + 1),
        });
        for (let i = 0; i < 8; i++) {
          const ch = `k${i}`;
          const t = Float64Array.from({ length: 100 }, (_, j) => 1.7e15 + j * 1000);
          const v = Float64Array.from({ length: 100 }, (_, j) => (j === 90 ? 50 : j % 3));
          nc.publish(
            feedSubject("uk", ch),
            encodeFrame({ channel: ch, seq0: 0, t, v }, { id: `f${i}`, src: "test" }),
          );
        }
        await nc.flush();
        for (
          const t0 = Date.now();
          (subjects.size < 8 || spikes.size < 8) && Date.now() - t0 < 15_000;
        ) {
          await new Promise((r) => setTimeout(r, 50));
        }
        // Each channel's instance, on whichever thread, published its z column and its spike.
        const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
        assert.equal([...subjects].sort(), keys.map((k) => [`troupe.out.zscore.${k}`, 1]));
        assert.equal([...spikes].sort(), keys.map((k) => [`troupe.finding.zscore_spike.${k}`, 1]));
        run.signal("SIGINT");
        assert.is(await run.exited, 0, run.output());
      } finally {
        run.signal("SIGKILL");
      }
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
