/**
 * The incident stage of a `troupe run` cluster. The incidents are one fold of every finding of the
 * cluster, so exactly one host runs the stage: the host that owns partition 0 (with static
 * ownership one host does; a host of one partition, the default, always does). It needs no lease:
 * its one holder is fixed by the configuration, and a lease would make a host that restarts after
 * a kill wait out its own lease's TTL. On NATS the stage's journal is the findings stream
 * (`TROUPE_FINDINGS`), as a leased cluster's stage's is (durable_incident_stage.ts runs both): it
 * restores its snapshot from `<data_dir>/incidents-stage` and reads the stream on from there, so
 * the findings published while its host was down, or in flight when it was killed, are taken, each
 * once. On the in-process bus, which only this process sees (or on a NATS server without
 * JetStream), the same stage reads a journal of its own, `<data_dir>/incidents`, of what was
 * published on `troupe.finding.>` (journaled_incident_stage.ts). Either
 * way a restarted stage holds the incidents it held, with the same ids, states and update numbers,
 * and is compacted as the actors' journals are: a snapshot every `snapshots.every_inputs` findings.
 */
import { join } from "node:path";
import {
  defaultIncidentConfig,
  type IncidentConfig,
  type JournaledIncidentStage,
  parseIncidentConfig,
  registerIncidentMetrics,
  runDurableIncidentStage,
  runJournaledIncidentStage,
} from "../incidents/mod.ts";
import {
  describeError,
  FileJournal,
  FileSnapshotStore,
  FINDINGS_STREAM,
  type HostConfig,
  MemoryJournal,
  MemorySnapshotStore,
  NatsBus,
  openFindingsStream,
  type SnapshotStore,
} from "../runtime/mod.ts";
import type { Registry } from "prom-client";
import type { Bus } from "../../protocol/mod.ts";
import { type StageAlerting, startStageAlerting } from "./stage_alerting.ts";

/**
 * The stage journal's segment size: a finding is a few hundred bytes, so a segment holds some
 * thousands, and compaction (whole sealed segments behind the snapshot) keeps the journal small.
 */
export const INCIDENT_SEGMENT_BYTES = 1 << 20;

/** The partition whose owner runs the cluster's incident stage. */
export const INCIDENT_STAGE_PARTITION = 0;

/** Where, under the host's data directory, a stage on NATS keeps its snapshots. */
export const INCIDENT_STAGE_DIR = "incidents-stage";

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
 * hosts). On NATS its journal is the findings stream, as a leased cluster's stage's is, with its
 * snapshots in `<data_dir>/incidents-stage`; on the in-process bus it journals what it takes in
 * `<data_dir>/incidents`. Either way it is rebuilt from its journal before it takes anything new.
 */
export async function startJournaledIncidents(
  config: HostConfig,
  launched: StageHost,
  options: ClusterIncidentsOptions = {},
): Promise<ClusterIncidents> {
  const bus = options.bus ?? launched.bus;
  // A NATS server without JetStream has no stream: the stage journals in a file, as on the
  // in-process bus (a kill may then lose a finding in flight, docs/incidents.md).
  const started = bus instanceof NatsBus && bus.nc.info?.jetstream === true
    ? await startStreamStage(config, bus, options)
    : await startFileStage(config, bus, options);
  const { run } = started;
  const command = options.command ?? "troupe run";
  const unregister = registerIncidentMetrics(launched.host.metrics.registry, run.stage);
  let alerting: StageAlerting | undefined;
  try {
    alerting = await startStageAlerting(bus, run.stage, {
      config,
      ...(started.snapshots ? { store: started.snapshots } : {}),
      registry: launched.host.metrics.registry,
      log: (m) => console.error(`${command}: alerting: ${m}`),
    });
  } catch (err) {
    await run.stop().catch(() => {});
    unregister();
    await started.close().catch(() => {});
    throw err;
  }
  const open = run.stage.open().length;
  const where = options.command === undefined
    ? `this host runs the cluster's stage (it owns partition ${INCIDENT_STAGE_PARTITION})`
    : `${options.command} runs the cluster's stage`;
  return {
    line: `incidents: ${where}, journaled in ${started.journal}; ${run.restored} findings ` +
      `refolded` + (run.snapshotPos > 0 ? ` after the snapshot at ${run.snapshotPos}` : "") +
      `, ${open} incident${open === 1 ? "" : "s"} open` +
      (alerting ? `; ${alerting.line}` : ""),
    restored: run.restored,
    async close() {
      await alerting?.close();
      await run.stop();
      unregister();
      await started.close();
    },
  };
}

