/**
 * An in-memory SnapshotStore, for `troupe replay`, the simulator and hosts without durability.
 * Snapshots are stored encoded (as the file store does), so a saved snapshot never aliases live
 * state.
 */
import {
  decodeSnapshot,
  encodeSnapshot,
  type Snapshot,
  type SnapshotStore,
} from "./snapshot_store.ts";

/** An in-memory snapshot store. */
export class MemorySnapshotStore implements SnapshotStore {
  readonly volatile = true;
  #snaps = new Map<string, Uint8Array>();

  save(snapshot: Snapshot): Promise<void> {
    this.#snaps.set(snapshot.stream, encodeSnapshot(snapshot));
    return Promise.resolve();
  }

  load(stream: string): Promise<Snapshot | undefined> {
    const bytes = this.#snaps.get(stream);
    return Promise.resolve(bytes === undefined ? undefined : decodeSnapshot(bytes));
  }

  list(): Promise<string[]> {
    return Promise.resolve([...this.#snaps.keys()]);
  }

  /** Forgets every snapshot (a simulated loss of the store). */
  clear(): void {
    this.#snaps.clear();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
