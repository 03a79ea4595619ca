/**
 * The actor hosts of a `troupe up`: one host owning every partition (the default), or with
 * `--hosts N` N hosts in up's process that share the partitions by lease (`troupe run
 * --partitions auto`'s hosts: journal in JetStream, snapshots in the KV store, input from
 * JetStream), so that the lease machinery shows on one machine: `troupe status` says who owns
 * what, and a host stopped hands its partitions to the others. The single host's incident stage
 * is up's own, beside it (up.ts); leased hosts run it under the lease `stage.incidents` as `troupe
 * run --partitions auto` hosts do (run_leased_incidents.ts): whichever holds the lease runs it, and
 * when that host is gone another takes it over from its snapshot and the findings stream.
 * The scan service runs on the single host only: leased hosts have none, and say so.
 */
import { join } from "node:path";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { HostKinds } from "./host_kinds.ts";
import { teamKindsOf } from "./kinds_module_file.ts";
import { scanHostService } from "../actors/scan/mod.ts";
import {
  FINDINGS_STREAM,
  type HostConfig,
  launchHost,
  launchLeasedHost,
  type LeasedHost,
  type LeaseSettings,
  leaseSettings,
} from "../actors/runtime/mod.ts";
import { type Bus, INCIDENT_STAGE_NAME, stageLeaseKey } from "../protocol/mod.ts";
import type { ClusterIncidents, StageHost } from "./run_incidents.ts";
import { type LeasedIncidents, startLeasedIncidents } from "./run_leased_incidents.ts";

/** The partitions N leased hosts share: eight, or one each when there are more hosts. */
export function upPartitionCount(hosts: number): number {
  return Math.max(8, hosts);
}

/** troupe up's running hosts, whichever kind. */
export interface UpHosts {
  /** What up prints about them, a line each (without the "troupe up: "). */
  lines: string[];
  /** The port of the first host's /healthz and /metrics (and its scans, on a single host). */
  httpPort: number | undefined;
  /** Whether the scan service runs (on the single host; not with --hosts). */
  scans: boolean;
  /** Where up's own incident stage registers its metrics: the single host's /metrics. */
  stageHost: StageHost;
  /**
   * The incident stage when the hosts run it themselves (with --hosts: under its lease, on the
   * host holding it); up runs its own otherwise.
   */
  incidents?: ClusterIncidents;
  /** Inputs applied since start, over every host (with --hosts, by the partitions held now). */
  applied(): number;
  /** Actor instances running now (recovered ones included). */
  instances(): number;
  /** Drains, snapshots and stops them (leased hosts hand their partitions off). */
  close(): Promise<void>;
}

/** What launching needs besides the first host's config. */
export interface UpHostsOptions {
  /** 1: one host owning every partition; N >= 2: N hosts sharing them by lease. */
  hosts: number;
  /** The in-process bus, when there is no NATS (a single host only). */
  bus?: Bus | undefined;
  /** Clock ticks every this many ms (0: none, while recording). */
  tickEveryMs?: number | undefined;
  /** The kinds they run; troupe's own by default. */
  kinds?: HostKinds;
}

/** Starts troupe up's hosts from `config`, the first host's (host_id up-1). */
export async function launchUpHosts(config: HostConfig, options: UpHostsOptions): Promise<UpHosts> {
  return options.hosts > 1
    ? await launchLeased(config, options)
    : await launchSingle(config, options);
}

