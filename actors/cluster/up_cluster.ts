/**
 * troupe up's cluster, the preset of `startCluster` it runs: one host owning
 * every partition (the default); with NATS and a file journal that host on `--threads N` worker
 * threads, a partition each; or with `--hosts N` N hosts in up's process sharing the partitions by
 * lease (`troupe run --partitions auto`'s hosts: journal in JetStream, snapshots in the KV store,
 * input from JetStream), so that the lease machinery shows on one machine. The incident stage is
 * up's own, on up's bus (incidentStageStarts); with --hosts each host runs it
 * under its lease, as `troupe run --partitions auto` hosts do. The scan service runs on a host of
 * up's own only: leased hosts have none, and say so.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  type ClusterStageStarts,
  incidentStageStarts,
  type LeasedConfig,
} from "./cluster_stage_starts.ts";
import { type HostKinds, kindsModuleUrl, teamOf } from "./kinds/mod.ts";
import type { RunningCluster } from "./running_cluster.ts";
import { ClusterStartError, startCluster } from "./start_cluster.ts";
import { scanHostService } from "../scan/mod.ts";
import {
  describeError,
  FINDINGS_STREAM,
  type HostConfig,
  leaseSettings,
  type NatsServer,
  threadsOf,
} from "../runtime/mod.ts";
import { type Bus, INCIDENT_STAGE_NAME, stageLeaseKey } from "../../protocol/mod.ts";

/** The partitions N leased hosts share: eight, or one each when there are more hosts. */
export function upPartitionCount(hosts: number): number {
  return Math.max(8, hosts);
}

/** What troupe up's feed and dashboard need of its running cluster. */
export interface UpHosts {
  /** The port of the first host's /healthz and /metrics (and its scans, where it runs them). */
  httpPort: number | undefined;
  /** Whether the scan service runs (on up's own host; not with --hosts). */
  scans: boolean;
  /** Inputs applied since start, over every host. */
  applied(): number;
}

/** How troupe up's cluster runs. */
export interface UpClusterOptions {
  /** 1: one host owning every partition; N >= 2: N hosts sharing them by lease. */
  hosts: number;
  /** The threads of the one host (1: it runs in up's thread). */
  threads: number;
  /** up's bus: its incident stage's, and the host's when there is no NATS. */
  bus: Bus;
  nats: NatsServer | undefined;
  /** Clock ticks every this many ms (0: none). */
  tickEveryMs?: number | undefined;
  kinds: HostKinds;
}

/** Starts troupe up's cluster from `config`, the first host's (host_id up-1); a string: why not. */
export async function startUpCluster(
  config: HostConfig,
  options: UpClusterOptions,
): Promise<RunningCluster | string> {
  const { hosts, threads, bus } = options;
  try {
    return await startCluster(hosts > 1 ? leasedConfigs(config, hosts) : config, {
      kinds: options.kinds.registry,
      threads,
      ...(threads > 1 ? { kindsModule: kindsModuleUrl(options.kinds) } : {}),
      ...teamOf(options.kinds),
      ...(options.nats ? {} : { bus }),
      ...(options.tickEveryMs === undefined ? {} : { tickEveryMs: options.tickEveryMs }),
      service: scanHostService(),
      stage: upStage(bus, hosts),
      log: (m) => console.error(`troupe up: ${m}`),
    });
  } catch (err) {
    // One line naming the cause and the value (the port, the file, the other process id).
    if (err instanceof ClusterStartError && err.part === "the incident stage") {
      return `cannot start the incident stage: ${describeError(err.cause)}`;
    }
    const cause = err instanceof ClusterStartError ? err.cause : err;
    return `cannot start the host${hosts > 1 ? "s" : ""}: ${describeError(cause)}`;
  }
}

/**
 * up's own stage: with one host, on up's bus, its snapshots (and on the in-process bus its
 * journal) under <data-dir>/up-1 so that a troupe up started again on the data directory has the
 * incidents open before it (same ids, states and members), stopping after the hosts to take what
 * they publish as they drain; with --hosts, under its lease on whichever host holds it.
 */
