/**
 * Starts a host that shares partitions with the cluster's other hosts by lease
 * (`partitions.owned: "auto"`): one NATS connection, the lease keeper (partition_leases.ts), and
 * for each partition it holds a host of its own (`part-<n>`: its journal, its JetStream input from
 * the partition's highest journaled source position, its control consumer and its edge decisions
 * all named by the partition, so they move with it), writing through the partition's fence. Its
 * partitions share the host's channel limit (the process's memory budget): each admits a new
 * channel only while their sum is under it. It needs journals every host can read:
 * `journal.kind: "jetstream"`, `snapshots.store: "kv"` and `input: "jetstream"` (see
 * `leasesUnsupported`). Every step on the host's thread runs under a deadline its partitions
 * share (leased_step_deadlines.ts).
 */
import type { Server } from "node:http";
import { type AnyActorDefinition, type Bus, FINDINGS_PATTERN } from "../../../protocol/mod.ts";
import { CHANNEL_LABELS_BUCKET } from "../../../protocol/prometheus/mod.ts";
import { CONTROL_STREAM, controlStreamSource } from "../control/stream/mod.ts";
import {
  FINDINGS_STREAM,
  keepLeadersPlaced,
  type LeaderPlacement,
  NatsBus,
  openFindingsStream,
} from "../transport/mod.ts";
import { describeError, HostFatalError } from "../operations/mod.ts";
import { ChannelBook } from "../instances/mod.ts";
import {
  channelRoom,
  connectBus,
  feedStreamOptions,
  Host,
  type HostConfig,
  type HostHealth,
  hostOptions,
  type LeaseSettings,
  natsLiveness,
  openSnapshots,
  SNAPSHOTS_PER_SLICE_MAX,
  startStepTrials,
  type StuckStep,
  type TeamKinds,
  TICK_EVERY_MS,
} from "../host/mod.ts";
import { closeServer, serveHostHttp, serverPort } from "../operations/mod.ts";
import { ensureFeedStream, FEED_STREAM, SharedFeed } from "../edge/mod.ts";
import { CutTurns, JetStreamJournal } from "../journal/jetstream/mod.ts";
import { partitionCountLeft, partitionJournal, sharedLayoutLeft } from "./partition_journal.ts";
import { RecoveriesInProgress } from "./recoveries_in_progress.ts";
import { SNAPSHOT_BUCKET } from "../snapshots/kv/mod.ts";
import { LEASE_BUCKET, LeaseBucket } from "./lease_bucket.ts";
import type { LeaseFence } from "./lease_fence.ts";
import { LeaseMetrics, summedFigures } from "./lease_metrics.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import { PartitionLeases, type PartitionRunner } from "./partition_leases.ts";
import { partitionHostId } from "./partition_host_id.ts";
import { STEP_OVERRUN_BUCKET } from "./step_overrun_bucket.ts";
import { type LeasedStepDeadlines, startLeasedStepDeadlines } from "./leased_step_deadlines.ts";

/** A running host that holds partitions by lease. */
export interface LeasedHost {
  leases: PartitionLeases;
  bus: Bus;
  /** The partition hosts running now, by partition. */
  partitions: ReadonlyMap<number, Host>;
  httpPort: number | undefined;
  /** The registry its /metrics serves (with every partition host's): more may be added. */
  registry: LeaseMetrics["registry"];
  /** Resolves with the error that stopped the host (never rejects). */
  fatal: Promise<HostFatalError>;
  /** Hands every partition off (flush, snapshot, release), then closes. */
  close(): Promise<void>;
}

/** Why `config` cannot share partitions by lease, or undefined when it can. */
export function leasesUnsupported(config: HostConfig): string | undefined {
  const want: string[] = [];
  if (!config.nats) want.push("a NATS server (--nats)");
  if (config.journal.kind !== "jetstream") {
    want.push(`journal.kind "jetstream" (it is "${config.journal.kind}")`);
  }
  if (config.snapshots.store !== "kv") {
    want.push(`snapshots.store "kv" (it is "${config.snapshots.store}")`);
  }
  if (config.input !== "jetstream") want.push(`input "jetstream" (it is "${config.input}")`);
  return want.length === 0 ? undefined : `sharing partitions by lease needs ${want.join(", ")}`;
}

