/**
 * A step that never returns (a team's kind looping forever on one input), against a real
 * nats-server with JetStream input and real `troupe run` processes: the watchdog ends the host
 * once the kind's step deadline has passed, saying which instance and input; the next start sends
 * the input to `troupe.dlq.deadline` naming the kind, key, input and time spent, counts it in
 * `troupe_step_deadline_overruns_total`, and every channel goes on; after a SIGKILL and another
 * start nothing spins and nothing is dead-lettered again. A host on several threads has the same
 * deadline for the steps it does not try on a trials thread: its main thread starts each thread's
 * watchdog.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { decodeDeadLetter } from "../../actors/runtime/edge/mod.ts";
import { feedSubject } from "../../protocol/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { DEADLY, deadlySender, until } from "../_support/deadly_feed.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe run: a step past its deadline");

if (haveNatsServer("troupe run: a step past its deadline")) {
  test("ends the host past the deadline; the next start dead-letters the input and goes on", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-deadline-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "sd");
    const outputs: string[] = [];
    const letters: Array<{ subject: string; letter: ReturnType<typeof decodeDeadLetter> }> = [];
    nc.subscribe("troupe.out.deadly.>", { callback: (_e, m) => void outputs.push(m.subject) });
    nc.subscribe("troupe.dlq.>", {
      callback: (_e, m) =>
        void letters.push({ subject: m.subject, letter: decodeDeadLetter(m.data) }),
    });
    const config = join(dir.path, "host.json");
    const off = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }]));
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "sd",
        nats: nats.url,
        input: "jetstream",
        data_dir: join(dir.path, "data"),
        http_port: 0,
        kinds: [DEADLY],
        actors: { ...off, deadly: {} },
        // On the host's thread, under the watchdog (the isolated path: run_step_isolation.test).
        supervision: { step_deadline_ms_by_kind: { deadly: 500 }, isolate_user_kinds: false },
      }),
    );
    try {
      let host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host sd running", 60_000);
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

      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host sd running", 60_000);
      await until(() => letters.length >= 1, "the dead letter");
      assert.is(letters.length, 1, JSON.stringify(letters));
      const { subject, letter } = letters[0]!;
      assert.is(subject, "troupe.dlq.deadline");
      assert.is(letter.reason, "deadline");
      assert.is(letter.actor, "deadly/a");
      assert.is(letter.subject, feedSubject("sd", "a"));
      assert.match(
        letter.error,
        /^Step of kind "deadly" on key "a" ran past its deadline of 500 ms on its input at position 3 \(source position 3\): the host was ended after \d+ ms; skipped$/,
      );
      assert.not.ok(existsSync(join(dir.path, "data", "step_overrun.json")));
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(host.output())?.[1];
      assert.ok(url, host.output());
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /troupe_dead_letters_total\{[^}]*reason="deadline"[^}]*\} 1\n/);
      assert.match(metrics, /troupe_step_deadline_overruns_total\{[^}]*kind="deadly"[^}]*\} 1\n/);
      const before = outputs.length;
      await send("a", 3);
      await send("b", 4);
      await until(() => outputs.length >= before + 2, "both channels' outputs after the skip");

      // A SIGKILL and another start: nothing spins, nothing is dead-lettered again.
      host.signal("SIGKILL");
      await host.exited;
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host sd running", 60_000);
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

if (haveNatsServer("troupe run --threads 2: a step past its deadline")) {
  test("a threaded host's step has its deadline too: the process ends, the next start goes on", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-deadline-threads-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "sd");
    const outputs: string[] = [];
    nc.subscribe("troupe.out.deadly.>", { callback: (_e, m) => void outputs.push(m.subject) });
    const config = join(dir.path, "host.json");
    const off = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }]));
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "sdt",
        nats: nats.url,
        input: "core",
        data_dir: join(dir.path, "data"),
        http_port: 0,
        partitions: { count: 4 },
        kinds: [DEADLY],
        actors: { ...off, deadly: {} },
        // On the host threads, under the watchdog (tried on trials threads by default:
        // run_step_isolation.test).
        supervision: { step_deadline_ms_by_kind: { deadly: 500 }, isolate_user_kinds: false },
      }),
    );
    const overrunFiles = () =>
      [0, 1].filter((i) => existsSync(join(dir.path, "data", `thread-${i}`, "step_overrun.json")));
    try {
      let host = startTroupe(["run", "--config", config, "--threads", "2"]);
      await host.waitFor("troupe run: host sdt running", 60_000);
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
      host = startTroupe(["run", "--config", config, "--threads", "2"]);
      await host.waitFor("troupe run: host sdt running", 60_000);
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
