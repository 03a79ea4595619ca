/**
 * A step that never returns in a team's kind, tried on a worker thread first, against a
 * real nats-server with JetStream input and a real `troupe run` process: while the step loops the
 * host answers /healthz within a second, naming the stuck instance, and another channel's outputs
 * keep coming; past the deadline the worker is ended, the input goes to `troupe.dlq.deadline`
 * naming the kind, key, input and time spent, `troupe_step_deadline_overruns_total` counts it,
 * and the instance goes on after it without the host ever stopping. After a SIGKILL and another
 * start nothing spins, nothing is dead-lettered again and no output is published twice. A SIGKILL
 * while the step spins, later inputs of its channel journaled behind it: the next start meets it
 * as it recovers, on the host's thread, where the watchdog ends the host at the deadline; the
 * start after skips it and applies those later inputs, in order. A host on two threads
 * (`--threads 2`) does the same: each host thread tries its team's steps on trials threads of its
 * own, and /healthz names the stuck step's thread.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { partitionOf } from "../../actors/runtime/host/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import {
  askDuringHang,
  assertDeadlineLetter,
  DEADLINE_LETTER_COUNTED,
  deadlySender,
  healthz,
  OVERRUN_COUNTED,
  runHost,
  until,
  untilMetrics,
  watchDeadly,
  writeDeadlyConfig,
} from "../_support/deadly_feed.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe run: a team's step that never returns");
/** Long enough to ask /healthz several times while the step loops. */
const DEADLINE_MS = 5000;
/**
 * On two threads: /healthz reads what each thread last said of its health (every 250 ms), and the
 * three asks go through the main thread's hand-off, so they take longer on a busy machine.
 */
const THREADS_DEADLINE_MS = 8000;

/**
 * A nats-server, a host configuration of kind "deadly" (isolated by default; `overrides` replace
 * its fields) and what comes out.
 */
async function session(overrides: Record<string, unknown> = {}) {
  const nats = await startTestNats();
  const dir = tempDir("troupe-isolation-");
  const nc = await connect({ servers: nats.url });
  const config = join(dir.path, "host.json");
  writeDeadlyConfig(config, {
    host_id: "si",
    nats: nats.url,
    input: "jetstream",
    data_dir: join(dir.path, "data"),
    supervision: { step_deadline_ms_by_kind: { deadly: DEADLINE_MS } },
    ...overrides,
  });
  return {
    ...watchDeadly(nc),
    send: deadlySender(nc, "si"),
    config,
    async end(): Promise<void> {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    },
  };
}

if (haveNatsServer("troupe run: a team's step that never returns")) {
  test("the host serves throughout, names the stuck step and dead-letters its input", async () => {
    const { send, config, outputs, letters, xs, end } = await session();
    try {
      let { host, url } = await runHost(["--config", config], "si");
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, `the outputs of two good frames:\n${host.output()}`);

      await send("a", 777);
      await new Promise((r) => setTimeout(r, 1200));
      // While the step loops (each answer names it): /healthz answers, and channel b goes on.
      const seen = await askDuringHang(url, {
        send: (v) => send("b", v),
        seen: (v) => xs("b").includes(v),
      });
      for (const body of seen) {
        const stuck = body.stuck as Array<Record<string, unknown>>;
        assert.is(stuck.length, 1, `${JSON.stringify(seen)}\n${host.output()}`);
        const { elapsed_ms, ...named } = stuck[0]!;
        assert.equal(named, {
          kind: "deadly",
          key: "a",
          pos: 3,
          src_pos: 3,
          deadline_ms: DEADLINE_MS,
        });
        assert.ok((elapsed_ms as number) >= 1000 && (elapsed_ms as number) < DEADLINE_MS);
      }
      assert.match(
        host.output(),
        /deadly\/a: a step has run for 1000 ms on its input at position 3/,
      );

      await until(() => letters.length >= 1, "the dead letter");
      assertDeadlineLetter(letters, {
        feed: "si",
        key: "a",
        deadlineMs: DEADLINE_MS,
        pos: 3,
        srcPos: 3,
        ended: "thread",
      });
      assert.match(host.output(), /deadly\/a: a step ran past its deadline of 5000 ms/);
      await untilMetrics(url, [OVERRUN_COUNTED, DEADLINE_LETTER_COUNTED]);
      const { body } = await healthz(url);
      assert.equal(body.stuck, []);
      assert.is(host.child.exitCode, null, "the host runs on");
      assert.is(host.child.signalCode, null, "the host runs on");

      // The instance goes on after the input, on a fresh worker.
      await send("a", 3);
      await until(() => xs("a").includes(3), "channel a's output after the skip");
      assert.equal(xs("a"), [1, 3]);

      // A SIGKILL and another start: nothing spins, nothing is dead-lettered or published again.
      host.signal("SIGKILL");
      await host.exited;
      ({ host, url } = await runHost(["--config", config], "si"));
      await send("a", 5);
      await send("b", 6);
      await until(
        () => xs("a").includes(5) && xs("b").includes(6),
        "both channels after the restart",
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(xs("a"), [1, 3, 5]);
      assert.equal(xs("b"), [2, 10, 11, 12, 6]);
      assert.not.ok(outputs.some((o) => o.x === 777), "the input that overran was applied");
      assert.is(letters.length, 1);
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await end();
    }
  });

  test("a SIGKILL as a step spins, its channel's later inputs journaled: skipped on restart", async () => {
    const { send, config, outputs, letters, xs, end } = await session();
    try {
      let { host } = await runHost(["--config", config], "si");
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, `the outputs of two good frames:\n${host.output()}`);
      // a's step spins on 777 on its worker; a's next input is journaled behind it, b's passes.
      await send("a", 777);
      await send("a", 3);
      await send("b", 4);
      await until(() => xs("b").includes(4), "channel b's output past the stuck step");
      assert.equal(xs("a"), [1], "a's later input waits for the stuck step");
      host.signal("SIGKILL");
      await host.exited;

      // Its recovery applies 777 on the host's thread, under the watchdog: ended at the deadline.
      host = startTroupe(["run", "--config", config]);
      assert.is(await host.exitCode(DEADLINE_MS + 60_000), null, host.output());
      assert.match(
        host.output(),
        /deadly\/a: a step ran past its deadline of 5000 ms \(its input at position 3, source position 3, \d+ ms so far\); ending the host/,
      );

      // The next start skips it, and applies a's later input after it.
      ({ host } = await runHost(["--config", config], "si"));
      await until(() => letters.length >= 1 && xs("a").includes(3), "the skip and a's next output");
      assertDeadlineLetter(letters, {
        feed: "si",
        key: "a",
        deadlineMs: DEADLINE_MS,
        pos: 3,
        srcPos: 3,
        ended: "host",
      });
      await send("a", 5);
      await until(() => xs("a").includes(5), "channel a's output after the restart");
      assert.equal(xs("a"), [1, 3, 5]);
      assert.equal(xs("b"), [2, 4]);
      assert.not.ok(outputs.some((o) => o.x === 777), "the input that overran was applied");
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await end();
    }
  });
}