/**
 * Checks that no partition's journal is left in the shared layout of an older troupe, nor made
 * for another partitions' count (partition_journal.ts), and opens the lease bucket, the findings
 * stream (the incident stage's journal) and the feed stream, each created with `nats.replicas`
 * replicas when missing: before any partition starts, so that a finding of a cluster's first
 * moments is journaled (made by the stage's lease keeper later, it missed what came before).
 * Each partition's journal stream is made by its first holder.
 */
async function openLeaseStores(
  nc: NatsConnection,
  config: HostConfig & { partitions: { leases: LeaseSettings } },
): Promise<LeaseBucket> {
  const { replicas } = config;
  const left = await sharedLayoutLeft(nc) ?? await partitionCountLeft(nc, config.partitions.count);
  if (left) throw new HostFatalError(`Cannot start host ${config.host_id}: ${left}`);
  await openFindingsStream(nc, { replicas });
  await ensureFeedStream(nc, feedStreamOptions(config));
  return await LeaseBucket.open(nc, { ttlMs: config.partitions.leases.ttl_ms, replicas });
}

/**
 * The streams whose leaders are kept off the meta leader's node (leader_placement.ts), so that
 * its loss stalls no partition's input, journal or lease; of `count` partitions.
 */
function placedStreams(count: number): string[] {
  return [
    FEED_STREAM,
    // Made by each partition's first holder: placed from the first look after it is there.
    ...Array.from({ length: count }, (_, p) => partitionJournal(p, count).stream),
    `KV_${LEASE_BUCKET}`,
    `KV_${SNAPSHOT_BUCKET}`,
    `KV_${STEP_OVERRUN_BUCKET}`,
    CONTROL_STREAM,
    FINDINGS_STREAM,
    // Made by the first metrics receiver: placed from the first look after it is there.
    `KV_${CHANNEL_LABELS_BUCKET}`,
  ];
}

/** Options of `launchLeasedHost`. */
export interface LeasedHostOptions {
  log?: (message: string) => void;
  /** Milliseconds between looks for due clock ticks (default TICK_EVERY_MS; 0: none). */
  tickEveryMs?: number;
  /**
   * The team's kinds among `kinds`, and the module they come from: each partition's host tries
   * their steps on worker threads of its own first, as a host in one thread does, unless
   * `supervision.isolate_user_kinds` is false (actors/runtime/host/step_trials.ts).
   */
  teamKinds?: TeamKinds;
}

/**
 * Starts a leased host: joins the cluster and claims its share, once the step overrun its last
 * run left is recorded for every host (leased_step_deadlines.ts).
 */
