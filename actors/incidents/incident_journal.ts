/**
 * The incident stage across restarts: the findings a stage takes are journaled, in the order it
 * took them, in a journal of its own (stream `incidents`), with the sessions' silence tables it
 * is sent in their places among them, and a stage that starts over one refolds them before it
 * takes anything new. The kernel is a pure fold of its findings in the
 * order taken, so the rebuilt stage holds exactly the incidents (ids, states, members, update
 * numbers, counts) it held before the restart; the updates of the refold were published before,
 * so they are not published again. What the journal holds are the actors' own finding envelopes
 * and the bridge's silence tables, byte for byte, so a journal can be read back as the findings
 * it recorded. With a snapshot store,
 * it is compacted as the actors' journals are: every `snapshotEveryFindings` findings the stage's
 * state is saved at its journal position (incident_snapshot.ts) and the journal's records up to it
 * may go; a stage that starts restores the newest snapshot and refolds only the findings after it.
 */
import type { Bus } from "../../protocol/mod.ts";
import type { Journal, SnapshotStore } from "../runtime/mod.ts";
import {
  decodeIncidentSnapshot,
  encodeIncidentSnapshot,
  INCIDENT_SNAPSHOT_VERSION,
  INCIDENT_SNAPSHOT_VERSIONS_READ,
} from "./incident_snapshot.ts";
import { IncidentStage, type IncidentStageOptions, runIncidentStage } from "./incident_stage.ts";

/** The stream of the stage's journal that holds its findings. */
export const INCIDENT_JOURNAL_STREAM = "incidents";

/** Findings between two snapshots of the stage, by default. */
export const INCIDENT_SNAPSHOT_EVERY_FINDINGS = 1000;

