/**
 * One way to run a cluster: `startCluster` starts the hosts a configuration asks for (a host in
 * this thread, a host on worker threads, or hosts holding partitions by lease), the incident
 * stage beside them, and the metrics receiver its `remote_write` block sets up, and hands back one
 * handle that drains and stops them all in one order, within one time bound. `troupe run` is this
 * and a signal; `troupe up` is this, a demo feed and the collaboration server.
 */
import {
  feedStreamOptions,
  type HostConfig,
  type HostService,
  type HostServiceParts,
  launchHost,
  launchLeasedHost,
  type LeasedHost,
  recordLeftStepOverrun,
  type TeamKinds,
  ThreadedHost,
} from "../runtime/mod.ts";
import { ACTOR_KINDS, ACTOR_KINDS_MODULE } from "../mod.ts";
import type { AnyActorDefinition, Bus } from "../../protocol/mod.ts";
import { type StartedReceiver, startReceiver } from "./start_receiver.ts";
import {
  type ClusterStageStarts,
  incidentStageStarts,
  type LeasedConfig,
} from "./cluster_stage_starts.ts";
import {
  clusterOf,
  type ClusterStage,
  type RunningCluster,
  type StartedHosts,
} from "./running_cluster.ts";

/** Options of `startCluster`. */
export interface StartClusterOptions {
  /** The kinds the hosts run (default troupe's own). */
  kinds?: Readonly<Record<string, AnyActorDefinition>>;
  /** The module a host's threads load those kinds from (default troupe's own kinds module). */
  kindsModule?: string | URL;
  /** Worker threads for the host (default 1: the host runs in this thread). */
  threads?: number;
  /**
   * A team's kinds among `kinds` and their module, for a host in this thread or leased hosts:
   * their steps are tried on a worker thread first (actors/runtime/host/step_trials.ts). A
   * threaded host's threads run them under the step watchdog instead.
   */
  teamKinds?: TeamKinds;
  /** A bus to share instead of connecting (the in-process bus; for a host in this thread). */
  bus?: Bus;
  /** Milliseconds between looks for due clock ticks (0: none). */
  tickEveryMs?: number;
  /** A service beside a host in this thread (the scan service); threads run their module's. */
  service?: (parts: HostServiceParts) => Promise<HostService>;
  /**
   * How the incident stage starts (default `incidentStageStarts()`: on the host that owns
   * partition 0, or under its lease on leased hosts, from the configuration); false: none.
   */
  stage?: ClusterStageStarts | false;
  /** Where the cluster's notices go (default stderr). */
  log?: (message: string) => void;
}