function upStage(bus: Bus, hosts: number): ClusterStageStarts {
  const command = "troupe up";
  if (hosts > 1) {
    return incidentStageStarts({
      command,
      leasedLog: (config, m) => console.log(`${command}: ${config.host_id}: incidents: ${m}`),
    });
  }
  return incidentStageStarts({ bus, command });
}

/** The configurations of N leased hosts up-1 to up-N, derived from the first host's. */
function leasedConfigs(first: HostConfig, hosts: number): LeasedConfig[] {
  const count = upPartitionCount(hosts);
  const leases = leaseSettings();
  return Array.from({ length: hosts }, (_, i) => {
    const id = `up-${i + 1}`;
    return {
      ...first,
      host_id: id,
      data_dir: join(first.data_dir, "..", id),
      input: "jetstream",
      journal: { ...first.journal, kind: "jetstream" },
      snapshots: { ...first.snapshots, store: "kv" },
      partitions: { count, owned: [], leases },
      // The first host has up's --http-port; the others a free port each (troupe status).
      http_port: i === 0 ? first.http_port : 0,
    };
  });
}

/** What the feed and the dashboard need of `cluster`. */
export function upHostsOf(cluster: RunningCluster): UpHosts {
  const config = cluster.configs[0]!;
  return {
    httpPort: cluster.httpPorts[0],
    scans: cluster.kind !== "leased" && "bars" in config.actors,
    applied: () => cluster.applied(),
  };
}

/** What up prints about its cluster, a line each (without the "troupe up: "). */
export function upClusterLines(cluster: RunningCluster): string[] {
  const config = cluster.configs[0]!;
  const url = `http://127.0.0.1:${cluster.httpPorts[0]}`;
  const kinds = Object.keys(config.actors).join(", ");
  const scans = upHostsOf(cluster).scans ? `; scans: troupe scan, or POST ${url}/scan/stream` : "";
  if (cluster.kind === "host") {
    const where = config.journal.kind === "jetstream" ? "in JetStream" : "in " + config.data_dir;
    return [
      `host ${config.host_id} running ${kinds} (journal ${where}); ${url}/healthz and /metrics` +
      scans,
      `${cluster.stage?.line}`,
    ];
  }
  if (cluster.kind === "threads") {
    return [
      `host ${config.host_id} running ${kinds} on ${cluster.threads} threads ` +
      `(partition p on thread p mod ${cluster.threads}; journals in ${config.data_dir}/` +
      `thread-<i>); ${url}/healthz and /metrics${scans}`,
      `${cluster.stage?.line}`,
    ];
  }
  const n = cluster.configs.length;
  const ports = cluster.httpPorts.map((p, i) => `up-${i + 1} http://127.0.0.1:${p}`).join(", ");
  return [
    `${n} hosts (up-1 to up-${n}) running ${kinds} share ${config.partitions.count} partitions ` +
    `by lease (TTL ${config.partitions.leases?.ttl_ms} ms; journal in JetStream, snapshots in ` +
    `the KV store): troupe status --nats ${config.nats} says who owns what; /healthz and ` +
    `/metrics: ${ports}`,
    `no scan service with --hosts (leased hosts run none): troupe scan needs a troupe up ` +
    `without --hosts`,
    `incidents: the cluster's stage runs on the host holding lease ` +
    `${stageLeaseKey(INCIDENT_STAGE_NAME)} (any of up-1 to up-${n} takes it when it is free, as ` +
    `troupe run --partitions auto hosts do); journaled in stream ${FINDINGS_STREAM}, troupe ` +
    `status says which host runs it`,
  ];
}

/**
 * The threads up's host runs on: --threads, else what its data directory was written by, else
 * the machine's cores less one (at least one); one for leased hosts, a JetStream journal, the
 * in-process bus or a one-thread host's directory. (--threads 2 without nats-server stopped up
 * before it started one.)
 */
export function upThreads(
  o: { threads: number | undefined; hosts: number; journal: string; dataDir: string },
  nats: NatsServer | undefined,
): number {
  if (o.threads !== undefined) return o.threads;
  if (o.hosts > 1 || o.journal === "jetstream" || !nats) return 1;
  const dir = join(o.dataDir, "up-1");
  const was = threadsOf(dir);
  if (was !== undefined) return was;
  return existsSync(join(dir, "journal")) ? 1 : Math.max(1, availableParallelism() - 1);
}
