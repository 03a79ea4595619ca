/**
 * `troupe ctl` against a host on two worker threads (`troupe run --threads 2`), each of which
 * applies and answers a kind-wide change for the instances it owns: ctl gathers both answers and
 * prints their total and both threads, not the first thread's share; a keyed change is still
 * answered by its owner alone.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { encodeFrame, feedSubject, outPattern } from "../../protocol/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("troupe ctl on a threaded host");

const CHANNELS = 8;

if (haveNatsServer("troupe ctl on a threaded host")) {
  test("a kind-wide change prints the instances of both threads and names them; a keyed one its owner's answer", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    try {
      const path = writeStatsOnlyConfig(dir.path, { hostId: "tc", nats: nats.url });
      const run = startTroupe(["run", "--config", path, "--threads", "2"]);
      try {
        await run.waitFor("troupe run: host tc running");
        const owners = new Set<string>();
        nc.subscribe(outPattern("stats"), { callback: (_err, m) => void owners.add(m.subject) });
        for (let i = 0; i < CHANNELS; i++) {
          const ch = `k${i}`;
          nc.publish(
            feedSubject("tc", ch),
            encodeFrame({
              channel: ch,
              seq0: 0,
              t: Float64Array.of(1_700_000_000_000_000),
              v: Float64Array.of(i),
            }, { id: `f${i}`, src: "test" }),
          );
        }
        await nc.flush();
        for (const t0 = Date.now(); owners.size < CHANNELS && Date.now() - t0 < 15_000;) {
          await new Promise((r) => setTimeout(r, 25));
        }
        assert.is(owners.size, CHANNELS, "every channel's stats instance answered its frame");

        const all = await runTroupe([
          "ctl",
          "stats",
          "--set",
          "every_samples=5",
          "--nats",
          nats.url,
        ]);
        assert.is(all.code, 0, all.stdout + all.stderr);
        assert.is(
          all.stdout,
          `troupe ctl: accepted stats {"every_samples":5}: applied to ${CHANNELS} running stats ` +
            "instance(s) and the configuration of those to come on 2 hosts (tc-t0, tc-t1)\n",
        );

        const one = await runTroupe([
          "ctl",
          "stats",
          "--key",
          "k3",
          "--set",
          "every_samples=6",
          "--nats",
          nats.url,
        ]);
        assert.is(one.code, 0, one.stdout + one.stderr);
        assert.match(
          one.stdout,
          /^troupe ctl: tc-t[01] accepted stats k3 \{"every_samples":6\}: applied to stats\/k3\n$/,
        );

        const bad = await runTroupe([
          "ctl",
          "stats",
          "--set",
          "every_samples=0",
          "--nats",
          nats.url,
        ]);
        assert.is(bad.code, 1, bad.stdout + bad.stderr);
        assert.match(bad.stderr, /^troupe ctl: tc-t0, tc-t1 refused stats \{"every_samples":0\}: /);
        assert.is(bad.stderr.split("\n").length, 2, "one line for the one reason");
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