export async function launchLeasedHost(
  config: HostConfig & { partitions: { leases: LeaseSettings } },
  kinds: Readonly<Record<string, AnyActorDefinition>>,
  options: LeasedHostOptions = {},
): Promise<LeasedHost> {
  const log = options.log ?? ((m: string) => console.error(`[${config.host_id}] ${m}`));
  const why = leasesUnsupported(config);
  if (why) throw new HostFatalError(`Cannot start host ${config.host_id}: ${why}`);
  const bus = await connectBus(config, log);
  // A partition's failure drops that partition (another host may take it), not the host.
  const fatal = new Promise<HostFatalError>(() => {});
  let placement: LeaderPlacement | undefined, deadlines: LeasedStepDeadlines | undefined;
  try {
    const nc = (bus as NatsBus).nc;
    const snapshots = await openSnapshots(config, nc, log);
    const bucket = await openLeaseStores(nc, config);
    const stepDeadlines = deadlines = await startLeasedStepDeadlines(config, nc, log);
    // The findings stream is the incident stage's journal: a finding is sent until the stream
    // has it, so that a NATS node lost as it was published loses none.
    (bus as NatsBus).acknowledge(FINDINGS_PATTERN, { log });
    placement = await keepLeadersPlaced(nc, placedStreams(config.partitions.count), { log });
    const shared = partitionsShared(nc, config);
    const { running, book } = shared;
    const http: { port?: number | undefined } = {};
    const leases: PartitionLeases = new PartitionLeases({
      hostId: config.host_id,
      count: config.partitions.count,
      bucket,
      heartbeatMs: config.partitions.leases.heartbeat_ms,
      settleMs: config.partitions.leases.settle_ms,
      bus,
      log,
      httpPort: () => http.port,
      start: async (p, fence) =>
        await startPartition(p, fence, {
          config,
          kinds,
          teamKinds: options.teamKinds,
          deadlines: stepDeadlines,
          bus,
          snapshots: fence.snapshots(snapshots),
          log: (m) => log(`part-${p}: ${m}`),
          tickEveryMs: options.tickEveryMs ?? TICK_EVERY_MS,
          onFatal: (err) => leases.failed(p, err),
          ...shared,
        }),
    });
    const { metrics, server } = await leasedMetricsAndHttp(config, { bus, leases, running, book });
    http.port = serverPort(server);
    await leases.start();
    return {
      leases,
      bus,
      partitions: running,
      httpPort: http.port,
      registry: metrics.registry,
      fatal,
      async close() {
        await placement?.stop();
        await leases.stop("the host stops").catch((err) => log(`stopping: ${describeError(err)}`));
        await closeServer(server);
        await stepDeadlines.stop();
        await snapshots.close().catch(() => {});
        await bus.close().catch(() => {});
      },
    };
  } catch (err) {
    await placement?.stop();
    await deadlines?.stop().catch(() => {});
    await bus.close().catch(() => {});
    throw err instanceof HostFatalError
      ? err
      : new HostFatalError(describeError(err), { cause: err });
  }
}

/**
 * What a leased host's partitions share: the hosts running; the book of the process's channels,
 * each once whichever partitions hold it (its channel limit is on them); one read of the feed
 * (shared_feed.ts); the recoveries in progress, which hold back every journal's compactions.
 */
function partitionsShared(
  nc: NatsBus["nc"],
  config: HostConfig,
): Pick<PartitionParts, "running" | "book" | "feed" | "recovering" | "cutTurns"> {
  return {
    running: new Map<number, Host>(),
    book: new ChannelBook(),
    feed: new SharedFeed(nc, feedStreamOptions(config)),
    recovering: new RecoveriesInProgress(),
    cutTurns: new CutTurns(),
  };
}

/**
 * Partition `p`'s journal, in a stream of its own (partition_journal.ts): every publish and purge
 * is guarded by `fence` when it is sent, and carries the epoch. Its first holder makes the stream,
 * with `nats.replicas` replicas. The lease's holder is its only writer, so its compactions cut the
 * whole stream, a purge at a time among the host's partitions (jetstream/stream_cut.ts).
 */
function openPartitionJournal(
  nc: NatsBus["nc"],
  parts: {
    p: number;
    config: HostConfig;
    fence: LeaseFence;
    recovering: RecoveriesInProgress;
    cutTurns: CutTurns;
  },
  log: (message: string) => void,
): Promise<JetStreamJournal> {
  const { p, config, fence } = parts;
  return JetStreamJournal.open(nc, {
    ...partitionJournal(p, config.partitions.count),
    replicas: config.replicas,
    compactHold: parts.recovering,
    soleWriter: true,
    cutTurns: parts.cutTurns,
    guard: () => fence.guard(),
    epoch: fence.epoch,
    onDamage: (d) =>
      log(
        `journal: damaged at ${d.segment} sequence ${d.offset} (${d.reason}); read on ` +
          `past it`,
      ),
  });
}