/** A stage started on its journal: what it is, where its journal and snapshots are. */
interface StartedStage {
  run: JournaledIncidentStage;
  /** Where its journal is, as the line says it. */
  journal: string;
  snapshots: SnapshotStore | undefined;
  /** Closes its journal and snapshot store, once the stage stopped. */
  close(): Promise<void>;
}

/**
 * The stage on NATS: the findings stream is its journal (every host reaching JetStream makes it
 * and sends each finding until it has it), so a kill of this process loses no finding: the
 * restarted stage reads on from its snapshot, and the findings its host publishes again as it
 * catches up are passed over by id.
 */
async function startStreamStage(
  config: HostConfig,
  bus: NatsBus,
  options: ClusterIncidentsOptions,
): Promise<StartedStage> {
  const dir = join(config.data_dir, INCIDENT_STAGE_DIR);
  const say = stageErrors(options, `the incident stage (snapshots in ${dir})`);
  const source = await openFindingsStream(bus.nc, { replicas: config.replicas });
  // A host whose journal is in memory keeps nothing across restarts; neither does its stage.
  const memory = config.journal.kind === "memory";
  const snapshots = memory ? new MemorySnapshotStore() : await FileSnapshotStore.open(dir, {
    onCorrupt: (info) => say(`snapshot ${info.where}: ${info.reason}; refolding the stream`),
  });
  try {
    const run = await runDurableIncidentStage(bus, {
      config: incidentConfigOf(config),
      source,
      snapshots,
      snapshotEveryFindings: config.snapshots.every_inputs,
      onError: say,
      ...(memory ? { fresh: true } : {}),
    });
    return { run, journal: `stream ${FINDINGS_STREAM}`, snapshots, close: () => snapshots.close() };
  } catch (err) {
    await snapshots.close().catch(() => {});
    throw err;
  }
}

/**
 * The stage on the in-process bus, which only this process sees: its journal is a file journal
 * of its own, `<data_dir>/incidents`, of what is published on `troupe.finding.>`.
 */
async function startFileStage(
  config: HostConfig,
  bus: Bus,
  options: ClusterIncidentsOptions,
): Promise<StartedStage> {
  const dir = join(config.data_dir, "incidents");
  const say = stageErrors(options, `the incident journal in ${dir}`);
  const memory = config.journal.kind === "memory";
  const journal = memory ? new MemoryJournal() : await FileJournal.open(dir, {
    fsync: config.journal.fsync,
    segmentBytesMax: INCIDENT_SEGMENT_BYTES,
  });
  let snapshots: SnapshotStore | undefined;
  try {
    // Compacted like the actors' journals: a snapshot every snapshots.every_inputs findings.
    snapshots = memory ? undefined : await FileSnapshotStore.open(`${dir}-snapshots`, {
      onCorrupt: (info) => say(`snapshot ${info.where}: ${info.reason}; refolding the journal`),
    });
    const run = await runJournaledIncidentStage(bus, {
      config: incidentConfigOf(config),
      journal,
      onError: say,
      ...(snapshots ? { snapshots } : {}),
      snapshotEveryFindings: config.snapshots.every_inputs,
    });
    const store = snapshots;
    return {
      run,
      journal: dir,
      snapshots,
      close: async () => {
        await journal.sync();
        await journal.close();
        await store?.close();
      },
    };
  } catch (err) {
    await journal.close().catch(() => {});
    await snapshots?.close().catch(() => {});
    throw err;
  }
}

/** How the stage's errors are said: the command, the part, the error. */
function stageErrors(options: ClusterIncidentsOptions, part: string): (err: unknown) => void {
  const command = options.command ?? "troupe run";
  return (err) => console.error(`${command}: ${part}: ${describeError(err)}`);
}
