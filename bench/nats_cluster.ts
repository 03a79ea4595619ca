/**
 * `troupe bench nats_cluster`: what a JetStream election costs the hosts that keep running. A
 * 3-node nats-server cluster (every stream and bucket with 3 replicas), three hosts in child
 * processes sharing the partitions by lease (JetStream journal and input, KV snapshots, `stats`
 * with one output per frame), and a steady feed acknowledged by JetStream. The node that is the
 * JetStream meta leader is killed with SIGKILL; no host is. `stall_ms_max_node_kill` is the
 * longest gap between two outputs of one channel from a second before the kill to `--watch-s`
 * after it, against the lease TTL (its baseline: a stall past the TTL means leases were lost).
 * Where the time goes is in the other rows: `meta_election_ms` (from the kill until a surviving
 * node names a new meta leader) and `publish_stall_ms_max` (the feed's longest wait for an
 * acknowledgement meanwhile: no input reaches a host before the feed stream has a leader);
 * `findings_stall_ms_max` and `labels_watch_stall_ms_max` are what else waits on the cluster:
 * the findings stream's consumer (what feeds the incident stage) and a key-value watch (the
 * channel labels the alert sender reads), each read on a connection made as a host's
 * (_election_probes.ts). The publisher and the watcher connect to a node that is not killed. No
 * bar is set here for the election; the outputs' bar is 5 s. The log names each stream's leader
 * at the kill (a leader on the killed node waits out that stream's election). `--hosts-on killed`
 * connects every host to the node that is killed, so that each loses its connection with it.
 */
import { join } from "node:path";
import process from "node:process";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureFeedStream, freePort, NatsServer } from "../actors/runtime/mod.ts";
import { decodeEnvelope, feedSubject, outPattern } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { ChildScript } from "./_child_script.ts";
import { tempDir } from "./_temp_dir.ts";
import { sleep } from "./_sleep.ts";
import { requireNatsServer } from "./_bench_nats.ts";
import { pacedFrames } from "./_paced_frames.ts";
import { ElectionProbes } from "./_election_probes.ts";

const NAME = "nats_cluster";
const BATCH = 10;
const NODES = 3;

const OPTIONS = {
  channels: {
    help: "channels, one stats instance each",
    default: 24,
    number: { min: 1, max: 1000, integer: true },
  },
  partitions: { help: "partitions", default: 12, number: { min: 3, max: 256, integer: true } },
  rate: {
    help: "frames per second over all channels",
    default: 240,
    number: { min: 1, max: 10_000 },
  },
  "ttl-ms": {
    help: "the lease TTL",
    default: 5000,
    number: { min: 500, max: 60_000, integer: true },
  },
  "watch-s": {
    help: "seconds watched after the kill (past the leader placement's next 30 s look, whose " +
      "moves once stalled outputs)",
    default: 45,
    number: { min: 5, max: 600 },
  },
  "hosts-on": {
    help: "the node the hosts connect to: any (each picks one of the three at random) or " +
      "killed (the one that is killed; they learn the others from it)",
    default: "any",
    oneOf: ["any", "killed"] as const,
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "kill -9 the JetStream meta leader of a 3-node NATS cluster under load: longest output " +
    "stall of a channel vs the lease TTL (bar 5 s), the election and the feed's stall",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    requireNatsServer(NAME);
    const r = await nodeKill(o, ctx);
    ctx.log(
      `${NAME}: killed ${r.killed} (meta leader); new leader ${r.leader} after ${
        r.electionMs.toFixed(0)
      } ms; longest output stall ${r.stallMs.toFixed(0)} ms (channel ${r.worst}), longest ` +
        `publish stall ${r.publishStallMs.toFixed(0)} ms; ${r.acked} frames acknowledged; ` +
        `findings consumer stall ${r.findings.ms.toFixed(0)} ms (${r.findings.lost} lost), ` +
        `labels watch stall ${r.labels.ms.toFixed(0)} ms (${r.labels.lost} lost)`,
    );
    const fig = (metric: string, troupe: number, baseline: number | null) =>
      row({ bench: NAME, metric, unit: "ms", troupe, baseline, better: "lower" });
    return [
      fig("stall_ms_max_node_kill", r.stallMs, o["ttl-ms"]),
      fig("meta_election_ms", r.electionMs, null),
      fig("publish_stall_ms_max", r.publishStallMs, null),
      fig("findings_stall_ms_max", r.findings.ms, null),
      fig("labels_watch_stall_ms_max", r.labels.ms, null),
    ];
  },
};

