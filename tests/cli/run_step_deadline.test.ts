/**
 * A step that never returns (a team's kind looping forever on one input), against a real
 * nats-server with JetStream input and real `troupe run` processes: the watchdog ends the host
 * once the kind's step deadline has passed, saying which instance and input; the next start sends
 * the input to `troupe.dlq.deadline` naming the kind, key, input and time spent, counts it in
 * `troupe_step_deadline_overruns_total`, and every channel goes on; after a SIGKILL and another
 * start nothing spins and nothing is dead-lettered again. A step that hangs as a start replays
 * the journal is ended the same way (the start names its instances to the watchdog together,
 * before their replay). A host on several threads has the same
 * deadline for the steps it does not try on a trials thread: its main thread starts each thread's
 * watchdog.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import {
  assertDeadlineLetter,
  DEADLINE_LETTER_COUNTED,
  deadlySender,
  OVERRUN_COUNTED,
  runHost,
  until,
  untilMetrics,
  watchDeadly,
  writeDeadlyConfig,
} from "../_support/deadly_feed.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { startTroupe } from "../_support/cli.ts";

const test = suite("troupe run: a step past its deadline");

if (haveNatsServer("troupe run: a step past its deadline")) {
  test("ends the host past the deadline; the next start dead-letters the input and goes on", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-deadline-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "sd");
    const { outputs, letters } = watchDeadly(nc);
    const config = join(dir.path, "host.json");
    writeDeadlyConfig(config, {
      host_id: "sd",
      nats: nats.url,
      input: "jetstream",
      data_dir: join(dir.path, "data"),
      // On the host's thread, under the watchdog (the isolated path: run_step_isolation.test).
      supervision: { step_deadline_ms_by_kind: { deadly: 500 }, isolate_user_kinds: false },
    });
    try {
      let { host, url } = await runHost(["--config", config], "sd");
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, "the outputs of two good frames");
      const t0 = Date.now();
      await send("a", 777);
      // Ended by its watchdog (SIGKILL) soon after the deadline, not left spinning.
      assert.is(await host.exitCode(15_000), null, host.output());
      assert.ok(Date.now() - t0 < 10_000, `ended after ${Date.now() - t0} ms`);
      assert.match(
        host.output(),
        /\[sd\] deadly\/a: a step ran past its deadline of 500 ms \(its input at position 3, source position 3, \d+ ms so far\); ending the host/,
      );
      assert.ok(existsSync(join(dir.path, "data", "step_overrun.json")));

      ({ host, url } = await runHost(["--config", config], "sd"));
      await until(() => letters.length >= 1, "the dead letter");
      assertDeadlineLetter(letters, {
        feed: "sd",
        key: "a",
        deadlineMs: 500,
        pos: 3,
        srcPos: 3,
        ended: "host",
      });
      // The letter goes out as the skip is journaled; the record goes once the skip is kept.
      await until(
        () => !existsSync(join(dir.path, "data", "step_overrun.json")),
        "the overrun record removed once the skip is kept",
      );
      await untilMetrics(url, [OVERRUN_COUNTED, DEADLINE_LETTER_COUNTED]);
      const before = outputs.length;
      await send("a", 3);
      await send("b", 4);
      await until(() => outputs.length >= before + 2, "both channels' outputs after the skip");

      // A SIGKILL and another start: nothing spins, nothing is dead-lettered again.
      host.signal("SIGKILL");
      await host.exited;
      ({ host } = await runHost(["--config", config], "sd"));
      await send("a", 5);
      await until(() => outputs.length >= before + 3, "an output after the restart");
      assert.is(letters.length, 1);
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

if (haveNatsServer("troupe run: a step past its deadline during recovery")) {
  test("a step that hangs replaying the journal at a start ends the host; the next skips it", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-deadline-replay-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "sr");
    const { outputs, letters, xs } = watchDeadly(nc);
    const config = join(dir.path, "host.json");
    writeDeadlyConfig(config, {
      host_id: "sr",
      nats: nats.url,
      input: "jetstream",
      data_dir: join(dir.path, "data"),
      // No snapshot at the stop: the next start replays every input from the journal.
      snapshots: { min_inputs: 1000 },
      supervision: { step_deadline_ms_by_kind: { deadly: 500 }, isolate_user_kinds: false },
    });
    const loop778 = { env: { TROUPE_TEST_DEADLY_778: "loop" } };
    try {
      let { host } = await runHost(["--config", config], "sr");
      // Applied live (778 returns in this process), journaled; a:2 after it, so that a start
      // folds 778 in its one pass over the journal, not alone as a stream's last input.
      for (const [channel, v] of [["a", 1], ["a", 778], ["a", 2], ["b", 3]] as const) {
        await send(channel, v);
      }
      await until(() => outputs.length >= 4, "the outputs of four frames");
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());

      // 778 loops in this process: its replay is ended by the watchdog within the deadline.
      const t0 = Date.now();
      const hung = startTroupe(["run", "--config", config], undefined, loop778);
      assert.is(await hung.exitCode(30_000), null, hung.output());
      assert.ok(Date.now() - t0 < 20_000, `ended after ${Date.now() - t0} ms`);
      assert.match(
        hung.output(),
        /\[sr\] deadly\/a: a step ran past its deadline of 500 ms \(its input at position 3, source position 2, \d+ ms so far\); ending the host/,
      );
      assert.not.match(hung.output(), /host sr running/);

      // Started again, 778 still looping here: skipped where it is journaled, dead-lettered once.
      ({ host } = await runHost(["--config", config], "sr", loop778));
      await until(() => letters.length >= 1, "the dead letter");
      assertDeadlineLetter(letters, {
        feed: "sr",
        key: "a",
        deadlineMs: 500,
        pos: 3,
        srcPos: 2,
        ended: "host",
      });
      await send("a", 4);
      await until(() => xs("a").includes(4), "a's output after the skip");
      assert.equal(xs("a"), [1, 778, 2, 4]);
      assert.is(letters.length, 1);
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

if (haveNatsServer("troupe run --threads 2: a step past its deadline")) {
  test("a threaded host's step has its deadline too: the process ends, the next start goes on", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-deadline-threads-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "sd");
    const { outputs } = watchDeadly(nc);
    const config = join(dir.path, "host.json");
    writeDeadlyConfig(config, {
      host_id: "sdt",
      nats: nats.url,
      input: "core",
      data_dir: join(dir.path, "data"),
      partitions: { count: 4 },
      // On the host threads, under the watchdog (tried on trials threads by default:
      // run_step_isolation.test).
      supervision: { step_deadline_ms_by_kind: { deadly: 500 }, isolate_user_kinds: false },
    });
    const overrunFiles = () =>
      [0, 1].filter((i) => existsSync(join(dir.path, "data", `thread-${i}`, "step_overrun.json")));
    try {
      let { host } = await runHost(["--config", config, "--threads", "2"], "sdt");
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, "the outputs of two good frames");
      const t0 = Date.now();
      await send("a", 777);
      // Ended by the watchdog its main thread started for the thread, not left spinning.
      assert.is(await host.exitCode(15_000), null, host.output());
      assert.ok(Date.now() - t0 < 10_000, `ended after ${Date.now() - t0} ms`);
      assert.match(
        host.output(),
        /\[sdt-t[01]\] deadly\/a: a step ran past its deadline of 500 ms \(its input at position 3, source position 0, \d+ ms so far\); ending the host/,
      );
      assert.is(overrunFiles().length, 1);

      // The next start skips it (journaled) or says it is lost (core input, not journaled yet).
      ({ host } = await runHost(["--config", config, "--threads", "2"], "sdt"));
      assert.match(
        host.output(),
        /Step of kind "deadly" on key "a" ran past its deadline of 500 ms on its input at position 3/,
      );
      assert.equal(overrunFiles(), []);
      const before = outputs.length;
      await send("a", 3);
      await send("b", 4);
      await until(() => outputs.length >= before + 2, "both channels' outputs after the restart");
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
