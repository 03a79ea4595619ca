/**
 * A start's reads of snapshots, ahead of their use: recovery restores its instances one after
 * another, in the journal's order of streams, and each waits for its snapshot; read one at a time,
 * a host of tens of thousands of snapshot files waited for each read end to end. Here the next
 * ones are already being read, a bounded number at once. Private to the recovery folder.
 */
import type { RestorableSnapshot } from "./restorable_snapshot.ts";
import { SNAPSHOT_SAVES_IN_FLIGHT_MAX } from "./snapshotter.ts";

/** A snapshot to read: its stream, and its kind's machine version (another is discarded). */
export interface WantedSnapshot {
  stream: string;
  version: number;
}

/** Where the snapshots are read from (a Snapshotter). */
export interface SnapshotSource {
  loadStream(stream: string, version: number): Promise<RestorableSnapshot | undefined>;
  /** Whether `loadStreamNow` gives `stream`'s snapshot (its head held in memory). */
  hasStreamNow?(stream: string): boolean;
  /** `loadStream` at once, where `hasStreamNow`; null elsewhere. */
  loadStreamNow?(stream: string, version: number): RestorableSnapshot | undefined | null;
}

/** Options of `SnapshotReads`. */
export interface SnapshotReadsOptions {
  from: SnapshotSource;
  /**
   * Reads started before their turn, besides the one being taken: SNAPSHOT_SAVES_IN_FLIGHT_MAX,
   * as many as a flush's saves.
   */
  ahead?: number;
}

/** Reads the snapshots of `wanted`, in their order, `ahead` of the one being taken. */
export class SnapshotReads {
  readonly #wanted: readonly WantedSnapshot[];
  readonly #from: SnapshotSource;
  readonly #ahead: number;
  readonly #started = new Map<string, Promise<RestorableSnapshot | undefined>>();
  #next = 0;

  constructor(wanted: readonly WantedSnapshot[], options: SnapshotReadsOptions) {
    this.#wanted = wanted;
    this.#from = options.from;
    this.#ahead = options.ahead ?? SNAPSHOT_SAVES_IN_FLIGHT_MAX;
    this.#fill();
  }

  /**
   * The snapshot of `stream`, one of those wanted, at once where its source holds it in memory
   * (none is read ahead of those); null where it is to be read (`take`).
   */
  takeNow(stream: string, version: number): RestorableSnapshot | undefined | null {
    const from = this.#from;
    if (from.loadStreamNow === undefined || this.#started.has(stream)) return null;
    return from.loadStreamNow(stream, version);
  }

  /** The snapshot of `stream`, one of those wanted (read now when it was not read ahead). */
  take(stream: string, version: number): Promise<RestorableSnapshot | undefined> {
    const read = this.#started.get(stream) ?? this.#from.loadStream(stream, version);
    this.#started.delete(stream);
    this.#fill();
    return read;
  }

  #fill(): void {
    while (this.#started.size < this.#ahead && this.#next < this.#wanted.length) {
      const wanted = this.#wanted[this.#next++]!;
      if (this.#from.hasStreamNow?.(wanted.stream) === true) continue; // `takeNow` gives it
      const read = this.#from.loadStream(wanted.stream, wanted.version);
      // Its failure is its taker's to see; one never taken (a start that failed) says nothing.
      read.catch(() => {});
      this.#started.set(wanted.stream, read);
    }
  }
}
