/**
 * The one incident stage a cluster runs, in every form: on the host that owns partition 0 with
 * static partitions, on whichever host holds the lease `stage.incidents` (stage_lease.ts), or over
 * a journal of its own where there is no findings stream (journaled_incident_stage.ts). Its journal
 * is the findings stream on NATS (`TROUPE_FINDINGS`, every finding the hosts publish on
 * `troupe.finding.<kind>.<channel>`), which outlives any host, or that own journal read as the
 * stream is (journal_finding_source.ts); its snapshots go to the snapshot store it is given, at the
 * journal position of the last finding they fold. A stage that starts (after a restart, or on a
 * host that took its lease over) restores the newest snapshot and reads the journal on from there,
 * so the findings published while no host ran it are taken, each once. The refold up to its
 * holder's published mark (published_mark.ts) publishes nothing (that holder published those
 * updates); the findings after the mark (taken in the holder's last moments, or published while
 * none ran) go out as updates of their own, and the findings after the journal's end at start are
 * taken live. A session's silence table sent to it is journaled too
 * (`troupe.finding.silences.<session>`) and held when the stage reads it back, in its place among
 * the findings, so a stage that takes over (or refolds after a restart) marks incidents silenced
 * as its holder did; its snapshots keep the tables. Under a lease its writes (updates, answers,
 * snapshots) go through the lease's fence, given by the caller as a fenced bus and store.
 */
import { type Bus, journaledSilencesSubject } from "../../protocol/mod.ts";
import {
  deadLetterOf,
  FINDINGS_STREAM,
  type FindingSource,
  type Journal,
  publishDeadLetter,
  type SnapshotStore,
} from "../runtime/mod.ts";
import { Compaction, INCIDENT_SNAPSHOT_EVERY_FINDINGS, refoldingStage } from "./stage_snapshots.ts";
import {
  INCIDENT_SRC,
  type IncidentStage,
  type IncidentStageOptions,
  readIncidentFinding,
  runIncidentStage,
} from "./incident_stage.ts";
import { PublishedMark } from "./published_mark.ts";

/** What the stage is given: its journal as a finding source, and where its snapshots go. */
export interface DurableIncidentStageOptions extends Omit<IncidentStageOptions, "publish"> {
  /** Its journal: the findings stream, or a journal of its own (journal_finding_source.ts). */
  source: FindingSource;
  /** Where its snapshots and published mark go (fenced by the lease, when it runs under one). */
  snapshots: SnapshotStore;
  /** Findings between two snapshots (default INCIDENT_SNAPSHOT_EVERY_FINDINGS). */
  snapshotEveryFindings?: number;
  /**
   * Called when a snapshot fails (the stage runs on). A finding whose body does not decode is
   * dead-lettered, naming its field and value, as the stage of `troupe run` does.
   */
  onError?: (err: unknown) => void;
  /**
   * Takes only the findings published from now on, refolding nothing (a host whose journal is in
   * memory keeps nothing across restarts; neither does its stage).
   */
  fresh?: boolean;
  /** The source's journal, where it is one the stage compacts (journal_finding_source.ts). */
  journal?: Pick<Journal, "sync" | "compact">;
}

/** A running stage rebuilt from its journal. */
export interface JournaledIncidentStage {
  stage: IncidentStage;
  /** Findings refolded from the journal at start (after the snapshot, when there was one). */
  restored: number;
  /** The journal position of the snapshot it started from, 0 without one. */
  snapshotPos: number;
  /** Stops taking findings; resolves once the findings taken are in a saved snapshot. */
  stop: () => Promise<void>;
}

/** The stage running: as a journaled one, and stopped at once when its lease (if any) is lost. */
export interface DurableIncidentStage extends JournaledIncidentStage {
  /**
   * Of the findings refolded at start, those whose updates it published: those after its holder's
   * published mark (published_mark.ts), taken in the gap while no host ran it.
   */
  republished: number;
  /** Resolves with the published mark written, once no write of it runs. */
  marked(): Promise<number>;
  /** Stops at once, saving nothing (the lease is lost: another host may hold it). */
  abandon(): Promise<void>;
}

