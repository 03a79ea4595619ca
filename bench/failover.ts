/**
 * `troupe bench failover`: a cluster that heals. A real nats-server with JetStream, three hosts in
 * child processes sharing `--partitions` partitions by lease (JetStream journal and input, KV
 * snapshots, `stats`), and a steady feed of frames on `--channels` channels, each acknowledged by
 * JetStream. One host is killed with SIGKILL: `failover_s` is the time from the kill until every
 * partition it held is held by a survivor that has recovered it and consumes, against the lease
 * TTL (its baseline: a takeover cannot begin before the lease expires; the bar is TTL + 2 s).
 * Then a fourth host joins: `rebalance_s` is the time from its joining until it consumes its even
 * share (handed off by the others: stop, flush, snapshot, release, then claimed and recovered; the
 * bar is 2 s; no baseline). At the end the hosts hand off and stop, and the journal is read:
 * `lost_or_doubled` counts the acknowledged frames not journaled exactly once (bar 0), and
 * `journal_holes_rebuilt` the holes a takeover found in a journal and read again from the feed
 * (0 since recovery's read is no longer carried past records by another host's compaction).
 */
import { join } from "node:path";
import process from "node:process";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import {
  assignPartitions,
  ensureFeedStream,
  JetStreamJournal,
  NatsServer,
  partitionJournal,
  partitionOf,
} from "../actors/runtime/mod.ts";
import { decodeInputRecord, feedSubject, voidedRange } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { ChildScript } from "./_child_script.ts";
import { tempDir } from "./_temp_dir.ts";
import { sleep } from "./_sleep.ts";
import { requireNatsServer } from "./_bench_nats.ts";
import { pacedFrames } from "./_paced_frames.ts";

const NAME = "failover";
const BATCH = 10;

interface FailoverSettings {
  channels: number;
  partitions: number;
  rate: number;
  ttlMs: number;
}

const OPTIONS = {
  channels: {
    help: "channels, one stats instance each",
    default: 64,
    number: { min: 1, max: 1000, integer: true },
  },
  partitions: { help: "partitions", default: 16, number: { min: 2, max: 256, integer: true } },
  rate: {
    help: "frames per second over all channels",
    default: 320,
    number: { min: 1, max: 10_000 },
  },
  "ttl-ms": {
    help: "the lease TTL",
    default: 3000,
    number: { min: 500, max: 60_000, integer: true },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "kill -9 one of 3 leased hosts under a steady feed: failover_s vs the lease TTL (bar TTL + 2 " +
    "s), rebalance_s when a 4th joins (bar 2 s), lost_or_doubled (bar 0)",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const s: FailoverSettings = {
      channels: o.channels,
      partitions: o.partitions,
      rate: o.rate,
      ttlMs: o["ttl-ms"],
    };
    requireNatsServer(NAME);
    const r = await failover(s, ctx);
    ctx.log(
      `${NAME}: ${r.acked} frames acknowledged; failover ${r.failoverS.toFixed(2)} s (TTL ${
        s.ttlMs / 1000
      } s), rebalance ${
        r.rebalanceS.toFixed(2)
      } s; lost or doubled ${r.lostOrDoubled}; journal holes rebuilt from the feed ${r.holes}`,
    );
    return [
      row({
        bench: NAME,
        metric: "failover_s",
        unit: "s",
        troupe: r.failoverS,
        baseline: s.ttlMs / 1000,
        better: "lower",
      }),
      row({
        bench: NAME,
        metric: "rebalance_s",
        unit: "s",
        troupe: r.rebalanceS,
        baseline: null,
        better: "lower",
      }),
      row({
        bench: NAME,
        metric: "lost_or_doubled",
        unit: "frames",
        troupe: r.lostOrDoubled,
        baseline: null,
        better: "lower",
      }),
      row({
        bench: NAME,
        metric: "journal_holes_rebuilt",
        unit: "holes",
        troupe: r.holes,
        baseline: null,
        better: "lower",
      }),
    ];
  },
};