type Settings = {
  channels: number;
  partitions: number;
  rate: number;
  "ttl-ms": number;
  "watch-s": number;
  "hosts-on": "any" | "killed";
};

/** One nats-server of the cluster, with its monitoring port. */
interface Node {
  name: string;
  server: NatsServer;
  monitor: number;
}

async function nodeKill(s: Settings, ctx: BenchContext) {
  const dir = tempDir("troupe-bench-nats-cluster-");
  const nodes = await startCluster(dir.path);
  const urls = nodes.map((n) => n.server.url).join(",");
  const hosts: ChildScript[] = [];
  let pub: NatsConnection | undefined;
  let probes: ElectionProbes | undefined;
  try {
    await peersCurrent(nodes);
    const leader = await metaLeader(nodes, undefined);
    const victim = nodes.find((n) => n.name === leader)!;
    const steady = nodes.find((n) => n !== victim)!;
    ctx.log(
      `${NAME}: cluster up (${nodes.map((n) => `${n.name} ${n.server.url}`).join(", ")}), ` +
        `meta leader ${leader}`,
    );
    pub = await connect({ servers: steady.server.url, maxReconnectAttempts: -1 });
    await ensureFeedStream(pub, { replicas: NODES });
    const watch = new OutputGaps(pub);
    // Forced onto the node that is killed, every host loses its server with it.
    const hostUrls = s["hosts-on"] === "killed" ? victim.server.url : urls;
    // Before the hosts: the labels bucket is there for their first placement of its leader.
    probes = await ElectionProbes.start(hostUrls, pub, NODES);
    ctx.log(`${NAME}: findings and labels probes read on ${probes.readerServer}`);
    for (const id of ["h1", "h2", "h3"]) {
      const h = ChildScript.start(
        "bench/_leased_host.ts",
        [JSON.stringify({ ...leasedHostConfig(id, hostUrls, s), data_dir: join(dir.path, id) })],
        (m) => ctx.log(`${id}: ${m}`),
      );
      await h.next(120_000);
      hosts.push(h);
    }
    const feed = new AckedFeed(jetstream(pub), s.channels);
    const sending = feed.run(s.rate);
    // Every channel answering before the kill.
    const warm = Date.now() + 60_000;
    while (watch.channels < s.channels && Date.now() < warm) await sleep(100);
    await sleep(3000);
    ctx.log(`${NAME}: leaders at the kill: ${await placements(steady)}`);
    ctx.log(`${NAME}: kill -9 ${victim.name} (${watch.channels} channels answering)`);
    const killedMs = Date.now();
    await victim.server.kill();
    const next = await metaLeader(nodes.filter((n) => n !== victim), leader);
    const electionMs = Date.now() - killedMs;
    await sleep(s["watch-s"] * 1000 - electionMs);
    feed.stop = true;
    await sending;
    const from = killedMs - 1000, to = killedMs + s["watch-s"] * 1000;
    const { gapMs, channel, startMs } = watch.longest(from, to);
    const resumed = watch.resumedAfter(killedMs, to);
    ctx.log(
      `${NAME}: channels' first outputs after the kill (ms): ${
        resumed.map(([c, ms]) => `${c.replace(/^stats\//, "")}=${ms ?? "none"}`).join(" ")
      }`,
    );
    const findings = probes.findings.stall(from, to), labels = probes.labels.stall(from, to);
    await probes.stop();
    for (const h of hosts) process.kill(h.pid!, "SIGTERM");
    for (const h of hosts) await h.wait(30_000).catch(() => h.kill());
    hosts.length = 0;
    return {
      killed: victim.name,
      leader: next,
      electionMs,
      stallMs: gapMs,
      worst: `${channel}, from ${startMs - killedMs} ms after the kill`,
      publishStallMs: feed.longestWaitMs(from, to),
      acked: feed.acked,
      findings,
      labels,
    };
  } finally {
    await probes?.stop();
    for (const h of hosts) await h.kill();
    await pub?.close().catch(() => {});
    for (const n of nodes) await n.server.kill();
    dir.remove();
  }
}

/** A leased host's configuration: stats alone, its journal and snapshots in the cluster. */
function leasedHostConfig(id: string, urls: string, s: Settings) {
  return {
    host_id: id,
    nats: { url: urls, replicas: NODES },
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
    partitions: { count: s.partitions, owned: "auto", lease_ttl_ms: s["ttl-ms"] },
  };
}

/** Starts of the cluster, each on fresh ports: a port found free may be taken before use. */
const CLUSTER_ATTEMPTS = 3;

/** Three nats-servers with JetStream, routed to each other, each with a monitoring port. */
async function startCluster(dir: string): Promise<Node[]> {
  for (let attempt = 1;; attempt++) {
    const started: Node[] = [];
    try {
      return await startNodes(join(dir, `cluster-${attempt}`), started);
    } catch (err) {
      for (const n of started) await n.server.kill();
      if (attempt >= CLUSTER_ATTEMPTS) throw err;
    }
  }
}

/** One attempt of `startCluster`; each node started goes into `started` (to stop on failure). */
async function startNodes(dir: string, started: Node[]): Promise<Node[]> {
  const ports = await Promise.all(
    Array.from(
      { length: NODES },
      async () => ({ route: await freePort(), monitor: await freePort() }),
    ),
  );
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(",");
  const results = await Promise.allSettled(ports.map(async (p, i) => {
    const name = `n${i + 1}`;
    const server = await NatsServer.start({
      storeDir: join(dir, name),
      readyTimeoutMs: 30_000,
      args: [
        "--server_name",
        name,
        "--cluster_name",
        "troupe-bench",
        "--cluster",
        `nats://127.0.0.1:${p.route}`,
        "--routes",
        routes,
        "-m",
        String(p.monitor),
      ],
    });
    const node = { name, server, monitor: p.monitor };
    started.push(node);
    return node;
  }));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<Node>).value);
}

