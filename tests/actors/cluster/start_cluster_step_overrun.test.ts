/**
 * Leased hosts started together in one process (startCluster with several leased configurations,
 * as `troupe up --hosts N` does), against a real nats-server with JetStream: the step overrun the
 * second host's last run left in its data directory is recorded in the bucket
 * `troupe_step_overruns` before the first host claims a lease, so the first host, which claims
 * every partition it finds free, skips that input (dead-lettered on `troupe.dlq.deadline`) rather
 * than apply it: a step that never returned would end the process again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { type LeasedConfig, startCluster } from "../../../actors/cluster/mod.ts";
import {
  defaultHostConfig,
  leaseSettings,
  partitionOf,
  STEP_OVERRUN_FILE,
} from "../../../actors/runtime/host/mod.ts";
import { STEP_OVERRUN_BUCKET } from "../../../actors/runtime/cluster/mod.ts";
import { ensureFeedStream, FEED_STREAM } from "../../../actors/runtime/edge/mod.ts";
import type { StepOverrun } from "../../../protocol/mod.ts";
import { deadly } from "../../_support/deadly_kinds.ts";
import {
  assertDeadlineLetter,
  deadlySender,
  until,
  watchDeadly,
} from "../../_support/deadly_feed.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../_support/nats.ts";

const test = suite("startCluster: a step overrun left by one of several leased hosts");
const PARTITIONS = 2;

/** Leased host `id`'s configuration on `nats`, its data directory in `dir`. */
function leasedConfig(nats: string, dir: string, id: string): LeasedConfig {
  const config = defaultHostConfig();
  return {
    ...config,
    host_id: id,
    nats,
    data_dir: join(dir, id),
    input: "jetstream",
    journal: { ...config.journal, kind: "jetstream" },
    snapshots: { ...config.snapshots, store: "kv" },
    partitions: { count: PARTITIONS, owned: [], leases: leaseSettings(2000) },
    http_port: undefined,
    actors: { deadly: {} },
  };
}

if (haveNatsServer("startCluster: a step overrun left by one of several leased hosts")) {
  test("the second host's overrun is recorded before the first claims its partition, which skips the input", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-cluster-overrun-");
    const nc = await connect({ servers: nats.url });
    const { outputs, letters, seen } = watchDeadly(nc);
    const [first, second] = ["h1", "h2"].map((id) => leasedConfig(nats.url, dir.path, id));
    // The feed as the killed run left it: its third frame (source position 3) is the one whose
    // step overran, never journaled, so JetStream input delivers it again.
    await ensureFeedStream(nc);
    const send = deadlySender(nc, "lw");
    await send("a", 1);
    await send("b", 2);
    await send("a", 5);
    const jsm = await jetstreamManager(nc);
    assert.is((await jsm.streams.info(FEED_STREAM)).state.messages, 3);
    const pa = partitionOf("a", PARTITIONS);
    const left: StepOverrun = {
      stream: "deadly/a",
      kind: "deadly",
      key: "a",
      pos: 2,
      src_pos: 3,
      elapsed_ms: 612,
      deadline_ms: 500,
      host: `part-${pa}`,
    };
    mkdirSync(second!.data_dir, { recursive: true });
    const file = join(second!.data_dir, STEP_OVERRUN_FILE);
    writeFileSync(file, JSON.stringify(left));
    const cluster = await startCluster([first!, second!], {
      kinds: { deadly },
      stage: false,
      log: () => {},
    });
    try {
      await until(() => letters.length >= 1, "the dead letter");
      await until(() => outputs.length >= 2, "the outputs of the other frames");
      assertDeadlineLetter(letters, {
        feed: "lw",
        key: "a",
        deadlineMs: 500,
        pos: 2,
        srcPos: 3,
        ended: "host",
        elapsedMs: 612,
      });
      assert.equal(outputs.map((o) => `${o.channel}${o.x}`).sort(), ["a1", "b2"]);
      assert.not.ok(existsSync(file), "the file is removed once the bucket has it");
      const kv = await new Kvm(nc).open(STEP_OVERRUN_BUCKET);
      await until(
        async () => (await kv.get(`partition.${pa}`))?.operation !== "PUT",
        "the bucket's record removed once the skip is kept",
      );
      // The channel goes on after the skipped input.
      await send("a", 6);
      await until(() => seen("a", 6), "a's next output");
    } finally {
      await cluster.close();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
