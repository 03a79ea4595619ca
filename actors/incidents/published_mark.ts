/**
 * How far a leased incident stage's holder has published: the findings stream's sequence up to
 * which every update the stage's fold made has gone out, kept in the cluster's snapshot store
 * (key `incidents-published`) beside the stage's snapshot. A host that takes the stage over
 * refolds quietly up to the mark only, and publishes the updates of the findings after it (those
 * its holder took in its last moments without a mark, and those published while no host ran the
 * stage), so a finding taken in the gap goes out as an update of its own, not only with its
 * incident's next one. The mark is written after the updates are flushed, one write at a time
 * (the latest taken wins), so it may lag: what lies between is published again, with the same
 * deterministic ids (at least once, never lost). Writes go through the lease's fenced store.
 */
import type { SnapshotStore } from "../runtime/mod.ts";

/** The snapshot store's key of the mark. */
export const INCIDENT_PUBLISHED_STREAM = "incidents-published";

/** The mark's format (a snapshot of another version is not read: everything after the stage's
 *  own snapshot is published again). */
export const INCIDENT_PUBLISHED_VERSION = 1;

/** What a mark is given. */
export interface PublishedMarkOptions {
  /** The cluster's snapshot store, fenced by the stage's lease. */
  snapshots: SnapshotStore;
  /** Resolves once what was published has reached the server (the bus's flush). */
  flush: () => Promise<void>;
  /** Called when a write fails (the next one tries again). */
  onError: (err: unknown) => void;
}

/** The stage's published mark: read at start, moved on as it publishes. */
export class PublishedMark {
  readonly #options: PublishedMarkOptions;
  #want = 0;
  #written = 0;
  #writing: Promise<void> | undefined;
  #stopped = false;

  constructor(options: PublishedMarkOptions, written: number) {
    this.#options = options;
    this.#want = this.#written = written;
  }

  /** The mark stored in `snapshots`, 0 without one. */
  static async load(snapshots: SnapshotStore): Promise<number> {
    const snap = await snapshots.load(INCIDENT_PUBLISHED_STREAM);
    return snap?.version === INCIDENT_PUBLISHED_VERSION ? snap.pos : 0;
  }

  /** Stores `seq` as the mark in `snapshots`. */
  static async save(snapshots: SnapshotStore, seq: number): Promise<void> {
    await snapshots.save({
      stream: INCIDENT_PUBLISHED_STREAM,
      version: INCIDENT_PUBLISHED_VERSION,
      pos: seq,
      machine: null,
      kernel: new Uint8Array(0),
    });
  }

  /** The updates of every record up to stream sequence `seq` went out: the mark moves there. */
  advance(seq: number): void {
    if (seq <= this.#want || this.#stopped) return;
    this.#want = seq;
    if (!this.#writing) this.#write();
  }

  /** Resolves with the mark written, once no write runs. */
  async written(): Promise<number> {
    while (this.#writing) await this.#writing;
    return this.#written;
  }

  /** Writes nothing more (the lease is lost, or the stage stopped). */
  stop(): void {
    this.#stopped = true;
  }

  #write(): void {
    const seq = this.#want;
    this.#writing = (async () => {
      await this.#options.flush();
      if (this.#stopped) return;
      await PublishedMark.save(this.#options.snapshots, seq);
      this.#written = seq;
    })().catch(this.#options.onError).finally(() => {
      this.#writing = undefined;
      if (this.#want > seq && !this.#stopped) this.#write();
    });
  }
}
