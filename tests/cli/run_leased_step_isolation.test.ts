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
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { partitionOf } from "../../actors/runtime/host/mod.ts";
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

const test = suite("troupe run --partitions auto: a team's step that never returns");
/** Long enough to ask /healthz several times while the step loops. */
const DEADLINE_MS = 5000;
const PARTITIONS = 2;

if (haveNatsServer("troupe run --partitions auto: a team's step that never returns")) {
  test("a leased host serves throughout, names the stuck step and dead-letters its input", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-leased-isolation-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "ls");
    const { outputs, letters, xs } = watchDeadly(nc);
    const config = join(dir.path, "host.json");
    writeDeadlyConfig(config, {
      host_id: "ls",
      nats: nats.url,
      input: "jetstream",
      journal: { kind: "jetstream" },
      snapshots: { store: "kv" },
      partitions: { count: PARTITIONS },
      data_dir: join(dir.path, "data"),
      supervision: { step_deadline_ms_by_kind: { deadly: DEADLINE_MS } },
    });
    const { host, url } = await runHost(["--config", config, "--partitions", "auto"], "ls");
    try {
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
        seen: (v) => xs("b").includes(v),
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
      assertDeadlineLetter(letters, {
        feed: "ls",
        key: "a",
        deadlineMs: DEADLINE_MS,
        srcPos: 3,
        ended: "thread",
      });
      await untilMetrics(url, [OVERRUN_COUNTED, DEADLINE_LETTER_COUNTED]);
      const { body } = await healthz(url);
      assert.equal(body.stuck, []);
      assert.is(host.child.exitCode, null, "the host runs on");
      assert.is(host.child.signalCode, null, "the host runs on");

      // The instance goes on after the input, on a fresh worker.
      await send("a", 3);
      await until(() => xs("a").includes(3), "channel a's output after the skip");
      assert.equal(xs("a"), [1, 3]);
      assert.equal(xs("b"), [2, 10, 11, 12]);
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
