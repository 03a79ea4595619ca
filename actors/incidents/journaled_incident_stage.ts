/**
 * The incident stage where there is no findings stream (the in-process bus, or a NATS server
 * without JetStream): the one stage (durable_incident_stage.ts) reading a journal of its own
 * (journal_finding_source.ts) as it reads the stream on NATS. The journal holds what was published
 * on `troupe.finding.>`, byte for byte and in order; a stage that starts over it restores its
 * newest snapshot and refolds the records after it before it takes anything new, publishing
 * nothing up to its published mark, so the rebuilt stage holds exactly the incidents (ids, states,
 * members, update numbers, counts) it held before the restart. Every `snapshotEveryFindings`
 * findings its state is saved at its journal position, and the journal's records up to it may go.
 */
import type { Bus } from "../../protocol/mod.ts";
import { type Journal, MemorySnapshotStore, type SnapshotStore } from "../runtime/mod.ts";
import type { IncidentStageOptions } from "./incident_stage.ts";
import { journalFindingSource } from "./journal_finding_source.ts";
import { type JournaledIncidentStage, runDurableIncidentStage } from "./durable_incident_stage.ts";
import { PublishedMark } from "./published_mark.ts";
import { INCIDENT_JOURNAL_STREAM } from "./stage_snapshots.ts";

/** What a journaled stage is given: the stage's options and its journal. */
export interface JournaledIncidentStageOptions extends Omit<IncidentStageOptions, "publish"> {
  /** The stage's own journal (a file journal under the host's data directory, or in memory). */
  journal: Journal;
  /** Called when an append, a snapshot or a compaction fails (the stage runs on). */
  onError?: (err: unknown) => void;
  /** Where its snapshots and published mark go (default in memory: kept for this run only). */
  snapshots?: SnapshotStore;
  /** Findings between two snapshots (default INCIDENT_SNAPSHOT_EVERY_FINDINGS). */
  snapshotEveryFindings?: number;
}

/**
 * Starts journaling what `bus` publishes under `troupe.finding.>` in `options.journal`, then runs
 * the stage over that journal: refolded from its snapshot, then live.
 */
export async function runJournaledIncidentStage(
  bus: Bus,
  options: JournaledIncidentStageOptions,
): Promise<JournaledIncidentStage> {
  const { journal, onError, snapshots, ...stageOptions } = options;
  const source = journalFindingSource(bus, journal, onError);
  const store = snapshots ?? new MemorySnapshotStore();
  // A journal without a published mark (one kept without a store, or written by a troupe before
  // the mark) was published as it was taken: its refold publishes nothing.
  if (await PublishedMark.load(store) === 0) {
    await PublishedMark.save(store, journal.lastPosition(INCIDENT_JOURNAL_STREAM));
  }
  let run;
  try {
    run = await runDurableIncidentStage(bus, {
      ...stageOptions,
      source,
      snapshots: store,
      journal,
      ...(onError ? { onError } : {}),
    });
  } catch (err) {
    source.close();
    throw err;
  }
  const running = run;
  return {
    stage: running.stage,
    restored: running.restored,
    snapshotPos: running.snapshotPos,
    stop: async () => {
      source.close();
      await running.stop();
    },
  };
}
