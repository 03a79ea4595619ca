/**
 * troupe up's host on several threads (`troupe up --threads N`): the threaded host `troupe run
 * --threads N` runs (actors/runtime/threaded/threaded_host.ts), its partitions one a thread,
 * every thread a scan worker for its partitions' bars and thread 0 the scan API, all behind the
 * one HTTP port. The incident stage up runs beside it registers its metrics on the host's own
 * registry, merged into /metrics with the threads'.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  type HostConfig,
  type NatsServer,
  ThreadedHost,
  threadsOf,
} from "../actors/runtime/mod.ts";
import type { Bus } from "../protocol/mod.ts";
import type { UpHosts } from "./up_hosts.ts";
import { ACTOR_KINDS_MODULE } from "../actors/mod.ts";
import type { HostKinds } from "./host_kinds.ts";
import { kindsModuleUrl } from "./kinds_module_file.ts";

/** Why `troupe up --threads N` cannot go with the other options, or undefined when it can. */
export function threadsRefused(
  threads: number | undefined,
  o: { hosts: number; journal: "file" | "jetstream"; noNats: boolean },
): string | undefined {
  if (threads === undefined || threads === 1) return undefined;
  if (o.hosts > 1) {
    return `it cannot go with --hosts ${o.hosts} (leased hosts hold their partitions a host each)`;
  }
  if (o.journal === "jetstream") {
    return `a thread keeps its journal in a directory of its own: it needs --journal file, got ` +
      `"jetstream"`;
  }
  if (o.noNats) return "its threads connect to NATS: it cannot go with --no-nats";
  return undefined;
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

/** Options of launchThreadedUp. */
export interface ThreadedUpOptions {
  /** The threads, 2 or more (at most one a partition of `config`). */
  threads: number;
  /** The bus up's incident stage runs on. */
  bus: Bus;
  /** Clock ticks every this many ms (0: none, while recording). */
  tickEveryMs?: number | undefined;
  /** The kinds it runs; troupe's own by default. */
  kinds?: HostKinds;
}

/** Starts troupe up's host (host_id up-1) on several threads from `config`. */
export async function launchThreadedUp(
  config: HostConfig,
  options: ThreadedUpOptions,
): Promise<UpHosts> {
  const host = await ThreadedHost.start(config, options.threads, {
    kinds: options.kinds ? kindsModuleUrl(options.kinds) : ACTOR_KINDS_MODULE,
    scans: "bars" in config.actors,
    ...(options.tickEveryMs === undefined ? {} : { tickEveryMs: options.tickEveryMs }),
  });
  const url = `http://127.0.0.1:${host.httpPort}`;
  const kinds = Object.keys(config.actors);
  const scans = "bars" in config.actors;
  return {
    lines: [
      `host ${config.host_id} running ${kinds.join(", ")} on ${host.threads} threads ` +
      `(partition p on thread p mod ${host.threads}; journals in ${config.data_dir}/thread-<i>); ` +
      `${url}/healthz and /metrics` +
      (scans ? `; scans: troupe scan, or POST ${url}/scan/stream` : ""),
    ],
    httpPort: host.httpPort,
    scans,
    stageHost: { bus: options.bus, host: { metrics: { registry: host.registry } } },
    applied: () => kinds.reduce((n, k) => n + host.applied(k), 0),
    instances: () => {
      const i = host.health().instances;
      return i.recovering + i.running + i.backoff + i.stopped;
    },
    close: () => host.close(),
  };
}
