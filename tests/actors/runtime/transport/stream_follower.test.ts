/**
 * Following a stream through the loss of a node of a real 3-node nats-server cluster
 * (stream_follower.ts): the findings stream's reader (what feeds a leased cluster's incident
 * stage) and the channel labels book's watch (what the alert sender reads) go on delivering
 * within seconds when the node holding their consumer is killed, every finding once and in order.
 * Through nats.js's ordered consumers they stood still for as long as the node was down (a pull
 * consumer asked its lost consumer's info, unanswered, every 30 s; a push watch waited for two
 * missed heartbeats, 60 s), and when a host's own server was the meta leader killed, for the
 * election and then 30 s more.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { openChannelLabels } from "../../../../actors/ingest/mod.ts";
import {
  FINDINGS_STREAM,
  NatsBus,
  openFindingsStream,
} from "../../../../actors/runtime/transport/mod.ts";
import { findingSubject } from "../../../../protocol/mod.ts";
import { CHANNEL_LABELS_BUCKET } from "../../../../protocol/prometheus/mod.ts";
import { haveNatsServer, startTestNatsCluster } from "../../../_support/nats.ts";

const test = suite("stream_follower");
const it = haveNatsServer("stream_follower") ? test : test.skip;

/**
 * How long after the kill a write must be delivered: an election is 3-9 s here, and longer on a
 * loaded machine. Below what nats.js's ordered consumer took (it never came back while the node
 * was down, and after a reconnect took the election plus 30 s).
 */
const DELIVERED_WITHIN_MS = 25_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node (its index) holding the one consumer of `stream`. */
async function consumerNode(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  const nodes: string[] = [];
  for await (const c of jsm.consumers.list(stream)) nodes.push(c.cluster?.leader ?? "?");
  assert.is(nodes.length, 1, `consumers of ${stream} on ${nodes.join(", ")}`);
  return Number(nodes[0]!.slice(1)); // `n<i>`
}

/** A reader under test, and how to write what it reads. */
interface Probe {
  /** Whether write `n` was read. */
  read(n: number): boolean;
  /** The writer, given a connection to a node that is not killed. */
  writer(nc: NatsConnection): Promise<(n: number) => void>;
  close(): Promise<void>;
}

/**
 * Starts a cluster and a reader (`open`, on a connection to every node, as a host's); writes every
 * 100 ms from a node that is kept; kills the node holding the reader's consumer; returns how long
 * after the kill the first write made after it was read (undefined: not within the bound).
 */
async function throughLoss(
  stream: string,
  open: (reader: NatsBus) => Promise<Probe>,
): Promise<{ ms: number | undefined }> {
  const cluster = await startTestNatsCluster(3);
  const reader = await NatsBus.connect(cluster.nodes.map((n) => n.url).join(","));
  let writer: NatsConnection | undefined;
  let probe: Probe | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  try {
    probe = await open(reader);
    const node = await consumerNode(reader.nc, stream);
    const kept = cluster.nodes.find((_, i) => i !== node)!;
    writer = await connect({ servers: kept.url, maxReconnectAttempts: -1 });
    const write = await probe.writer(writer);
    let n = 0;
    ticker = setInterval(() => write(n++), 100);
    await sleep(1000);
    assert.ok(probe.read(0), "the reader reads before the kill");
    const killedAt = Date.now();
    await cluster.kill(node);
    const first = n;
    let ms: number | undefined;
    while (ms === undefined && Date.now() - killedAt < DELIVERED_WITHIN_MS) {
      for (let k = first; k < n && ms === undefined; k++) {
        if (probe.read(k)) ms = Date.now() - killedAt;
      }
      await sleep(20);
    }
    clearInterval(ticker);
    await sleep(500); // the writes in flight read too
    return { ms };
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    await probe?.close().catch(() => {});
    await reader.close().catch(() => {});
    await writer?.close().catch(() => {});
    await cluster.cleanup();
  }
}

it("the findings reader goes on within seconds when its consumer's node is lost, each finding once and in order", async () => {
  const seqs: number[] = [];
  const taken = new Set<number>();
  const { ms } = await throughLoss(FINDINGS_STREAM, async (reader) => {
    const source = await openFindingsStream(reader.nc, { replicas: 3 });
    const consumer = await source.consume(await source.lastSeq(), (data, seq) => {
      seqs.push(seq);
      taken.add(Number(new TextDecoder().decode(data)));
    });
    return {
      read: (n) => taken.has(n),
      writer: (nc) => {
        const subject = findingSubject("probe", "c");
        return Promise.resolve((n) => nc.publish(subject, new TextEncoder().encode(String(n))));
      },
      close: () => consumer.stop(),
    };
  });
  assert.ok(
    ms !== undefined,
    `no finding written after the kill read within ${DELIVERED_WITHIN_MS} ms`,
  );
  // What the reader missed while its consumer was made again is read, each once, in order.
  assert.equal(seqs, seqs.map((_, i) => seqs[0]! + i), "the findings' sequences");
});

it("the channel labels watch goes on within seconds when its consumer's node is lost", async () => {
  const { ms } = await throughLoss(`KV_${CHANNEL_LABELS_BUCKET}`, async (reader) => {
    const book = await openChannelLabels(reader, { read: true, replicas: 3 });
    return {
      read: (n) => book.get(`c${n}`) !== undefined,
      writer: async (nc) => {
        const put = await openChannelLabels(NatsBus.wrap(nc), { read: false, replicas: 3 });
        return (n) => void put.put(`c${n}`, [{ name: "n", value: String(n) }]).catch(() => {});
      },
      close: () => book.close(),
    };
  });
  assert.ok(
    ms !== undefined,
    `no labels written after the kill read within ${DELIVERED_WITHIN_MS} ms`,
  );
});

test.run();