if (haveNatsServer("troupe run --threads 2: a team's step that never returns")) {
  test("a host on two threads serves throughout, names the stuck step's thread, goes on", async () => {
    const { send, config, outputs, letters, xs, end } = await session({
      input: "core",
      partitions: { count: 4 },
      supervision: { step_deadline_ms_by_kind: { deadly: THREADS_DEADLINE_MS } },
    });
    // Channel a's thread (partition p goes to thread p mod 2).
    const thread = partitionOf("a", 4) % 2;
    try {
      const { host, url } = await runHost(["--config", config, "--threads", "2"], "si");
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, `the outputs of two good frames:\n${host.output()}`);

      await send("a", 777);
      // Until /healthz names the stuck step (after it has run a second, from a thread's report
      // every 250 ms): on a loaded machine the frame may reach its thread later than any fixed wait.
      await until(
        async () => ((await healthz(url)).body.stuck as unknown[]).length > 0,
        `the stuck step named on /healthz:\n${host.output()}`,
      );
      const seen = await askDuringHang(url, {
        send: (v) => send("b", v),
        seen: (v) => xs("b").includes(v),
      });
      for (const body of seen) {
        const stuck = body.stuck as Array<Record<string, unknown>>;
        assert.is(stuck.length, 1, `${JSON.stringify(seen)}\n${host.output()}`);
        const { elapsed_ms, ...named } = stuck[0]!;
        assert.equal(named, {
          thread,
          host_id: `si-t${thread}`,
          kind: "deadly",
          key: "a",
          pos: 3,
          src_pos: 0,
          deadline_ms: THREADS_DEADLINE_MS,
        });
        assert.ok((elapsed_ms as number) >= 1000 && (elapsed_ms as number) < THREADS_DEADLINE_MS);
      }

      await until(() => letters.length >= 1, "the dead letter");
      assertDeadlineLetter(letters, {
        feed: "si",
        key: "a",
        deadlineMs: THREADS_DEADLINE_MS,
        pos: 3,
        srcPos: 0,
        ended: "thread",
      });
      await untilMetrics(url, [OVERRUN_COUNTED]);
      // Once its thread has said so (its health comes every 250 ms), no step is stuck.
      const unstuck = async () => ((await healthz(url)).body.stuck as unknown[]).length === 0;
      await until(unstuck, "/healthz without the stuck step", 2000);
      assert.is(host.child.exitCode, null, `the host runs on:\n${host.output()}`);
      assert.is(host.child.signalCode, null, "the host runs on");

      // Channel a goes on after the skipped input, on its thread's fresh trials thread.
      await send("a", 3);
      await until(() => xs("a").includes(3), "channel a's output after the skip");
      assert.equal(xs("a"), [1, 3]);
      assert.equal(xs("b"), [2, 10, 11, 12]);
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await end();
    }
  });
}

test.run();