async function launchSingle(config: HostConfig, options: UpHostsOptions): Promise<UpHosts> {
  const service = scanHostService();
  const ticks = options.tickEveryMs === undefined ? {} : { tickEveryMs: options.tickEveryMs };
  const team = options.kinds && teamKindsOf(options.kinds);
  const more = { service, ...ticks, ...(team ? { teamKinds: team } : {}) };
  const launched = await launchHost(
    config,
    options.kinds?.registry ?? ACTOR_KINDS,
    options.bus ? { bus: options.bus, ...more } : more,
  );
  const url = `http://127.0.0.1:${launched.host.httpPort}`;
  const where = config.journal.kind === "jetstream" ? "in JetStream" : "in " + config.data_dir;
  return {
    lines: [
      `host ${config.host_id} running ${Object.keys(config.actors).join(", ")} ` +
      `(journal ${where}); ${url}/healthz and /metrics; scans: troupe scan, or POST ` +
      `${url}/scan/stream`,
    ],
    httpPort: launched.host.httpPort,
    scans: true,
    stageHost: launched,
    applied: () => sum(launched.host.applied.values()),
    instances: () => launched.host.instances().length,
    close: () => launched.close(),
  };
}

async function launchLeased(first: HostConfig, options: UpHostsOptions): Promise<UpHosts> {
  const count = upPartitionCount(options.hosts);
  const leases = leaseSettings();
  const hosts: LeasedHost[] = [];
  const stages: LeasedIncidents[] = [];
  const stopStages = once(() => Promise.all(stages.map((s) => s.close())));
  try {
    for (let i = 1; i <= options.hosts; i++) {
      const id = `up-${i}`;
      const config: HostConfig & { partitions: { leases: LeaseSettings } } = {
        ...first,
        host_id: id,
        data_dir: join(first.data_dir, "..", id),
        input: "jetstream",
        journal: { ...first.journal, kind: "jetstream" },
        snapshots: { ...first.snapshots, store: "kv" },
        partitions: { count, owned: [], leases },
        // The first host has up's --http-port; the others a free port each (troupe status).
        http_port: i === 1 ? first.http_port : 0,
      };
      const ticks = options.tickEveryMs === undefined ? {} : { tickEveryMs: options.tickEveryMs };
      const host = await launchLeasedHost(config, options.kinds?.registry ?? ACTOR_KINDS, ticks);
      hosts.push(host);
      const log = (m: string) => console.log(`troupe up: ${id}: incidents: ${m}`);
      stages.push(await startLeasedIncidents(config, host, log));
    }
  } catch (err) {
    await stopStages().catch(() => {});
    await Promise.all(hosts.map((h) => h.close().catch(() => {})));
    throw err;
  }
  const partitions = () => hosts.flatMap((h) => [...h.partitions.values()]);
  // Counted over the partitions held when asked: kept at close, which stops them all.
  let appliedAtClose: number | undefined;
  const applied = () => appliedAtClose ?? sum(partitions().flatMap((h) => [...h.applied.values()]));
  const stageKey = stageLeaseKey(INCIDENT_STAGE_NAME);
  const ports = hosts.map((h, i) => `up-${i + 1} http://127.0.0.1:${h.httpPort}`).join(", ");
  return {
    lines: [
      `${hosts.length} hosts (up-1 to up-${hosts.length}) running ` +
      `${Object.keys(first.actors).join(", ")} share ${count} partitions by lease (TTL ` +
      `${leases.ttl_ms} ms; journal in JetStream, snapshots in the KV store): troupe status ` +
      `--nats ${first.nats} says who owns what; /healthz and /metrics: ${ports}`,
      `no scan service with --hosts (leased hosts run none): troupe scan needs a troupe up ` +
      `without --hosts`,
    ],
    httpPort: hosts[0]!.httpPort,
    scans: false,
    stageHost: { bus: hosts[0]!.bus, host: { metrics: { registry: hosts[0]!.registry } } },
    incidents: {
      line: `incidents: the cluster's stage runs on the host holding lease ${stageKey} (any ` +
        `of up-1 to up-${hosts.length} takes it when it is free, as troupe run --partitions ` +
        `auto hosts do); journaled in stream ${FINDINGS_STREAM}, troupe status says which host ` +
        `runs it`,
      // Refolded later, by whichever host claims the lease (it says how many).
      restored: 0,
      close: async () => void await stopStages(),
    },
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
