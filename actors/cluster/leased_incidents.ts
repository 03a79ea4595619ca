/**
 * The incident stage of a `troupe run --partitions auto` cluster (hosts sharing partitions by
 * lease). Exactly one host runs it: the one holding the lease `stage.incidents` in the lease bucket
 * (stage_lease.ts), claimed, renewed and fenced as a partition's. Every leased host opens the
 * findings stream `TROUPE_FINDINGS` (the stage's journal, every finding the hosts publish on
 * `troupe.finding.<kind>.<channel>`) and looks for the lease each heartbeat; when its holder dies
 * the lease expires and another host claims it, restores the stage's snapshot from the cluster's
 * KV store and reads the stream on from there (durable_incident_stage.ts). SIGTERM stops the stage,
 * saves its snapshot and releases the lease, so another host takes it over at its next heartbeat.
 * The host's /metrics says whether it runs the stage and counts its claims and takeovers.
 */
import {
  INCIDENT_JOURNAL_STREAM,
  registerIncidentMetrics,
  runDurableIncidentStage,
} from "../incidents/mod.ts";
import {
  describeError,
  FINDINGS_STREAM,
  type HostConfig,
  KvSnapshotStore,
  LeaseBucket,
  type LeasedHost,
  type LeaseSettings,
  type NatsBus,
  openFindingsStream,
  registerStageLeaseMetrics,
  StageLeaseKeeper,
} from "../runtime/mod.ts";
import { INCIDENT_STAGE_NAME, stageLeaseKey } from "../../protocol/mod.ts";
import { incidentConfigOf } from "./cluster_incidents.ts";
import { startStageAlerting } from "./stage_alerting.ts";

/** The incident stage's share of a leased host: a line saying so, and how to stop it. */
export interface LeasedIncidents {
  /** What `troupe run` prints about it. */
  line: string;
  /** Stops the stage if this host runs it (saving its snapshot) and releases its lease. */
  close(): Promise<void>;
}

/**
 * Opens the findings stream and starts looking for the stage's lease; the stage starts on this
 * host whenever it claims the lease. `log` says each change (claimed, recovered, released, lost).
 */
export async function startLeasedIncidents(
  config: HostConfig & { partitions: { leases: LeaseSettings } },
  launched: LeasedHost,
  log: (message: string) => void = (m) => console.log(`troupe run: incidents: ${m}`),
): Promise<LeasedIncidents> {
  const incidents = incidentConfigOf(config);
  const nc = (launched.bus as NatsBus).nc;
  const source = await openFindingsStream(nc, { replicas: config.replicas });
  const say = (err: unknown) => log(`error: ${describeError(err)}`);
  const snapshots = await KvSnapshotStore.open(nc, {
    onCorrupt: (info) => say(`snapshot ${info.where}: ${info.reason}; refolding the stream`),
  });
  const bucket = await LeaseBucket.open(nc, { ttlMs: config.partitions.leases.ttl_ms });
  const keeper = new StageLeaseKeeper({
    stage: INCIDENT_STAGE_NAME,
    hostId: config.host_id,
    bucket,
    heartbeatMs: config.partitions.leases.heartbeat_ms,
    log,
    start: async (fence) => {
      const run = await runDurableIncidentStage(fence.bus(launched.bus), {
        config: incidents,
        source,
        snapshots: fence.snapshots(snapshots),
        snapshotEveryFindings: config.snapshots.every_inputs,
        onError: say,
      });
      const unregister = registerIncidentMetrics(launched.registry, run.stage);
      // The sender moves with the stage: its outboxes are in the KV store, behind the fence.
      const alerting = await startStageAlerting(fence.bus(launched.bus), run.stage, {
        config,
        store: fence.snapshots(snapshots),
        registry: launched.registry,
        log: (m) => log(`alerting: ${m}`),
        labelsBus: launched.bus, // only read: no need of the fence
      }).catch(async (err) => {
        await run.stop();
        unregister();
        throw err;
      });
      const open = run.stage.open().length;
      log(
        `this host runs the cluster's stage (epoch ${fence.epoch}); ${run.restored} findings ` +
          `refolded from ${FINDINGS_STREAM}` +
          (run.snapshotPos > 0 ? ` after the snapshot at ${run.snapshotPos}` : "") +
          (run.republished > 0 ? ` (the updates of ${run.republished} published now)` : "") +
          `, ${open} incident${open === 1 ? "" : "s"} open` +
          (alerting ? `; ${alerting.line}` : ""),
      );
      return {
        stop: async () => {
          await alerting?.close();
          await run.stop();
          unregister();
        },
        abandon: async () => {
          await alerting?.abandon().catch(() => {});
          await run.abandon();
          unregister();
        },
      };
    },
  });
  registerStageLeaseMetrics(launched.registry, keeper, INCIDENT_STAGE_NAME);
  keeper.start();
  return {
    line:
      `the cluster's stage runs on the host holding lease ${
        stageLeaseKey(INCIDENT_STAGE_NAME)
      }, journaled in stream ${FINDINGS_STREAM}, snapshots as ${INCIDENT_JOURNAL_STREAM} in the ` +
      `KV store; this host takes it when it is free`,
    async close() {
      await keeper.stop();
      await snapshots.close().catch(() => {});
    },
  };
}
