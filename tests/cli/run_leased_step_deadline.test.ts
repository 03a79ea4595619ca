/**
 * A step that never returns on the host's thread of a leased host (`troupe run --partitions auto`,
 * a team's kind with `isolate_user_kinds: false`), against a real nats-server with JetStream and
 * real `troupe run` processes: the host's watchdog ends the process soon after the kind's deadline,
 * naming the partition, instance and input, and leaves the overrun in its data directory; the next
 * start records it in the bucket `troupe_step_overruns` under the partition before it claims a
 * lease, and the partition's host sends the input to `troupe.dlq.deadline` naming the kind, key,
 * input and time spent, counts it, removes the record and goes on with the channel's later inputs;
 * after a SIGKILL and another start nothing spins and nothing is dead-lettered again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { partitionOf } from "../../actors/runtime/host/mod.ts";
import { STEP_OVERRUN_BUCKET } from "../../actors/runtime/cluster/mod.ts";
import type { RunningTroupe } from "../_support/cli.ts";
import {
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

const test = suite("troupe run --partitions auto: a step past its deadline on the host's thread");
const PARTITIONS = 2;
/**
 * Short, so that a restarted host need not wait long for the leases its last run held; not so
 * short that a loaded machine's host loses one meanwhile (a partition's host started again counts
 * from 0 again).
 */
const LEASE_TTL_MS = 3000;

if (haveNatsServer("troupe run --partitions auto: a step past its deadline")) {
  test("ends the leased host past the deadline; the partition's next host skips the input once", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-leased-deadline-");
    const nc = await connect({ servers: nats.url });
    const send = deadlySender(nc, "lw");
    const { outputs, letters, seen } = watchDeadly(nc);
    const config = join(dir.path, "host.json");
    const data = join(dir.path, "data");
    writeDeadlyConfig(config, {
      host_id: "lw",
      nats: nats.url,
      input: "jetstream",
      journal: { kind: "jetstream" },
      snapshots: { store: "kv" },
      partitions: { count: PARTITIONS, owned: "auto", lease_ttl_ms: LEASE_TTL_MS },
      data_dir: data,
      // On the host's thread, under the watchdog (the trials thread: run_leased_step_isolation).
      supervision: { step_deadline_ms_by_kind: { deadly: 500 }, isolate_user_kinds: false },
    });
    const pa = partitionOf("a", PARTITIONS);
    const overrunFile = join(data, "step_overrun.json");
    /** Starts the host, and waits until it holds every partition (it is the only host). */
    const start = async (): Promise<{ host: RunningTroupe; url: string }> => {
      const { host, url } = await runHost(["--config", config, "--partitions", "auto"], "lw");
      const held = async () => ((await healthz(url)).body.partitions as number[]).length;
      await until(async () => await held() === PARTITIONS, `both partitions held`);
      return { host, url };
    };
    let { host, url } = await start();
    try {
      await send("a", 1);
      await send("b", 2);
      await until(
        () => seen("a", 1) && seen("b", 2),
        `two good frames' outputs:\n${host.output()}`,
      );
      const t0 = Date.now();
      await send("a", 777);
      // Ended by its watchdog (SIGKILL) soon after the deadline, not left spinning.
      assert.is(await host.exitCode(15_000), null, host.output());
      assert.ok(Date.now() - t0 < 10_000, `ended after ${Date.now() - t0} ms`);
      assert.match(
        host.output(),
        new RegExp(
          `\\[lw\\] part-${pa}: deadly/a: a step ran past its deadline of 500 ms \\(its input at ` +
            `position \\d+, source position 3, \\d+ ms so far\\); ending the host`,
        ),
      );
      const left = JSON.parse(readFileSync(overrunFile, "utf8"));
      assert.equal(
        { host: left.host, stream: left.stream, src_pos: left.src_pos, deadline: left.deadline_ms },
        { host: `part-${pa}`, stream: "deadly/a", src_pos: 3, deadline: 500 },
      );

      ({ host, url } = await start());
      assert.match(
        host.output(),
        `deadly/a: the step that ran past its deadline on its input at source position 3 is ` +
          `recorded in ${STEP_OVERRUN_BUCKET} key partition.${pa}: the host that takes ` +
          `partition ${pa} skips it`,
      );
      assert.not.ok(existsSync(overrunFile), "the file is removed once the bucket has it");
      await until(() => letters.length >= 1, `the dead letter:\n${host.output()}`);
      assertDeadlineLetter(letters, {
        feed: "lw",
        key: "a",
        deadlineMs: 500,
        srcPos: 3,
        ended: "host",
      });
      // The record goes once the skip is journaled: no later host skips anything for it.
      const kv = await new Kvm(nc).open(STEP_OVERRUN_BUCKET);
      await until(
        async () => (await kv.get(`partition.${pa}`))?.operation !== "PUT",
        "the bucket's record removed",
      );
      await untilMetrics(url, [OVERRUN_COUNTED, DEADLINE_LETTER_COUNTED]);
      await send("a", 3);
      await send("b", 4);
      await until(() => seen("a", 3) && seen("b", 4), "both channels' outputs after the skip");

      // A SIGKILL and another start: nothing spins, nothing is dead-lettered again.
      host.signal("SIGKILL");
      await host.exited;
      ({ host, url } = await start());
      await send("a", 5);
      await until(() => seen("a", 5), `an output after the restart:\n${host.output()}`);
      assert.is(letters.length, 1, JSON.stringify(letters));
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