/**
 * Waits (60 s at most) until the meta leader counts every node a current peer: a stream of three
 * replicas made before that is refused ("no suitable peers for placement").
 */
async function peersCurrent(nodes: Node[]): Promise<void> {
  type Meta = { leader?: string; cluster_size?: number; replicas?: Array<{ current?: boolean }> };
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    for (const n of nodes) {
      try {
        const res = await fetch(`http://127.0.0.1:${n.monitor}/jsz`);
        const meta = (await res.json() as { meta_cluster?: Meta }).meta_cluster;
        const current = meta?.replicas?.filter((r) => r.current).length ?? 0;
        if (meta?.leader && meta.cluster_size === NODES && current === NODES - 1) return;
      } catch {
        // Not answering yet: ask another.
      }
    }
    await sleep(100);
  }
  throw new Error(`the NATS cluster's meta leader did not count ${NODES} current peers in 60 s`);
}

/** The JetStream meta leader a node of `nodes` names, once it is not `not` (within 60 s). */
async function metaLeader(nodes: Node[], not: string | undefined): Promise<string> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    for (const n of nodes) {
      try {
        const res = await fetch(`http://127.0.0.1:${n.monitor}/jsz`);
        const body = await res.json() as { meta_cluster?: { leader?: string } };
        const leader = body.meta_cluster?.leader;
        if (leader && leader !== not) return leader;
      } catch {
        // Not answering yet (or killed): ask another.
      }
    }
    await sleep(50);
  }
  throw new Error(`no JetStream meta leader${not ? ` other than ${not}` : ""} within 60 s`);
}

/**
 * Where the streams' leaders and the consumers sit, as node `n` sees them: `STREAM@node` and the
 * count of consumers on each node per stream (a leader on the killed node waits out an election).
 */
