/**
 * A step that never returns in a team's kind on a leased host (`troupe run --partitions auto`),
 * against a real nats-server and a real `troupe run` process: each partition's host tries the
 * kind's steps on a worker thread first, as a host in one thread does. While the step loops the
 * host answers /healthz within a second, naming the stuck instance and its partition, and another
 * channel's outputs keep coming (channels a and b fall in partitions 0 and 1); past the deadline
 * the worker is ended, the input goes to `troupe.dlq.deadline` naming the kind, key, input and
 * time spent, and the instance goes on after it without the host ever stopping.
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

const test = suite("troupe run --partitions auto: a team's step that never returns");
/** Long enough to ask /healthz several times while the step loops. */
const DEADLINE_MS = 5000;
const PARTITIONS = 2;

const A = "troupe.out.deadly.a", B = "troupe.out.deadly.b";

if (haveNatsServer("troupe run --partitions auto: a team's step that never returns")) {
  test("a leased host serves throughout, names the stuck step and dead-letters its input", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-leased-isolation-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "ls");
    const outputs: Array<{ subject: string; id: string; x: number }> = [];
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
    const xs = (subject: string) => [
      ...new Map(outputs.filter((o) => o.subject === subject).map((o) => [o.id, o.x])).values(),
    ];
    const config = join(dir.path, "host.json");
    const off = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }]));
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "ls",
        nats: nats.url,
        input: "jetstream",
        journal: { kind: "jetstream" },
        snapshots: { store: "kv" },
        partitions: { count: PARTITIONS },
        data_dir: join(dir.path, "data"),
        http_port: 0,
        kinds: [DEADLY],
        actors: { ...off, deadly: {} },
        supervision: { step_deadline_ms_by_kind: { deadly: DEADLINE_MS } },
      }),
    );
    const host = startTroupe(["run", "--config", config, "--partitions", "auto"]);
    try {
      await host.waitFor("troupe run: host ls running", 60_000);
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(host.output())?.[1];
      assert.ok(url, host.output());
      // Once the host holds both partitions (it is the only one), both channels are served.
      const held = async () => ((await healthz(url)).body.partitions as number[]).length;
      await until(async () => await held() === PARTITIONS, `both partitions held`);
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
        const { elapsed_ms, pos, ...named } = stuck[0]!;
        assert.equal(named, {
          partition: partitionOf("a", PARTITIONS),
          kind: "deadly",
          key: "a",
          src_pos: 3,
          deadline_ms: DEADLINE_MS,
        });
        assert.ok((pos as number) > 0, JSON.stringify(stuck));
        assert.ok((elapsed_ms as number) >= 1000 && (elapsed_ms as number) < DEADLINE_MS);
      }
      assert.match(host.output(), /deadly\/a: a step has run for 1000 ms on its input/);

      await until(() => letters.length >= 1, "the dead letter");
      assert.is(letters.length, 1, JSON.stringify(letters));
      const { subject, letter } = letters[0]!;
      assert.is(subject, "troupe.dlq.deadline");
      assert.is(letter.reason, "deadline");
      assert.is(letter.actor, "deadly/a");
      assert.is(letter.subject, feedSubject("ls", "a"));
      assert.match(
        letter.error,
        /^Step of kind "deadly" on key "a" ran past its deadline of 5000 ms on its input at position \d+ \(source position 3\): its thread was ended after \d+ ms; skipped$/,
      );
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
      assert.equal(xs(B), [2, 10, 11, 12]);
      assert.not.ok(outputs.some((o) => o.x === 777), "the input that overran was applied");
      host.signal("SIGINT");
      assert.is(await host.exitCode(30_000), 0, host.output());
    } finally {
      await host.stop();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
