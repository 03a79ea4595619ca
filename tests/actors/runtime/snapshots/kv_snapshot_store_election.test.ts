/**
 * The key-value snapshot store through the loss of a 3-node cluster's meta leader: a partition
 * taken over then lists and loads its snapshots without waiting for the election. The keys are
 * listed from the bucket stream's per-subject counts, which the stream's leader answers; a
 * consumer (as `kv.keys()` makes) is made only through the meta leader, and times out (5 s a try)
 * until a new one is elected.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  KvSnapshotStore,
  SNAPSHOT_BUCKET,
} from "../../../../actors/runtime/snapshots/kv/kv_snapshot_store.ts";
import { haveNatsServer, startTestNatsCluster } from "../../../_support/nats.ts";

const test = suite("kv_snapshot_store_election");
const it = haveNatsServer("kv_snapshot_store_election") ? test : test.skip;

/** Well under a meta election (3-9 s here), and what the consumer's first try alone took (5 s). */
const ANSWERED_WITHIN_MS = 2_500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const snapshot = (stream: string, pos: number) => ({
  stream,
  version: 1,
  pos,
  machine: { value: "running" },
  kernel: new Uint8Array([pos]),
});

it("lists and loads snapshots while the meta leader's node is down", async () => {
  const cluster = await startTestNatsCluster(3);
  try {
    const meta = Number((await cluster.metaLeader())!.slice(1));
    const others = cluster.nodes.filter((_, i) => i !== meta).map((n) => n.url);
    const nc = await connect({ servers: others, maxReconnectAttempts: -1 });
    try {
      const store = await KvSnapshotStore.open(nc, { replicas: 3 });
      await store.save(snapshot("stats/a", 3));
      await store.save(snapshot("stats/b", 5));
      // The bucket's stream led from a node that stays (its own election is not the point).
      const jsm = await jetstreamManager(nc);
      const stream = `KV_${SNAPSHOT_BUCKET}`;
      for (let i = 0; i < 20; i++) {
        const leader = (await jsm.streams.info(stream)).cluster?.leader;
        if (leader !== undefined && leader !== `n${meta}`) break;
        await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`).catch(() => {});
        await sleep(500);
      }
      assert.is.not((await jsm.streams.info(stream)).cluster?.leader, `n${meta}`);
      await cluster.kill(meta);
      const t = Date.now();
      const listed = await store.list();
      const listMs = Date.now() - t;
      const loaded = await store.load("stats/b");
      const ms = Date.now() - t;
      assert.equal(listed, ["stats/a", "stats/b"]);
      assert.is(loaded?.pos, 5);
      assert.ok(
        ms < ANSWERED_WITHIN_MS,
        `listed in ${listMs} ms and loaded in ${ms - listMs} ms after the meta leader's kill`,
      );
      await store.close();
    } finally {
      await nc.close();
    }
  } finally {
    await cluster.cleanup();
  }
});

test.run();