/** The parts the leased host's /healthz and /metrics read. */
interface LeasedHttpParts {
  bus: Bus;
  leases: PartitionLeases;
  running: ReadonlyMap<number, Host>;
  metrics: LeaseMetrics;
  book: ChannelBook;
}

/** The leased host's metrics, over its partitions' and its book, and its HTTP server for them. */
async function leasedMetricsAndHttp(
  config: HostConfig,
  parts: Omit<LeasedHttpParts, "metrics">,
): Promise<{ metrics: LeaseMetrics; server: Server | undefined }> {
  const { bus, leases, running, book } = parts;
  const metrics = new LeaseMetrics(config.host_id, leases, {
    partitions: () => [...running.values()].map((h) => h.metrics),
    findings: () => (bus as NatsBus).acknowledged,
    channelsMax: config.limits.channels_max,
    book,
  });
  return { metrics, server: await serveLeasedHttp(config, { ...parts, metrics }) };
}

/** Serves /healthz and /metrics on `config.http_port`, or nothing when it is unset. */
async function serveLeasedHttp(
  config: HostConfig,
  parts: LeasedHttpParts,
): Promise<Server | undefined> {
  if (config.http_port === undefined) return undefined;
  const { bus, leases, running, metrics, book } = parts;
  const natsCheck = natsLiveness(() => (bus as NatsBus).state);
  const partitionMetrics = () => [...running.values()].map((h) => h.metrics);
  return await serveHostHttp(config.http_port, {
    hostId: config.host_id,
    health: () => ({
      ...leasedHealth(leases, running, natsCheck()),
      channels: channelRoom(summedFigures(partitionMetrics(), config.limits.channels_max, book)),
    }),
    metrics,
    refreshGauges: () => {},
  }, { bind: config.http_host, auth: config.http_auth });
}

/**
 * Health: the partitions held, each lease's time left, the counts, and each partition's health
 * (its steps running long on its trials threads among `stuck`, each naming its partition).
 */
function leasedHealth(
  leases: PartitionLeases,
  running: ReadonlyMap<number, Host>,
  nats: string | undefined,
): HostHealth & Record<string, unknown> {
  const reasons: string[] = nats ? [nats] : [];
  const instances: Record<string, number> = {};
  const stuck: Array<StuckStep & { partition: number }> = [];
  const owned = leases.owned();
  for (const p of owned) {
    const h = running.get(p);
    if (!h) {
      reasons.push(`partition ${p}: recovering`);
      continue;
    }
    const hh = h.health();
    for (const r of hh.reasons) reasons.push(`partition ${p}: ${r}`);
    for (const s of hh.stuck ?? []) stuck.push({ partition: p, ...s });
    for (const [k, n] of Object.entries(hh.instances)) {
      instances[k] = (instances[k] ?? 0) + n;
    }
  }
  return {
    ok: reasons.length === 0,
    ready: reasons.length === 0,
    reasons,
    instances: instances as unknown as HostHealth["instances"],
    stuck,
    partitions: owned,
    leases: leases.leases().map((l) => ({
      partition: l.partition,
      epoch: l.epoch,
      age_s: +(l.ageMs / 1000).toFixed(3),
      left_s: +(l.leftMs / 1000).toFixed(3),
    })),
    takeovers: leases.counts.takeovers,
    fenced_writes: leases.refused(),
  };
}

interface PartitionParts {
  config: HostConfig;
  kinds: Readonly<Record<string, AnyActorDefinition>>;
  teamKinds: TeamKinds | undefined;
  /** The host's step watchdog and the overruns recorded for partitions. */
  deadlines: LeasedStepDeadlines;
  bus: Bus;
  snapshots: ReturnType<LeaseFence["snapshots"]>;
  log: (m: string) => void;
  tickEveryMs: number;
  onFatal: (err: unknown) => void;
  running: Map<number, Host>;
  /** The channels the process's partitions hold, each once: what its limit bounds. */
  book: ChannelBook;
  /** The process's one read of the feed, a share of it each partition's input. */
  feed: SharedFeed;
  /** The partitions recovering, which hold every partition's compactions back. */
  recovering: RecoveriesInProgress;
  /** The turns every partition's journal cuts take (journal/jetstream/stream_cut.ts). */
  cutTurns: CutTurns;
}