/**
 * Rebuilds the stage from the newest snapshot and the journal after it, publishing nothing up to
 * its holder's published mark and the updates of the findings after it, then runs it on `bus` with
 * the journal's later findings.
 */
export async function runDurableIncidentStage(
  bus: Bus,
  options: DurableIncidentStageOptions,
): Promise<DurableIncidentStage> {
  const { source, snapshots, snapshotEveryFindings, onError, fresh, journal, ...stageOptions } =
    options;
  const refold = await refoldingStage(bus, stageOptions, fresh ? undefined : snapshots);
  const { stage } = refold;
  const end = await source.lastSeq();
  const snapshotPos = fresh ? end : refold.snapshotPos;
  // Up to here its holder published the updates; the refold publishes those after it.
  const quietTo = Math.max(snapshotPos, await PublishedMark.load(snapshots));
  const say = (err: unknown) => onError?.(err);
  const compacting = new Compaction(stage, journal ?? { sync: () => Promise.resolve() }, {
    snapshots,
    every: snapshotEveryFindings ?? INCIDENT_SNAPSHOT_EVERY_FINDINGS,
    onError: say,
  });
  const mark = new PublishedMark({ snapshots, flush: () => bus.flush(), onError: say }, quietTo);
  let restored = 0, republished = 0, pos = snapshotPos, caught = false;
  let caughtUp!: () => void;
  const ready = new Promise<void>((resolve) => (caughtUp = resolve));
  const take = (data: Uint8Array, seq: number, subject: string) => {
    pos = seq;
    if (refold.refolding() && seq > quietTo) refold.goLive();
    let f;
    try {
      f = readIncidentFinding(data);
    } catch (err) {
      // Dead-lettered when first taken live (a refold up to the mark does not repeat it).
      if (!refold.refolding()) deadLetter(bus, { subject, data, seq }, source.name, err);
    }
    if (f) stage.takeFinding(f);
    if (f || stage.takeRecord(data) !== undefined) compacting.taken(seq);
    if (!caught && f) {
      restored++;
      if (!refold.refolding()) republished++;
    }
    if (!refold.refolding()) mark.advance(seq);
    if (!caught && seq >= end) {
      caught = true;
      refold.goLive();
      caughtUp();
    }
  };
  if (end <= snapshotPos) {
    caught = true;
    refold.goLive();
    caughtUp();
  }
  const consumer = await source.consume(snapshotPos, take);
  await ready;
  const served = serveJournaled(bus, { ...stageOptions, stage });
  return {
    stage,
    restored,
    republished,
    snapshotPos,
    marked: () => mark.written(),
    stop: async () => {
      await consumer.stop();
      served.stop();
      await mark.written();
      mark.stop();
      await compacting.close(pos);
    },
    abandon: async () => {
      mark.stop();
      served.stop();
      await consumer.stop();
    },
  };
}

/**
 * Serves the stage's list and control on `bus`; a session's silence table goes into its journal,
 * to be held when read back, in its place among the findings (runDurableIncidentStage's take).
 */
function serveJournaled(
  bus: Bus,
  options: Parameters<typeof runIncidentStage>[1],
): ReturnType<typeof runIncidentStage> {
  return runIncidentStage(bus, {
    ...options,
    findings: false,
    recordSilences: (data, { envelope, control }) => {
      const subject = journaledSilencesSubject(control.session);
      bus.publish(subject, data, { headers: { "Nats-Msg-Id": envelope.id } });
      return true;
    },
  });
}

/** Dead-letters a journal record whose body does not decode, its id named by its sequence. */
function deadLetter(
  bus: Bus,
  record: { subject: string; data: Uint8Array; seq: number },
  source: string | undefined,
  err: unknown,
): void {
  const id = `${INCIDENT_SRC}:dlq:${source ?? FINDINGS_STREAM}:${record.seq}`;
  const meta = { id, src: INCIDENT_SRC };
  publishDeadLetter(bus, deadLetterOf(record, err, INCIDENT_SRC), {
    ...meta,
    ts: Date.now() * 1000,
  });
}
