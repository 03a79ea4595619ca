/**
 * The incident stage of a `troupe run` cluster. The incidents are one fold of every finding of the
 * cluster, so exactly one host runs the stage: the host that owns partition 0 (with static
 * ownership one host does; a host of one partition, the default, always does). Its findings are
 * journaled under the host's data directory (`<data_dir>/incidents`, a file journal of its own,
 * apart from the actors' journal that recovery folds), and a restarted host refolds them before it
 * takes new ones, so the incidents open before the restart are open after it, with the same ids,
 * states and update numbers (incident_journal.ts). The journal is compacted as the actors' are: a
 * snapshot of the stage every `snapshots.every_inputs` findings in
 * `<data_dir>/incidents-snapshots`, and the sealed segments behind it deleted.
 */
import { join } from "node:path";
import {
  defaultIncidentConfig,
  type IncidentConfig,
  parseIncidentConfig,
  registerIncidentMetrics,
  runJournaledIncidentStage,
} from "../actors/incidents/mod.ts";
import {
  describeError,
  FileJournal,
  FileSnapshotStore,
  type HostConfig,
  MemoryJournal,
  NatsBus,
  type SnapshotStore,
} from "../actors/runtime/mod.ts";
import type { Registry } from "prom-client";
import type { Bus } from "../protocol/mod.ts";
import { type StageAlerting, startStageAlerting } from "./stage_alerting.ts";

/**
 * The stage journal's segment size: a finding is a few hundred bytes, so a segment holds some
 * thousands, and compaction (whole sealed segments behind the snapshot) keeps the journal small.
 */
export const INCIDENT_SEGMENT_BYTES = 1 << 20;

/** The partition whose owner runs the cluster's incident stage. */
export const INCIDENT_STAGE_PARTITION = 0;

/**
 * The stage's settings from the host config's `incidents` section over the defaults; throws a
 * ConfigError naming `incidents.<field>` and the value (`troupe run` checks it on loading).
 */
export function incidentConfigOf(config: HostConfig): IncidentConfig {
  return parseIncidentConfig(config.incidents, defaultIncidentConfig, "incidents");
}

/** A running cluster stage: a line saying so, and how to stop it. */
export interface ClusterIncidents {
  /** What `troupe run` prints about it. */
  line: string;
  /** Findings refolded from the stage's journal at start. */
  restored: number;
  close(): Promise<void>;
}

/** What the stage needs of the host it runs beside: its bus, and the registry of its /metrics. */
export interface StageHost {
  bus: Bus;
  host: { metrics: { registry: Registry } };
}

/** Where the stage runs when not on the host's own bus, and who reports its errors. */
export interface ClusterIncidentsOptions {
  /** The bus to take findings from and publish incidents on (default: the host's). */
  bus?: Bus;
  /** The command that names the stage's errors (default "troupe run"). */
  command?: string;
}

/** Starts the stage when this host owns partition 0; undefined when another host runs it. */
export async function startClusterIncidents(
  config: HostConfig,
  launched: StageHost,
  options: ClusterIncidentsOptions = {},
): Promise<ClusterIncidents | undefined> {
  if (!config.partitions.owned.includes(INCIDENT_STAGE_PARTITION)) return undefined;
  return await startJournaledIncidents(config, launched, options);
}

/**
 * Starts the stage on the main thread of a host on several threads (`troupe run --threads N`)
 * when it owns partition 0, as a one-thread host does: journaled in `<data_dir>/incidents` beside
 * the threads' directories, its metrics on the host's own registry (merged into /metrics). It has
 * a NATS connection of its own, so the findings it takes and the incidents it publishes do not
 * queue on the edge's socket behind the feed; closing the stage closes it.
 */
export async function startThreadedIncidents(
  config: HostConfig,
  registry: Registry,
): Promise<ClusterIncidents | undefined> {
  if (!config.partitions.owned.includes(INCIDENT_STAGE_PARTITION)) return undefined;
  const bus = await NatsBus.connect(config.nats!, {
    name: `${config.host_id}-incidents`,
    auth: config.nats_auth,
  });
  let stage: ClusterIncidents;
  try {
    stage = await startJournaledIncidents(config, { bus, host: { metrics: { registry } } });
  } catch (err) {
    await bus.close().catch(() => {});
    throw err;
  }
  return {
    ...stage,
    async close() {
      try {
        await stage.close();
      } finally {
        await bus.close().catch(() => {});
      }
    },
  };
}

/**
 * Starts the cluster's stage on this host whatever it owns (`troupe up` runs it beside its
 * hosts), journaled in `<data_dir>/incidents` and refolded from there first.
 */
export async function startJournaledIncidents(
  config: HostConfig,
  launched: StageHost,
  options: ClusterIncidentsOptions = {},
): Promise<ClusterIncidents> {
  const dir = join(config.data_dir, "incidents");
  const say = (err: unknown) =>
    console.error(
      `${options.command ?? "troupe run"}: the incident journal in ${dir}: ${describeError(err)}`,
    );
  // A host whose journal is in memory keeps nothing across restarts; neither does its stage.
  const memory = config.journal.kind === "memory";
  const journal = memory ? new MemoryJournal() : await FileJournal.open(dir, {
    fsync: config.journal.fsync,
    segmentBytesMax: INCIDENT_SEGMENT_BYTES,
  });
  let snapshots: SnapshotStore | undefined;
  let run;
  try {
    // Compacted like the actors' journals: a snapshot every snapshots.every_inputs findings.
    snapshots = memory ? undefined : await FileSnapshotStore.open(`${dir}-snapshots`, {
      onCorrupt: (info) => say(`snapshot ${info.where}: ${info.reason}; refolding the journal`),
    });
    run = await runJournaledIncidentStage(options.bus ?? launched.bus, {
      config: incidentConfigOf(config),
      journal,
      onError: say,
      ...(snapshots ? { snapshots } : {}),
      snapshotEveryFindings: config.snapshots.every_inputs,
    });
  } catch (err) {
    await journal.close().catch(() => {});
    await snapshots?.close().catch(() => {});
    throw err;
  }
  const unregister = registerIncidentMetrics(launched.host.metrics.registry, run.stage);
  let alerting: StageAlerting | undefined;
  try {
    alerting = await startStageAlerting(options.bus ?? launched.bus, run.stage, {
      config,
      ...(snapshots ? { store: snapshots } : {}),
      registry: launched.host.metrics.registry,
      log: (m) => console.error(`${options.command ?? "troupe run"}: alerting: ${m}`),
    });
  } catch (err) {
    await run.stop().catch(() => {});
    unregister();
    await journal.close().catch(() => {});
    await snapshots?.close().catch(() => {});
    throw err;
  }
  const open = run.stage.open().length;
  const where = options.command === undefined
    ? `this host runs the cluster's stage (it owns partition ${INCIDENT_STAGE_PARTITION})`
    : `${options.command} runs the cluster's stage`;
  return {
    line: `incidents: ${where}, journaled in ${dir}; ${run.restored} findings refolded` +
      (run.snapshotPos > 0 ? ` after the snapshot at ${run.snapshotPos}` : "") +
      `, ${open} incident${open === 1 ? "" : "s"} open` +
      (alerting ? `; ${alerting.line}` : ""),
    restored: run.restored,
    async close() {
      await alerting?.close();
      await run.stop();
      unregister();
      await journal.sync();
      await journal.close();
      await snapshots?.close();
    },
  };
}