/** Partition `p`'s host's configuration: the process's, as host `id` holding `p` alone. */
function partitionConfig(config: HostConfig, p: number, id: string): HostConfig {
  const { http_port: _port, ...rest } = config;
  return {
    ...rest,
    http_port: undefined,
    host_id: id,
    partitions: { count: config.partitions.count, owned: [p] },
  };
}

/**
 * Recovers partition `p` and starts it consuming, every write through `fence`. A team's kinds are
 * tried on trials threads of the partition's own (none when it runs none), started before its
 * host and ended after it, as launchHost does for a host in one thread: a trial still open as the
 * partition stops ends untried, so that nothing it held is applied or published after its handoff.
 * Until it has recovered (or failed to), every partition's journal compactions are held back
 * (recoveries_in_progress.ts).
 */
async function startPartition(
  p: number,
  fence: LeaseFence,
  parts: PartitionParts,
): Promise<PartitionRunner> {
  const recovered = parts.recovering.begin();
  try {
    return await recoverPartition(p, fence, parts);
  } finally {
    recovered();
  }
}

/** Opens partition `p`'s journal and starts its host (its recovery): see `startPartition`. */
async function recoverPartition(
  p: number,
  fence: LeaseFence,
  parts: PartitionParts,
): Promise<PartitionRunner> {
  const { config, kinds, log, running } = parts;
  const id = partitionHostId(p);
  const nc = (parts.bus as NatsBus).nc;
  const journal = await openPartitionJournal(
    nc,
    { p, config, fence, recovering: parts.recovering, cutTurns: parts.cutTurns },
    log,
  );
  const own = partitionConfig(config, p, id);
  let trials, deadline;
  try {
    deadline = await parts.deadlines.partition(p, id);
    trials = await startStepTrials(own, parts.teamKinds, log);
  } catch (err) {
    await journal.close().catch(() => {});
    throw err;
  }
  const bus = fence.bus(parts.bus);
  const fenced = fence.journal(journal);
  const base = hostOptions(own, kinds, {
    bus,
    nc,
    journal: fenced,
    snapshots: parts.snapshots,
    log,
    onFatal: parts.onFatal,
  });
  // The limit is the process's: the channels its partitions hold, each once (the book).
  const host = new Host({
    ...base,
    limits: { ...base.limits, channelBook: parts.book },
    input: parts.feed.input(),
    control: controlStreamSource(nc, id, { replicas: config.replicas, log }),
    tickEveryMs: parts.tickEveryMs,
    // Every partition is some host's: a state capture waits for each partition's answer.
    captureAnswerers: Array.from({ length: config.partitions.count }, (_, q) => partitionHostId(q)),
    snapshotsPerSliceMax: SNAPSHOTS_PER_SLICE_MAX,
    ...deadline.options,
    ...(trials ? { stepTrials: trials } : {}),
  });
  // A lost lease stops the partition's host at once: no more input, appends or outputs.
  fence.onLost((why) => host.fail(new Error(why)));
  const done = async () => {
    if (running.get(p) === host) running.delete(p);
    parts.book.release(id);
    await trials?.stop().catch(() => {});
    await journal.close().catch(() => {});
  };
  try {
    await host.start();
  } catch (err) {
    // Let go while recovering: its recovery stopped where it was (recovery.ts).
    if (fence.lost !== undefined) log(describeError(err));
    await host.stop().catch(() => {});
    await done();
    throw err;
  }
  deadline.afterStart();
  running.set(p, host);
  log(`consuming (epoch ${fence.epoch})`);
  return {
    async stop() {
      await host.stop();
      await done();
    },
    async abandon() {
      fence.lose(fence.lost ?? "dropped");
      await host.stop().catch(() => {});
      await done();
    },
  };
}