/** What a journaled stage is given: the stage's options and its journal. */
export interface JournaledIncidentStageOptions extends Omit<IncidentStageOptions, "publish"> {
  /** The stage's own journal (a file journal under the host's data directory). */
  journal: Journal;
  /** Called when an append, a snapshot or a compaction fails (the stage runs on). */
  onError?: (err: unknown) => void;
  /** Where its snapshots go; without one (or with a volatile one) the journal is not compacted. */
  snapshots?: SnapshotStore;
  /** Findings between two snapshots (default INCIDENT_SNAPSHOT_EVERY_FINDINGS). */
  snapshotEveryFindings?: number;
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

/**
 * Rebuilds a stage from `options.journal` (publishing nothing), then runs it on `bus` as
 * runIncidentStage does, journaling each finding before the stage takes it.
 */
export async function runJournaledIncidentStage(
  bus: Bus,
  options: JournaledIncidentStageOptions,
): Promise<JournaledIncidentStage> {
  const { journal, onError, snapshots, snapshotEveryFindings, ...stageOptions } = options;
  const refold = await refoldingStage(bus, stageOptions, snapshots);
  const { stage, snapshotPos } = refold;
  let restored = 0;
  for await (const r of journal.read(INCIDENT_JOURNAL_STREAM, snapshotPos)) {
    // A finding, or a session's silence table journaled among them (counted apart).
    if (stage.takeRecord(r.data) === "finding") restored++;
  }
  refold.goLive();
  const compacting = snapshots && !snapshots.volatile
    ? new Compaction(stage, journal, {
      snapshots,
      every: snapshotEveryFindings ?? INCIDENT_SNAPSHOT_EVERY_FINDINGS,
      onError: (err) => onError?.(err),
    })
    : undefined;
  let last: number | Promise<number> = journal.lastPosition(INCIDENT_JOURNAL_STREAM);
  const record = (data: Uint8Array) => {
    try {
      const pos = journal.append(INCIDENT_JOURNAL_STREAM, data);
      if (pos instanceof Promise) pos.catch((err) => onError?.(err));
      // Written now, not at the buffer's next write: the actor whose finding it is may have its
      // input journaled already, and would not publish it again after a kill -9 of this process.
      journal.flush?.();
      last = pos;
    } catch (err) {
      onError?.(err);
    }
  };
  const taken = compacting && (() => compacting.taken(last));
  const run = runIncidentStage(bus, {
    ...stageOptions,
    stage,
    record,
    // Journaled before the stage holds it, as a finding is: a restart refolds it in its place.
    recordSilences: (data) => {
      record(data);
      return false;
    },
    ...(taken ? { taken } : {}),
  });
  return {
    stage,
    restored,
    snapshotPos,
    stop: async () => {
      run.stop();
      await compacting?.close(last);
    },
  };
}

/** A stage restored from the newest snapshot that publishes nothing until `goLive()`: a refold. */
export interface RefoldingStage {
  stage: IncidentStage;
  /** The snapshot's journal position, or 0 without a usable one. */
  snapshotPos: number;
  /** Whether the stage still publishes nothing. */
  refolding(): boolean;
  /** From now on the stage publishes on the bus. */
  goLive(): void;
}

/** A new stage on `bus`, restored from the newest of `snapshots`, quiet until it goes live. */
export async function refoldingStage(
  bus: Bus,
  options: Omit<IncidentStageOptions, "publish">,
  snapshots: SnapshotStore | undefined,
): Promise<RefoldingStage> {
  let quiet = true;
  const stage = new IncidentStage({
    ...options,
    publish: (subject, data) => {
      if (!quiet) bus.publish(subject, data);
    },
  });
  const snapshotPos = await restoreSnapshot(stage, snapshots);
  return {
    stage,
    snapshotPos,
    refolding: () => quiet,
    goLive: () => {
      quiet = false;
    },
  };
}

/** Restores the newest snapshot into `stage`; its journal position, or 0 without a usable one. */
export async function restoreSnapshot(
  stage: IncidentStage,
  snapshots: SnapshotStore | undefined,
): Promise<number> {
  const snap = await snapshots?.load(INCIDENT_JOURNAL_STREAM);
  if (snap === undefined || !INCIDENT_SNAPSHOT_VERSIONS_READ.includes(snap.version)) return 0;
  stage.restore(decodeIncidentSnapshot(snap.kernel));
  return snap.pos;
}

/**
 * Saves the stage every `every` findings, right after it took the finding appended at `pos` (so
 * the state is the fold of the journal up to it), then lets the journal drop what the snapshot
 * covers (a journal without `compact`, the leased stage's stream, keeps its own limits). One
 * save at a time: one due while another is written waits for the next.
 */
export class Compaction {
  readonly #stage: IncidentStage;
  readonly #journal: Pick<Journal, "sync" | "compact">;
  readonly #options: { snapshots: SnapshotStore; every: number; onError: (err: unknown) => void };
  #since = 0;
  #saving: Promise<void> | undefined;

  constructor(
    stage: IncidentStage,
    journal: Pick<Journal, "sync" | "compact">,
    o: { snapshots: SnapshotStore; every: number; onError: (err: unknown) => void },
  ) {
    this.#stage = stage;
    this.#journal = journal;
    this.#options = o;
  }

  /** The stage took the finding appended at `pos`. */
  taken(pos: number | Promise<number>): void {
    if (++this.#since < this.#options.every || this.#saving) return;
    this.#save(pos);
  }

  /**
   * On a clean stop: once no save runs, saves the findings taken since the last one, if any (a
   * save due while another ran was put off to the next finding, and there may be none).
   */
  async close(pos: number | Promise<number>): Promise<void> {
    await this.idle();
    if (this.#since > 0) this.#save(pos);
    await this.idle();
  }

  #save(pos: number | Promise<number>): void {
    this.#since = 0;
    const kernel = encodeIncidentSnapshot(this.#stage.saved());
    this.#saving = (async () => {
      const at = await pos;
      await this.#journal.sync();
      await this.#options.snapshots.save({
        stream: INCIDENT_JOURNAL_STREAM,
        version: INCIDENT_SNAPSHOT_VERSION,
        pos: at,
        machine: null,
        kernel,
      });
      await this.#journal.compact?.(new Map([[INCIDENT_JOURNAL_STREAM, at]]));
    })().catch(this.#options.onError).finally(() => this.#saving = undefined);
  }

  /** Resolves once no save runs. */
  async idle(): Promise<void> {
    while (this.#saving) await this.#saving;
  }
}
