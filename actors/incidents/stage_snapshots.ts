/**
 * The incident stage's snapshots: a stage restored from the newest one and quiet while it refolds
 * its journal's tail (refoldingStage), and its journal compacted as the actors' are (Compaction):
 * every `snapshotEveryFindings` findings the stage's state is saved at its journal position
 * (incident_snapshot.ts), and a journal that can drop what the snapshot covers (a file journal)
 * does; the findings stream keeps its own limits.
 */
import type { Bus } from "../../protocol/mod.ts";
import type { Journal, SnapshotStore } from "../runtime/mod.ts";
import {
  decodeIncidentSnapshot,
  encodeIncidentSnapshot,
  INCIDENT_SNAPSHOT_VERSION,
  INCIDENT_SNAPSHOT_VERSIONS_READ,
} from "./incident_snapshot.ts";
import { IncidentStage, type IncidentStageOptions } from "./incident_stage.ts";

/** The stream of the stage's journal of its own, and its snapshots' key in a snapshot store. */
export const INCIDENT_JOURNAL_STREAM = "incidents";

/** Findings between two snapshots of the stage, by default. */
export const INCIDENT_SNAPSHOT_EVERY_FINDINGS = 1000;

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
 * covers (a journal without `compact`, the findings stream, keeps its own limits). One
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