async function placements(n: Node): Promise<string> {
  try {
    const res = await fetch(
      `http://127.0.0.1:${n.monitor}/jsz?accounts=true&streams=true&consumers=true`,
    );
    const body = await res.json() as {
      account_details?: Array<{
        stream_detail?: Array<{
          name: string;
          cluster?: { leader?: string };
          consumer_detail?: Array<{ cluster?: { leader?: string } }>;
        }>;
      }>;
    };
    const out: string[] = [];
    for (const a of body.account_details ?? []) {
      for (const st of a.stream_detail ?? []) {
        const by = new Map<string, number>();
        for (const c of st.consumer_detail ?? []) {
          const at = c.cluster?.leader ?? "?";
          by.set(at, (by.get(at) ?? 0) + 1);
        }
        const cs = [...by].sort().map(([node, k]) => `${node}:${k}`).join(",");
        out.push(`${st.name}@${st.cluster?.leader ?? "?"}${cs ? ` (consumers ${cs})` : ""}`);
      }
    }
    return out.join(" ");
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

/** Frames round-robin over the channels, each acknowledged; the time each acknowledgement took. */
class AckedFeed {
  readonly #js: JetStreamClient;
  readonly #channels: number;
  acked = 0;
  stop = false;
  /** When each publish began and ended (ms), up to a bound. */
  readonly #waits: Array<[number, number]> = [];

  constructor(js: JetStreamClient, channels: number) {
    this.#js = js;
    this.#channels = channels;
  }

  async run(rate: number): Promise<void> {
    const feed = { rate, channels: this.#channels, prefix: "c", src: NAME, batch: BATCH };
    for await (const { channel, id, data } of pacedFrames(feed, () => !this.stop)) {
      const t0 = Date.now();
      for (;;) {
        try {
          await this.#js.publish(feedSubject(NAME, channel), data, { msgID: id, timeout: 2000 });
          break;
        } catch {
          if (this.stop) return;
          await sleep(50);
        }
      }
      if (this.#waits.length < 1_000_000) this.#waits.push([t0, Date.now()]);
      this.acked++;
    }
  }

  /** The longest wait for an acknowledgement that began between `from` and `to`. */
  longestWaitMs(from: number, to: number): number {
    let max = 0;
    for (const [a, b] of this.#waits) if (a >= from && a <= to && b - a > max) max = b - a;
    return max;
  }
}

/** Each channel's output times (new causes only), to find the longest gap. */
class OutputGaps {
  readonly #times = new Map<string, number[]>();
  readonly #seen = new Set<string>();

  constructor(nc: NatsConnection) {
    nc.subscribe(outPattern("stats"), {
      callback: (_err, m) => {
        try {
          const e = decodeEnvelope(m.data);
          if (e.cause === undefined || this.#seen.has(e.cause)) return;
          this.#seen.add(e.cause);
          const channel = e.src;
          let list = this.#times.get(channel);
          if (!list) this.#times.set(channel, list = []);
          list.push(Date.now());
        } catch {
          // Not an envelope: not an output.
        }
      },
    });
  }

  get channels(): number {
    return this.#times.size;
  }

  /** Each channel's first output after `at` and by `to`, in ms after `at` (undefined: none). */
  resumedAfter(at: number, to: number): Array<[string, number | undefined]> {
    const out: Array<[string, number | undefined]> = [];
    for (const [c, times] of [...this.#times].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const t = times.find((x) => x > at && x <= to);
      out.push([c, t === undefined ? undefined : t - at]);
    }
    return out;
  }

  /** The longest gap between a channel's outputs within [from, to] (edges included). */
  longest(from: number, to: number): { gapMs: number; channel: string; startMs: number } {
    let gapMs = 0, channel = "", startMs = from;
    for (const [c, times] of this.#times) {
      let last = from;
      for (const t of times) {
        if (t < from) continue;
        if (t > to) break;
        if (t - last > gapMs) [gapMs, channel, startMs] = [t - last, c, last];
        last = t;
      }
      if (to - last > gapMs) [gapMs, channel, startMs] = [to - last, c, last];
    }
    return { gapMs, channel, startMs };
  }
}
