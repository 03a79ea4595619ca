/**
 * The incident stage of a leased cluster, on whichever host holds its lease (`stage.incidents`,
 * stage_lease.ts). Its journal is the findings stream (`TROUPE_FINDINGS`, every finding the hosts
 * publish on `troupe.finding.<kind>.<channel>`), which outlives any host, and its snapshots go to
 * the cluster's snapshot store, at the stream sequence of the last finding they fold: a new holder
 * restores the newest snapshot and reads the stream on from there, so the findings published while
 * the stage moved (its holder died, the lease expired, another claimed it) are taken, each once.
 * The refold up to the stream's last finding at start publishes nothing (its holder before
 * published those updates); the findings after it are taken live, as the stage of `troupe run`
 * takes them from the bus. A session's silence table sent to it is journaled in the stream too
 * (`troupe.finding.silences.<session>`) and held when the stage reads it back, in its place among
 * the findings, so a stage that takes over (or refolds after a restart) marks incidents silenced
 * as its holder did; its snapshots keep the tables. Its writes (updates, answers, snapshots) go
 * through the lease's fence, given by the caller as a fenced bus and store.
 */
import { type Bus, journaledSilencesSubject } from "../../protocol/mod.ts";
import {
  deadLetterOf,
  FINDINGS_STREAM,
  type FindingSource,
  publishDeadLetter,
  type SnapshotStore,
} from "../runtime/mod.ts";
import {
  Compaction,
  INCIDENT_SNAPSHOT_EVERY_FINDINGS,
  type JournaledIncidentStage,
  refoldingStage,
} from "./incident_journal.ts";
import {
  INCIDENT_SRC,
  type IncidentStageOptions,
  readIncidentFinding,
  runIncidentStage,
} from "./incident_stage.ts";

/** What a leased stage is given. */
export interface LeasedIncidentStageOptions extends Omit<IncidentStageOptions, "publish"> {
  /** The findings stream. */
  source: FindingSource;
  /** The cluster's snapshot store, fenced by the stage's lease. */
  snapshots: SnapshotStore;
  /** Findings between two snapshots (default INCIDENT_SNAPSHOT_EVERY_FINDINGS). */
  snapshotEveryFindings?: number;
  /**
   * Called when a snapshot fails (the stage runs on). A finding whose body does not decode is
   * dead-lettered, naming its field and value, as the stage of `troupe run` does.
   */
  onError?: (err: unknown) => void;
}

/** A leased stage running: as a journaled one, and stopped at once when its lease is lost. */
export interface LeasedIncidentStage extends JournaledIncidentStage {
  /** Stops at once, saving nothing (the lease is lost: another host may hold it). */
  abandon(): Promise<void>;
}

/**
 * Rebuilds the stage from the newest snapshot and the stream after it (publishing nothing up to
 * the stream's last finding at start), then runs it on `bus` with the stream's later findings.
 */
export async function runLeasedIncidentStage(
  bus: Bus,
  options: LeasedIncidentStageOptions,
): Promise<LeasedIncidentStage> {
  const { source, snapshots, snapshotEveryFindings, onError, ...stageOptions } = options;
  const refold = await refoldingStage(bus, stageOptions, snapshots);
  const { stage, snapshotPos } = refold;
  const end = await source.lastSeq();
  const compacting = new Compaction(stage, { sync: () => Promise.resolve() }, {
    snapshots,
    every: snapshotEveryFindings ?? INCIDENT_SNAPSHOT_EVERY_FINDINGS,
    onError: (err) => onError?.(err),
  });
  let restored = 0, pos = snapshotPos;
  let caughtUp!: () => void;
  const ready = new Promise<void>((resolve) => (caughtUp = resolve));
  const take = (data: Uint8Array, seq: number, subject: string) => {
    pos = seq;
    let f;
    try {
      f = readIncidentFinding(data);
    } catch (err) {
      // Dead-lettered once, when first taken live (a refold by the next holder does not repeat it).
      if (!refold.refolding()) {
        const meta = { id: `${INCIDENT_SRC}:dlq:${FINDINGS_STREAM}:${seq}`, src: INCIDENT_SRC };
        publishDeadLetter(bus, deadLetterOf({ subject, data }, err, INCIDENT_SRC), {
          ...meta,
          ts: Date.now() * 1000,
        });
      }
    }
    if (f) {
      stage.takeFinding(f);
      if (refold.refolding()) restored++;
      compacting.taken(seq);
    } else if (stage.takeRecord(data) === "silences") {
      compacting.taken(seq);
    }
    if (refold.refolding() && seq >= end) {
      refold.goLive();
      caughtUp();
    }
  };
  if (end <= snapshotPos) {
    refold.goLive();
    caughtUp();
  }
  const consumer = await source.consume(snapshotPos, take);
  await ready;
  const served = runIncidentStage(bus, {
    ...stageOptions,
    stage,
    findings: false,
    // Held when read back from the stream, in its place among the findings (take, above).
    recordSilences: (data, { envelope, control }) => {
      const subject = journaledSilencesSubject(control.session);
      bus.publish(subject, data, { headers: { "Nats-Msg-Id": envelope.id } });
      return true;
    },
  });
  return {
    stage,
    restored,
    snapshotPos,
    stop: async () => {
      await consumer.stop();
      served.stop();
      await compacting.close(pos);
    },
    abandon: async () => {
      served.stop();
      await consumer.stop();
    },
  };
}