/** The run: a server, three hosts and a feed; the kill; the fourth host; the journal's account. */
async function failover(s: FailoverSettings, ctx: BenchContext) {
  const dir = tempDir("troupe-bench-failover-");
  const nats = await NatsServer.start({ storeDir: join(dir.path, "js") });
  const hosts = new Map<string, ChildScript>();
  const start = async (id: string) => {
    const config = {
      host_id: id,
      nats: nats.url,
      input: "jetstream",
      journal: { kind: "jetstream" },
      snapshots: { store: "kv", every_inputs: 200 },
      actors: {
        stats: { every_samples: BATCH },
        anomaly: { enabled: false },
        collapse: { enabled: false },
        coherence: { enabled: false },
        bars: { enabled: false },
      },
      partitions: { count: s.partitions, owned: "auto", lease_ttl_ms: s.ttlMs },
      data_dir: join(dir.path, id),
    };
    const h = ChildScript.start("bench/_leased_host.ts", [JSON.stringify(config)], () => {});
    await h.next(60_000);
    hosts.set(id, h);
    return h;
  };
  const consuming = async (id: string): Promise<number[]> => {
    const h = hosts.get(id)!;
    h.send("status");
    return ((await h.next(10_000)) as { consuming: number[] }).consuming;
  };
  const pub = await connect({ servers: nats.url });
  try {
    await ensureFeedStream(pub);
    for (const id of ["h1", "h2", "h3"]) await start(id);
    await settle(["h1", "h2", "h3"], s.partitions, consuming);
    const feed = new Feed(jetstream(pub), s.channels);
    const endMs = Date.now() + 3_600_000;
    const sending = feed.run(s.rate, () => feed.stop || Date.now() > endMs);
    await sleep(3000);
    const victim = "h2";
    const held = await consuming(victim);
    ctx.log(`${NAME}: kill -9 ${victim}, which consumes partitions ${held.join(",")}`);
    const killedMs = performance.now();
    await hosts.get(victim)!.kill();
    hosts.delete(victim);
    await until(async () => {
      const now = new Set([...(await consuming("h1")), ...(await consuming("h3"))]);
      return held.every((p) => now.has(p));
    });
    const failoverS = (performance.now() - killedMs) / 1000;
    ctx.log(`${NAME}: its partitions consumed again after ${failoverS.toFixed(2)} s`);
    await sleep(2000);
    const joinedMs = performance.now();
    await start("h4");
    const live = ["h1", "h3", "h4"];
    const share = assignPartitions(s.partitions, live).flatMap((h, p) => h === "h4" ? [p] : []);
    await until(async () => {
      const now = new Set(await consuming("h4"));
      return share.every((p) => now.has(p));
    });
    const rebalanceS = (performance.now() - joinedMs) / 1000;
    ctx.log(`${NAME}: h4 consumes its share (${share.join(",")}) after ${rebalanceS.toFixed(2)} s`);
    await settle(live, s.partitions, consuming);
    await sleep(2000);
    feed.stop = true;
    await sending;
    await sleep(3000);
    for (const h of hosts.values()) process.kill(h.pid!, "SIGTERM");
    for (const h of hosts.values()) await h.wait(30_000);
    hosts.clear();
    const { bad, holes } = await account(pub, feed.seqs, s.partitions);
    return { acked: feed.acked, failoverS, rebalanceS, lostOrDoubled: bad, holes };
  } finally {
    for (const h of hosts.values()) await h.kill();
    await pub.close().catch(() => {});
    await nats.stop();
    dir.remove();
  }
}

/** Polls `done` every 20 ms, for at most a minute. */
async function until(done: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await done())) {
    if (Date.now() > end) throw new Error("the cluster did not settle within 60 s");
    await sleep(20);
  }
}

/** Waits until every partition is consumed by one of `ids`. */
async function settle(
  ids: string[],
  count: number,
  consuming: (id: string) => Promise<number[]>,
): Promise<void> {
  await until(async () => {
    const all = (await Promise.all(ids.map(consuming))).flat();
    return new Set(all).size === count && all.length === count;
  });
}

/** Publishes frames round-robin over the channels, each acknowledged by JetStream. */
class Feed {
  readonly #js: JetStreamClient;
  readonly #channels: number;
  acked = 0;
  stop = false;
  /** The stream sequences acknowledged, by channel. */
  readonly seqs = new Map<string, number[]>();

  constructor(js: JetStreamClient, channels: number) {
    this.#js = js;
    this.#channels = channels;
    for (let c = 0; c < channels; c++) this.seqs.set(`c${c}`, []);
  }

  async run(rate: number, stop: () => boolean): Promise<void> {
    const feed = { rate, channels: this.#channels, prefix: "c", src: NAME, batch: BATCH };
    for await (const { channel, id, data } of pacedFrames(feed, () => !stop())) {
      const ack = await this.#js.publish(feedSubject(NAME, channel), data, { msgID: id });
      this.seqs.get(channel)!.push(ack.seq);
      this.acked++;
    }
  }
}

/**
 * Acknowledged frames not journaled exactly once in their channel's stats stream (from the first
 * record compaction kept: what a snapshot covers was journaled before it), and the holes a
 * takeover found and rebuilt from the feed (void records: their frames were read again, and the
 * voided ones do not count).
 */
async function account(
  nc: Awaited<ReturnType<typeof connect>>,
  seqs: ReadonlyMap<string, number[]>,
  count: number,
): Promise<{ bad: number; holes: number }> {
  // Each partition's journal, in its own stream (cluster/partition_journal.ts).
  const journals = new Map<number, JetStreamJournal>();
  const journalOf = async (channel: string) => {
    const p = partitionOf(channel, count);
    let journal = journals.get(p);
    if (!journal) {
      journals.set(p, journal = await JetStreamJournal.open(nc, partitionJournal(p, count)));
    }
    return journal;
  };
  let bad = 0, holes = 0;
  try {
    for (const [channel, acked] of seqs) {
      const journal = await journalOf(channel);
      const frames: Array<{ pos: number; srcPos: number }> = [];
      const voided: Array<{ from: number; to: number }> = [];
      for await (const rec of journal.read(`stats/${channel}`)) {
        const r = decodeInputRecord(rec.data);
        if (r.kind === "frame") frames.push({ pos: rec.pos, srcPos: r.srcPos });
        if (r.kind === "void") voided.push(voidedRange(r));
      }
      holes += voided.length;
      const counts = new Map<number, number>();
      let first = Infinity;
      for (const f of frames) {
        if (voided.some((v) => f.pos >= v.from && f.pos <= v.to)) continue;
        first = Math.min(first, f.srcPos);
        counts.set(f.srcPos, (counts.get(f.srcPos) ?? 0) + 1);
      }
      for (const seq of acked) if (seq >= first && counts.get(seq) !== 1) bad++;
    }
  } finally {
    for (const journal of journals.values()) await journal.close();
  }
  return { bad, holes };
}
