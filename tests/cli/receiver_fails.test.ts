/**
 * A metrics receiver that fails stops its command with one clear line and no stack trace: `troupe
 * run` whose `remote_write` port another process holds exits 1 before it says it runs; a receiver
 * thread that dies later (an error nothing caught in it) stops `troupe run` and `troupe up --feed
 * remote-write` (whose only input it is), each draining and exiting 1 with the reason, and up's
 * nats-server stopped. A supervisor restarts the host; Prometheus sends again what went unanswered.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { ROOT, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { natsServersOn, upArgs } from "./_up.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("a metrics receiver that fails");

const PRELOAD = join(ROOT, "tests/_support/receiver_thread_dies.mjs");

/** How the thread's end reads: thrown inside it on Node, ended from outside on Deno (see PRELOAD). */
const DIED = process.env.TROUPE_TEST_RUNTIME === "deno"
  ? "the metrics receiver's thread exited (code 1)"
  : "the metrics receiver's thread failed: an error nothing caught: a bug: " +
    "receiver_thread_dies.mjs throws in the receiver's thread";

/** A stack frame in a command's output: none is expected. */
const STACK = /^\s+at /m;

if (haveNatsServer("a metrics receiver that fails")) {
  test("troupe run whose remote_write port is taken exits 1 naming the port, before it runs", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const path = writeStatsOnlyConfig(dir.path, {
        hostId: "rw-taken",
        nats: nats.url,
        extra: { remote_write: { port } },
      });
      const run = await runTroupe(["run", "--config", path], { timeoutMs: 60_000 });
      const out = run.stdout + run.stderr;
      assert.is(run.code, 1, out);
      assert.match(
        run.stderr,
        new RegExp(
          `^troupe run: cannot start the metrics receiver: Cannot receive metrics on ` +
            `127\\.0\\.0\\.1:${port}[^\\n]*in use`,
          "m",
        ),
      );
      assert.not.match(out, "running stats", "it said it runs");
      assert.not.match(out, STACK);
    } finally {
      await new Promise((r) => taken.close(r));
      await nats.cleanup();
      dir.remove();
    }
  });

  test("troupe run whose receiver thread dies stops with the reason and exits 1", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const trigger = join(dir.path, "die");
    try {
      const path = writeStatsOnlyConfig(dir.path, {
        hostId: "rw-dies",
        nats: nats.url,
        extra: { remote_write: { port: 0 } },
      });
      const run = startTroupe(["run", "--config", path], ROOT, {
        preload: PRELOAD,
        env: { TROUPE_TEST_RECEIVER_DIES: trigger },
      });
      try {
        await run.waitFor("send_interval", 60_000);
        writeFileSync(trigger, "");
        assert.is(await run.exitCode(30_000), 1, run.output());
        assert.match(run.output(), `troupe run: host rw-dies stopped: ${DIED}\n`);
        assert.not.match(run.output(), STACK);
      } finally {
        run.signal("SIGKILL");
      }
    } finally {
      await nats.cleanup();
      dir.remove();
    }
  });

  test("troupe up --feed remote-write whose receiver thread dies stops everything and exits 1", async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, "up");
    const trigger = join(dir.path, "die");
    const up = startTroupe(upArgs(dataDir, ["--feed", "remote-write"]), ROOT, {
      preload: PRELOAD,
      env: { TROUPE_TEST_RECEIVER_DIES: trigger },
    });
    try {
      // The block holds the generated token: written to a file, whose path is the line's end.
      await up.waitFor("prometheus-remote-write.yml", 120_000);
      assert.match(up.output(), "acknowledged once on the feed stream");
      writeFileSync(trigger, "");
      assert.is(await up.exitCode(60_000), 1, up.output());
      assert.match(up.output(), `troupe up: ${DIED}: draining and stopping`);
      assert.not.match(up.output(), STACK);
      assert.equal(natsServersOn(join(dataDir, "nats")), [], "no nats-server left");
    } finally {
      await up.stop();
      for (const pid of natsServersOn(join(dataDir, "nats"))) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  });
}

test.run();