/** Which part of a cluster failed to start, and why. */
export class ClusterStartError extends Error {
  override name = "ClusterStartError";
  /** The part: a host (its id), "the incident stage" or "the metrics receiver". */
  readonly part: string;
  constructor(part: string, cause: unknown) {
    super(`Cannot start ${part}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.part = part;
  }
}

/**
 * Starts a cluster from `configs`: one configuration (its partitions by lease when it says
 * `leases`, on `options.threads` threads when more than one), or several leased ones to run in this
 * process. Whatever started is stopped again when a later part cannot start; the error is a
 * ClusterStartError naming the part.
 */
export async function startCluster(
  configs: HostConfig | readonly LeasedConfig[],
  options: StartClusterOptions = {},
): Promise<RunningCluster> {
  const stage = options.stage === false ? undefined : options.stage ?? incidentStageStarts();
  options = { ...options, ...(stage ? { stage } : {}) };
  const list = Array.isArray(configs) ? configs : [configs as HostConfig];
  const first = list[0];
  if (first === undefined) throw new ClusterStartError("a cluster", "no host configuration");
  const leased = list.every((c) => c.partitions.leases !== undefined);
  if (list.length > 1 && !leased) {
    throw new ClusterStartError("a cluster", "hosts in one process share partitions by lease");
  }
  // On NATS the receiver needs nothing of the hosts: it starts beside them, and takes writes
  // (journaled on the feed stream the hosts read) while they recover.
  const early = first.nats !== undefined ? configuredReceiver(first, undefined) : undefined;
  early?.catch(() => {}); // its failure is seen below, once the hosts are up
  let started: StartedHosts;
  try {
    started = leased
      ? await startLeased(list as readonly LeasedConfig[], options)
      : (options.threads ?? 1) > 1
      ? await startThreaded(first, options)
      : await startHost(first, options);
  } catch (err) {
    await early?.then((r) => r?.close(), () => {});
    throw err;
  }
  const log = options.log ?? ((m: string) => console.error(m));
  const stageBus = stage?.bus;
  let receiver: StartedReceiver | undefined;
  try {
    receiver = await (early ?? configuredReceiver(first, started.bus));
  } catch (err) {
    await clusterOf(started, { receiver: undefined, log, stageBus }).close();
    throw new ClusterStartError("the metrics receiver", err);
  }
  return clusterOf(started, { receiver, log, stageBus });
}

/** A host in this thread, its stage started before it takes input. */
async function startHost(config: HostConfig, options: StartClusterOptions): Promise<StartedHosts> {
  const stage = stageBox();
  let launched;
  try {
    launched = await launchHost(config, options.kinds ?? ACTOR_KINDS, {
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.service ? { service: options.service } : {}),
      ...(options.teamKinds ? { teamKinds: options.teamKinds } : {}),
      ...(options.tickEveryMs === undefined ? {} : { tickEveryMs: options.tickEveryMs }),
      // The stage takes the actors' findings from the bus as they are published: it is running
      // before the actors take input, or those a restarted host publishes as it catches up
      // with what waited in the stream would never reach it (and a replay would differ).
      beforeStart: (parts) => stage.start(() => stageOf(options)?.host(config, parts)),
    });
  } catch (err) {
    throw await stage.failed(config, err);
  }
  const host = launched.host;
  return {
    kind: "host",
    configs: [config],
    bus: launched.bus,
    stage: stage.value,
    fatal: launched.fatal,
    httpPorts: [host.httpPort],
    registry: host.metrics.registry,
    applied: () => sum(host.applied.values()),
    instances: () => host.instances().length,
    close: () => launched.close(),
  };
}

/** A host on worker threads, its stage started on this thread before it takes feeds. */
async function startThreaded(
  config: HostConfig,
  options: StartClusterOptions,
): Promise<StartedHosts> {
  const stage = stageBox();
  let host: ThreadedHost;
  try {
    host = await ThreadedHost.start(config, options.threads!, {
      kinds: options.kindsModule ?? ACTOR_KINDS_MODULE,
      scans: "bars" in config.actors,
      ...(options.teamKinds ? { teamKinds: options.teamKinds } : {}),
      ...(options.tickEveryMs === undefined ? {} : { tickEveryMs: options.tickEveryMs }),
      // Before the feeds, as on one thread: the stage misses none of the threads' findings.
      beforeFeeds: (h) => stage.start(() => stageOf(options)?.threaded(config, h.registry)),
    });
  } catch (err) {
    throw await stage.failed(config, err);
  }
  const kinds = Object.keys(config.actors);
  return {
    kind: "threads",
    configs: [config],
    // The main thread has no bus of its own: its hosts run on the threads, on NATS.
    bus: undefined,
    stage: stage.value,
    fatal: host.fatal,
    httpPorts: [host.httpPort],
    threads: host.threads,
    registry: host.registry,
    applied: () => kinds.reduce((n, k) => n + host.applied(k), 0),
    instances: () => {
      const i = host.health().instances;
      return i.recovering + i.running + i.backoff + i.stopped;
    },
    close: () => host.close(),
  };
}

/**
 * Records the step overrun each of `configs`' hosts' last run left, before the first host claims a
 * lease (leased_step_deadlines.ts): that host may claim the partition another's names.
 */
async function recordLeftOverruns(
  configs: readonly LeasedConfig[],
  notice: (message: string) => void,
): Promise<void> {
  for (const config of configs) {
    const log = (m: string) => notice(`[${config.host_id}] ${m}`);
    try {
      await recordLeftStepOverrun(config, log);
    } catch (err) {
      throw new ClusterStartError(`host ${config.host_id}`, err);
    }
  }
}

/** Leased hosts, each with its share of the stage, started one after another. */
async function startLeased(
  configs: readonly LeasedConfig[],
  options: StartClusterOptions,
): Promise<StartedHosts> {
  const hosts: LeasedHost[] = [];
  const stages: ClusterStage[] = [];
  const stopStages = once(() => Promise.all(stages.map((s) => s.close())));
  await recordLeftOverruns(configs, options.log ?? ((m) => console.error(m)));
  for (const config of configs) {
    try {
      hosts.push(
        await launchLeasedHost(config, options.kinds ?? ACTOR_KINDS, {
          ...(options.tickEveryMs === undefined ? {} : { tickEveryMs: options.tickEveryMs }),
          ...(options.teamKinds ? { teamKinds: options.teamKinds } : {}),
        }),
      );
    } catch (err) {
      await stopStages().catch(() => {});
      await Promise.all(hosts.map((h) => h.close().catch(() => {})));
      throw new ClusterStartError(`host ${config.host_id}`, err);
    }
    try {
      const stage = await stageOf(options)?.leased(config, hosts.at(-1)!);
      if (stage) stages.push(stage);
    } catch (err) {
      await stopStages().catch(() => {});
      await Promise.all(hosts.map((h) => h.close().catch(() => {})));
      throw new ClusterStartError("the incident stage", err);
    }
  }
  const partitions = () => hosts.flatMap((h) => [...h.partitions.values()]);
  // Counted over the partitions held when asked: kept at close, which stops them all.
  let appliedAtClose: number | undefined;
  const applied = () => appliedAtClose ?? sum(partitions().flatMap((h) => [...h.applied.values()]));
  return {
    kind: "leased",
    configs,
    bus: undefined,
    stage: stages.length === 0 ? undefined : {
      line: stages.map((s) => s.line).join("; "),
      // Refolded later, by whichever host claims the lease (it says how many).
      restored: 0,
      close: async () => void await stopStages(),
    },
    // A leased host's partitions move on when it fails: what stops it is a signal or the receiver.
    fatal: new Promise(() => {}),
    httpPorts: hosts.map((h) => h.httpPort),
    leased: hosts,
    registry: hosts[0]!.registry,
    applied,
    instances: () => sum(partitions().map((h) => h.instances().length)),
    // Together: one after another, each host's released partitions went to the next one. The
    // stages stop first, together (none claims the lease another released), saving a snapshot.
    close: async () => {
      appliedAtClose = applied();
      await stopStages();
      await Promise.all(hosts.map((h) => h.close()));
    },
  };
}

/** The stage a host starts before it takes input, or the error that stopped it. */
function stageBox() {
  const box = {
    value: undefined as ClusterStage | undefined,
    error: undefined as unknown,
    async start(begin: () => Promise<ClusterStage | undefined> | undefined): Promise<void> {
      try {
        box.value = await begin();
      } catch (err) {
        box.error = err;
        throw err;
      }
    },
    /** Which failed to start, the host or its stage (closing the stage if it had started). */
    async failed(config: HostConfig, err: unknown): Promise<ClusterStartError> {
      await box.value?.close().catch(() => {});
      return box.error === undefined
        ? new ClusterStartError(`host ${config.host_id}`, err)
        : new ClusterStartError("the incident stage", box.error);
    },
  };
  return box;
}

/**
 * The metrics receiver the config's `remote_write` block sets up (none without one), on NATS when
 * the config names a server, else on `bus`.
 */
async function configuredReceiver(
  config: HostConfig,
  bus: Bus | undefined,
): Promise<StartedReceiver | undefined> {
  if (!config.remote_write) return undefined;
  return await startReceiver(config.remote_write, {
    nats: config.nats,
    natsAuth: config.nats_auth,
    ...(bus ? { bus } : {}),
    name: `${config.host_id}-receiver`,
    defaults: { channelsMax: config.limits.channels_max }, // the host edge's own limit
    feedStream: feedStreamOptions(config),
  });
}

/** The stage's starts `options` hold (none when false). */
function stageOf(options: StartClusterOptions): ClusterStageStarts | undefined {
  return options.stage === false ? undefined : options.stage;
}

/** `f`, called once: later calls return the first call's promise. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => p ??= f();
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}
