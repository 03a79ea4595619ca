/**
 * Keeping the data off the JetStream meta leader's node (leader_placement.ts), on a real 3-node
 * nats-server cluster: the meta leader a client learns is the one the servers report; a stream
 * led from that node is moved off it, but not while one of its replicas is down (a stepdown then
 * costs an election and buys nothing); the JetStream input's consumer is not placed on it; and a
 * journal append whose answer was lost with the connection's server (connection_loss.ts) fails
 * at the disconnect rather than after its timeout.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { metaLeader, placeLeaders } from "../../../../actors/runtime/transport/leader_placement.ts";
import {
  lostOnDisconnect,
  RequestLostError,
} from "../../../../actors/runtime/transport/connection_loss.ts";
import { electionError } from "../../../../actors/runtime/transport/jetstream_retry.ts";
import { FEED_STREAM, jetStreamInput } from "../../../../actors/runtime/edge/jetstream_input.ts";
import { haveNatsServer, startTestNats, startTestNatsCluster } from "../../../_support/nats.ts";

const test = suite("leader_placement");
const it = haveNatsServer("leader_placement") ? test : test.skip;

/** The leader of `stream` as the cluster reports it (undefined while it elects one). */
async function leaderOf(nc: NatsConnection, stream: string): Promise<string | undefined> {
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 });
  return (await jsm.streams.info(stream).catch(() => undefined))?.cluster?.leader;
}

/**
 * Waits until `stream`'s followers are all listed and current: just after an election a follower
 * may still be catching up, and `placeLeaders` rightly leaves such a stream where it is.
 */
async function replicasCurrent(nc: NatsConnection, stream: string): Promise<boolean> {
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 });
  for (let i = 0; i < 100; i++) {
    const info = await jsm.streams.info(stream).catch(() => undefined);
    const replicas = info?.cluster?.replicas ?? [];
    const others = (info?.config.num_replicas ?? 1) - 1;
    if (replicas.length >= others && replicas.every((r) => !r.offline && r.current)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

it("placeLeaders moves a stream's leader off the meta leader's node; the input's consumer is not placed there", async () => {
  const cluster = await startTestNatsCluster(3);
  const urls = cluster.nodes.map((n) => n.url).join(",");
  const nc = await connect({ servers: urls });
  const input = jetStreamInput(nc, { replicas: 3 });
  try {
    const meta = await metaLeader(nc);
    assert.ok(meta !== undefined, "a meta leader is learned");
    assert.is(meta, await cluster.metaLeader());

    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: "PLACED",
      subjects: ["placed.>"],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: 3,
    });
    // Its leader on the meta leader's node, where a node loss would stall both.
    for (let i = 0; i < 20; i++) {
      const leader = await leaderOf(nc, "PLACED");
      if (leader === meta) break;
      if (leader !== undefined) {
        await nc.request("$JS.API.STREAM.LEADER.STEPDOWN.PLACED", undefined, { timeout: 2000 })
          .catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.is(await leaderOf(nc, "PLACED"), meta, "the stream was led from the meta leader");
    assert.ok(await replicasCurrent(nc, "PLACED"), "every replica is current");

    const moves = await placeLeaders(nc, ["PLACED", "MISSING"], () => {});
    assert.equal(moves.map((m) => [m.stream, m.from]), [["PLACED", meta]]);
    const now = await leaderOf(nc, "PLACED");
    assert.ok(now !== undefined && now !== meta, `led from ${now}, not ${meta}`);

    // Nothing on the meta leader's node: placed again elsewhere.
    await input.start(() => {}, 0);
    const consumers = [];
    for await (const c of (await jetstreamManager(nc)).consumers.list(FEED_STREAM)) {
      consumers.push(c);
    }
    assert.is(consumers.length, 1);
    assert.ok(consumers[0]!.cluster?.leader !== meta, "the consumer is not on the meta leader");
  } finally {
    await input.stop();
    await nc.close();
    await cluster.cleanup();
  }
});

it("placeLeaders leaves a stream's leader on the meta leader's node while a replica is down", async () => {
  const cluster = await startTestNatsCluster(3);
  const nc = await connect({
    servers: cluster.nodes.map((n) => n.url).join(","),
    maxReconnectAttempts: -1,
  });
  try {
    const meta = (await metaLeader(nc))!;
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: "DEGRADED",
      subjects: ["degraded.>"],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: 3,
    });
    for (let i = 0; i < 20 && (await leaderOf(nc, "DEGRADED")) !== meta; i++) {
      await nc.request("$JS.API.STREAM.LEADER.STEPDOWN.DEGRADED", undefined, { timeout: 2000 })
        .catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.is(await leaderOf(nc, "DEGRADED"), meta, "the stream was led from the meta leader");

    // A node that leads neither is lost: the stream has one replica down.
    await cluster.kill(cluster.nodes.findIndex((_, i) => `n${i}` !== meta));
    let down = false;
    for (let i = 0; i < 100 && !down; i++) {
      const info = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 })
        .then((m) => m.streams.info("DEGRADED")).catch(() => undefined);
      down = info?.cluster?.replicas?.some((r) => r.offline || !r.current) ?? false;
      if (!down) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(down, "the lost node's replica is reported down");
    const moves = await placeLeaders(nc, ["DEGRADED"], () => {});
    assert.equal(moves, [], "no stepdown while a replica is down");
    assert.is(await leaderOf(nc, "DEGRADED"), meta);
  } finally {
    await nc.close();
    await cluster.cleanup();
  }
});

it("lostOnDisconnect fails a request in flight when its server goes, as a timeout", async () => {
  const server = await startTestNats();
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1 });
  try {
    nc.subscribe("silent", { callback: () => {} }); // takes the request, never answers
    const t0 = Date.now();
    const outcome = lostOnDisconnect(
      nc,
      "ask",
      nc.request("silent", undefined, { timeout: 20_000 }),
    ).then(() => undefined, (e: unknown) => e); // handled before it rejects
    await nc.flush();
    await server.kill();
    const err = await outcome;
    assert.ok(err instanceof RequestLostError, String(err));
    assert.is(electionError(err), "timeout");
    assert.ok(Date.now() - t0 < 10_000, `failed after ${Date.now() - t0} ms`);
  } finally {
    await nc.close();
    await server.cleanup();
  }
});

test.run();
