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
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { decodeDeadLetter } from "../../actors/runtime/edge/mod.ts";
import { partitionOf } from "../../actors/runtime/host/mod.ts";
import { decodeColumns, feedSubject } from "../../protocol/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { askDuringHang, DEADLY, deadlySender, healthz, until } from "../_support/deadly_feed.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe run: a team's step that never returns");
/** Long enough to ask /healthz several times while the step loops. */
const DEADLINE_MS = 5000;
/**
 * On two threads: /healthz reads what each thread last said of its health (every 250 ms), and the
 * three asks go through the main thread's hand-off, so they take longer on a busy machine.
 */
const THREADS_DEADLINE_MS = 8000;

interface Output {
  subject: string;
  id: string;
  x: number;
}

const A = "troupe.out.deadly.a", B = "troupe.out.deadly.b";

/**
 * A nats-server, a host configuration of kind "deadly" (isolated by default; `overrides` replace
 * its fields) and what comes out.
 */
async function session(overrides: Record<string, unknown> = {}) {
  const nats = await startTestNats();
  const dir = tempDir("troupe-isolation-");
  const nc = await connect({ servers: nats.url });
  const outputs: Output[] = [];
  const letters: Array<{ subject: string; letter: ReturnType<typeof decodeDeadLetter> }> = [];
  nc.subscribe("troupe.out.deadly.>", {
    callback: (_e, m) => {
      const { envelope, frame } = decodeColumns(m.data);
      outputs.push({ subject: m.subject, id: envelope.id, x: frame.columns.x![0]! });
    },
  });
  nc.subscribe("troupe.dlq.>", {
    callback: (_e, m) =>
      void letters.push({ subject: m.subject, letter: decodeDeadLetter(m.data) }),
  });
  const config = join(dir.path, "host.json");
  const off = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }]));
  writeFileSync(
    config,
    JSON.stringify({
      host_id: "si",
      nats: nats.url,
      input: "jetstream",
      data_dir: join(dir.path, "data"),
      http_port: 0,
      kinds: [DEADLY],
      actors: { ...off, deadly: {} },
      supervision: { step_deadline_ms_by_kind: { deadly: DEADLINE_MS } },
      ...overrides,
    }),
  );
  return {
    nc,
    send: deadlySender(nc, "si"),
    config,
    outputs,
    letters,
    // Each output once by its id: a restart may publish the last outputs again, with the same
    // ids (Nats-Msg-Id), which JetStream drops; a new id would be an input applied twice.
    xs: (subject: string) => [
      ...new Map(outputs.filter((o) => o.subject === subject).map((o) => [o.id, o.x])).values(),
    ],
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
      let host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host si running", 60_000);
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(host.output())?.[1];
      assert.ok(url, host.output());
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, `the outputs of two good frames:\n${host.output()}`);

      await send("a", 777);
      await new Promise((r) => setTimeout(r, 1200));
      // While the step loops (each answer names it): /healthz answers, and channel b goes on.
      const seen = await askDuringHang(url, {
        send: (v) => send("b", v),
        seen: (v) => xs(B).includes(v),
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
      assert.is(letters.length, 1, JSON.stringify(letters));
      const { subject, letter } = letters[0]!;
      assert.is(subject, "troupe.dlq.deadline");
      assert.is(letter.reason, "deadline");
      assert.is(letter.actor, "deadly/a");
      assert.is(letter.subject, feedSubject("si", "a"));
      assert.match(
        letter.error,
        /^Step of kind "deadly" on key "a" ran past its deadline of 5000 ms on its input at position 3 \(source position 3\): its thread was ended after \d+ ms; skipped$/,
      );
      assert.match(host.output(), /deadly\/a: a step ran past its deadline of 5000 ms/);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /troupe_step_deadline_overruns_total\{[^}]*kind="deadly"[^}]*\} 1\n/);
      assert.match(metrics, /troupe_dead_letters_total\{[^}]*reason="deadline"[^}]*\} 1\n/);
      const { body } = await healthz(url);
      assert.equal(body.stuck, []);
      assert.is(host.child.exitCode, null, "the host runs on");
      assert.is(host.child.signalCode, null, "the host runs on");

      // The instance goes on after the input, on a fresh worker.
      await send("a", 3);
      await until(() => xs(A).includes(3), "channel a's output after the skip");
      assert.equal(xs(A), [1, 3]);

      // A SIGKILL and another start: nothing spins, nothing is dead-lettered or published again.
      host.signal("SIGKILL");
      await host.exited;
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host si running", 60_000);
      await send("a", 5);
      await send("b", 6);
      await until(() => xs(A).includes(5) && xs(B).includes(6), "both channels after the restart");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(xs(A), [1, 3, 5]);
      assert.equal(xs(B), [2, 10, 11, 12, 6]);
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
      let host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host si running", 60_000);
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, `the outputs of two good frames:\n${host.output()}`);
      // a's step spins on 777 on its worker; a's next input is journaled behind it, b's passes.
      await send("a", 777);
      await send("a", 3);
      await send("b", 4);
      await until(() => xs(B).includes(4), "channel b's output past the stuck step");
      assert.equal(xs(A), [1], "a's later input waits for the stuck step");
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
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host si running", 60_000);
      await until(() => letters.length >= 1 && xs(A).includes(3), "the skip and a's next output");
      assert.is(letters.length, 1, JSON.stringify(letters));
      const { subject, letter } = letters[0]!;
      assert.is(subject, "troupe.dlq.deadline");
      assert.is(letter.actor, "deadly/a");
      assert.match(letter.error, /at position 3 \(source position 3\): the host was ended after/);
      await send("a", 5);
      await until(() => xs(A).includes(5), "channel a's output after the restart");
      assert.equal(xs(A), [1, 3, 5]);
      assert.equal(xs(B), [2, 4]);
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
      const host = startTroupe(["run", "--config", config, "--threads", "2"]);
      await host.waitFor("troupe run: host si running", 60_000);
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(host.output())?.[1];
      assert.ok(url, host.output());
      await send("a", 1);
      await send("b", 2);
      await until(() => outputs.length >= 2, `the outputs of two good frames:\n${host.output()}`);

      await send("a", 777);
      await new Promise((r) => setTimeout(r, 1500));
      const seen = await askDuringHang(url, {
        send: (v) => send("b", v),
        seen: (v) => xs(B).includes(v),
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
      assert.is(letters.length, 1, JSON.stringify(letters));
      const { subject, letter } = letters[0]!;
      assert.is(subject, "troupe.dlq.deadline");
      assert.is(letter.actor, "deadly/a");
      assert.is(letter.subject, feedSubject("si", "a"));
      assert.match(
        letter.error,
        new RegExp(
          `^Step of kind "deadly" on key "a" ran past its deadline of ${THREADS_DEADLINE_MS} ms ` +
            `on its input at position 3 \\(source position 0\\): its thread was ended after ` +
            `\\d+ ms; skipped$`,
        ),
      );
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /troupe_step_deadline_overruns_total\{[^}]*kind="deadly"[^}]*\} 1\n/);
      // Once its thread has said so (its health comes every 250 ms), no step is stuck.
      const unstuck = async () => ((await healthz(url)).body.stuck as unknown[]).length === 0;
      await until(unstuck, "/healthz without the stuck step", 2000);
      assert.is(host.child.exitCode, null, `the host runs on:\n${host.output()}`);
      assert.is(host.child.signalCode, null, "the host runs on");

      // Channel a goes on after the skipped input, on its thread's fresh trials thread.
      await send("a", 3);
      await until(() => xs(A).includes(3), "channel a's output after the skip");
      assert.equal(xs(A), [1, 3]);
      assert.equal(xs(B), [2, 10, 11, 12]);
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await end();
    }
  });
}

test.run();
