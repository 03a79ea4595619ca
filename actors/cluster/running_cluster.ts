/**
 * A started cluster's handle: what runs (hosts, stage, receiver), what stopped it unasked, and
 * its one drain and stop, bounded in time so that a host that cannot reach NATS does not hold the
 * process forever.
 */
import {
  describeError,
  type HostConfig,
  type HostFatalError,
  type LeasedHost,
} from "../runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import type { StartedReceiver } from "./start_receiver.ts";

/** How long a cluster's hosts may take to drain and stop before `close` gives up on them. */
export const CLUSTER_CLOSE_MS = 10_000;

/** A running incident stage: a line saying so, and how to stop it. */
export interface ClusterStage {
  /** What a command prints about it. */
  line: string;
  /** Findings refolded from the stage's journal at start (0 where another host refolds them). */
  restored: number;
  close(): Promise<void>;
}

/** What the start of one kind of host hands to the handle. */
export interface StartedHosts {
  kind: "host" | "threads" | "leased";
  configs: readonly HostConfig[];
  /** The bus of a host in this thread; none for threads and leased hosts (each their own). */
  bus: Bus | undefined;
  stage: ClusterStage | undefined;
  fatal: Promise<HostFatalError>;
  httpPorts: Array<number | undefined>;
  threads?: number;
  leased?: LeasedHost[];
  registry: LeasedHost["registry"];
  applied(): number;
  instances(): number;
  close(): Promise<void>;
}

/** A running cluster. */
export interface RunningCluster {
  /** A host in this thread, a host on threads, or hosts holding partitions by lease. */
  kind: StartedHosts["kind"];
  /** The hosts' configurations (one, but for several leased hosts in this process). */
  configs: readonly HostConfig[];
  /** The bus of a host in this thread (undefined otherwise). */
  bus: Bus | undefined;
  /** Each host's HTTP port (/healthz, /metrics; the scans on a host running them). */
  httpPorts: Array<number | undefined>;
  /** The threads of a host on threads. */
  threads: number | undefined;
  /** The leased hosts, for what they hold. */
  leased: readonly LeasedHost[];
  /** The registry of the first host's /metrics. */
  registry: LeasedHost["registry"];
  /** The incident stage, where this cluster runs it. */
  stage: ClusterStage | undefined;
  /** The metrics receiver, where the configuration has a `remote_write` block. */
  receiver: StartedReceiver | undefined;
  /** Resolves with the error that stopped a host or the receiver unasked (never rejects). */
  fatal: Promise<Error>;
  /** Inputs applied since start, over every host. */
  applied(): number;
  /** Actor instances running now (recovered ones included). */
  instances(): number;
  /**
   * Drains and stops it all: the receiver, then the stage and the hosts (the hosts first when
   * the stage has a bus of its own, so that it takes what they publish as they drain). False
   * when the hosts did not stop within `timeoutMs` (default CLUSTER_CLOSE_MS; Infinity: no
   * bound).
   */
  close(timeoutMs?: number): Promise<boolean>;
}

/** The handle over `started`. */
export function clusterOf(
  started: StartedHosts,
  parts: {
    receiver: StartedReceiver | undefined;
    log: (message: string) => void;
    /** The stage's own bus, which outlives the hosts' (the stage then stops after them). */
    stageBus: Bus | undefined;
  },
): RunningCluster {
  const { receiver, log } = parts;
  const stage = started.stage;
  const closeStage = async () => {
    await stage?.close().catch((err) =>
      log(`while stopping the incident stage: ${describeError(err)}`)
    );
  };
  const fatals: Array<Promise<Error>> = [started.fatal];
  if (receiver) fatals.push(receiver.fatal);
  let closing: Promise<boolean> | undefined;
  return {
    kind: started.kind,
    configs: started.configs,
    bus: started.bus,
    httpPorts: started.httpPorts,
    threads: started.threads,
    leased: started.leased ?? [],
    registry: started.registry,
    stage,
    receiver,
    fatal: Promise.race(fatals),
    applied: () => started.applied(),
    instances: () => started.instances(),
    close(timeoutMs = CLUSTER_CLOSE_MS) {
      closing ??= (async () => {
        await receiver?.close();
        const bus = parts.stageBus;
        // A host that closes the bus it opened takes a stage on that bus with it: such a stage
        // stops first (leased hosts' shares too, so that none claims a lease another released).
        if (bus === undefined) return await closeWithin(started, timeoutMs, log, closeStage);
        await bus.flush().catch(() => {});
        const closed = await closeWithin(started, timeoutMs, log);
        await bus.flush().catch(() => {});
        await closeStage();
        return closed;
      })();
      return closing;
    },
  };
}

/** Closes the hosts (`before` first); false when they did not finish within `ms`. */
async function closeWithin(
  hosts: { close(): Promise<void> },
  ms: number,
  log: (message: string) => void,
  before: () => Promise<void> = async () => {},
): Promise<boolean> {
  const done = before().then(() => hosts.close()).then(() => true, (err) => {
    log(`while stopping: ${describeError(err)}`);
    return true;
  });
  if (!Number.isFinite(ms)) return await done;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const closed = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return closed;
}
