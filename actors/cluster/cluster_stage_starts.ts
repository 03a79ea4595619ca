/**
 * How a cluster's incident stage starts, one way for each kind of host, and troupe's own way,
 * which `startCluster` uses unless told otherwise: beside a host in this thread or on threads on
 * the host that owns partition 0 (with static ownership, exactly one host), its journal the
 * findings stream on NATS (cluster_incidents.ts); under its lease on leased hosts
 * (leased_incidents.ts); with alerting beside it wherever it runs (stage_alerting.ts).
 */
import type { HostConfig, HostServiceParts, LeasedHost, LeaseSettings } from "../runtime/mod.ts";
import { describeError } from "../runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import type { ClusterStage } from "./running_cluster.ts";
import {
  startClusterIncidents,
  startJournaledIncidents,
  startThreadedIncidents,
} from "./cluster_incidents.ts";
import { startLeasedIncidents } from "./leased_incidents.ts";

/** A host configuration that holds its partitions by lease. */
export type LeasedConfig = HostConfig & { partitions: { leases: LeaseSettings } };

/** The registry a stage registers its metrics on, as the host's /metrics serves it. */
export type StageRegistry = LeasedHost["registry"];

/**
 * How the cluster's incident stage starts, one way for each kind of host. Each resolves with the
 * stage, or undefined where this host does not run it (it does not own its partition).
 */
export interface ClusterStageStarts {
  /** Beside a host in this thread, on its bus, before it takes input. */
  host(config: HostConfig, parts: { bus: Bus; host: HostServiceParts["host"] }): Promise<
    ClusterStage | undefined
  >;
  /** Beside a host on threads, before it takes feeds; its metrics on the host's registry. */
  threaded(config: HostConfig, registry: StageRegistry): Promise<ClusterStage | undefined>;
  /** Under its lease, on a leased host (after it started). */
  leased(config: LeasedConfig, host: LeasedHost): Promise<ClusterStage | undefined>;
  /**
   * The stage's own bus, when it outlives the hosts' (troupe up's): the stage then stops after
   * the hosts, taking what they publish as they drain.
   */
  bus?: Bus;
}

/** Options of `incidentStageStarts`. */
export interface IncidentStageStartsOptions {
  /**
   * A bus of the stage's own that outlives the hosts' (troupe up's): the stage then runs on it
   * whatever the host owns, and stops after the hosts.
   */
  bus?: Bus;
  /** The command that names the stage's notices and errors (default "troupe run"). */
  command?: string;
  /** Where a leased host's stage notices go (default standard output, after the command). */
  leasedLog?: (config: LeasedConfig, message: string) => void;
}

/** troupe's own incident stage, as `troupe run` and `troupe up` start it. */
export function incidentStageStarts(options: IncidentStageStartsOptions = {}): ClusterStageStarts {
  const { bus } = options;
  const command = options.command ?? "troupe run";
  const leasedLog = options.leasedLog ??
    ((_: LeasedConfig, m: string) => console.log(`${command}: incidents: ${m}`));
  return {
    host: (config, parts) =>
      bus
        ? startJournaledIncidents(config, parts, { bus, command })
        : startClusterIncidents(config, parts),
    threaded: (config, registry) =>
      bus
        ? startJournaledIncidents(config, { bus, host: { metrics: { registry } } }, { command })
        : startThreadedIncidents(config, registry),
    // Under its lease: a host that cannot look for it runs on without it, and says so.
    leased: (config, host) =>
      startLeasedIncidents(config, host, (m) => leasedLog(config, m)).then(
        (stage) => ({ line: `incidents: ${stage.line}`, restored: 0, close: () => stage.close() }),
        (err) => {
          console.error(
            `${command}: cannot start the incident stage's lease: ${describeError(err)}`,
          );
          return undefined;
        },
      ),
    ...(bus ? { bus } : {}),
  };
}
