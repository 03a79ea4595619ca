/**
 * Where session documents live: every update a server accepts is a record of the journal stream
 * `collab/<session>` (a FileJournal, or a JetStreamJournal), and the compacted document, the
 * merged update of everything up to a journal position, is a snapshot in a SnapshotStore (its
 * `kernel` bytes). Loading applies the snapshot and then the journal's tail past it; compaction
 * saves a new snapshot once the journal is durable up to it, then lets the journal drop segments
 * every session's snapshot covers.
 */
import * as Y from "yjs";
import type { Journal } from "../../actors/runtime/journal/mod.ts";
import type { SnapshotStore } from "../../actors/runtime/snapshots/mod.ts";
import { SCHEMA_VERSION } from "../session/mod.ts";

/** The origin of transactions that load a document from storage. */
export const LOAD_ORIGIN = Symbol("collab-load");

/**
 * The journal stream of a session: `collab/<session>`, or `collab/<node>/<session>` where nodes
 * share one journal (JetStream), which is single-writer per stream: each node journals its own
 * copy.
 */
export function docStream(session: string, node?: string): string {
  return node === undefined ? `collab/${session}` : `collab/${node}/${session}`;
}

/** A session document's persistence. */
export class DocStore {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  /** The snapshot position of every session this store has loaded or compacted. */
  readonly #snapshotPos = new Map<string, number>();

  /** The node whose streams these are, where nodes share a journal and snapshots. */
  readonly node: string | undefined;

  constructor(journal: Journal, snapshots: SnapshotStore, options: { node?: string } = {}) {
    this.journal = journal;
    this.snapshots = snapshots;
    this.node = options.node;
  }

  #stream(session: string): string {
    return docStream(session, this.node);
  }

  /** Applies the stored document of `session` to `doc`; returns the journal records replayed. */
  async load(session: string, doc: Y.Doc): Promise<{ snapshotPos: number; records: number }> {
    const stream = this.#stream(session);
    const snap = await this.snapshots.load(stream);
    const from = snap?.pos ?? 0;
    if (snap) Y.applyUpdate(doc, snap.kernel, LOAD_ORIGIN);
    this.#snapshotPos.set(stream, from);
    let records = 0;
    const batch: Uint8Array[] = [];
    for await (const r of this.journal.read(stream, from)) {
      batch.push(r.data);
      records++;
    }
    if (batch.length) Y.applyUpdate(doc, Y.mergeUpdates(batch), LOAD_ORIGIN);
    return { snapshotPos: from, records };
  }

  /** Appends one accepted update; resolves (or returns) its journal position. */
  append(session: string, update: Uint8Array): number | Promise<number> {
    return this.journal.append(this.#stream(session), update);
  }

  /** The last journal position of `session`. */
  lastPosition(session: string): number {
    return this.journal.lastPosition(this.#stream(session));
  }

  /** Journal records of `session` past its snapshot. */
  sinceSnapshot(session: string): number {
    const stream = this.#stream(session);
    return this.journal.lastPosition(stream) - (this.#snapshotPos.get(stream) ?? 0);
  }

  /**
   * Saves `state` (a document's whole state as one update) as the snapshot of `session` at journal
   * position `pos`: `state` must hold exactly the records up to `pos`, all of them durable. Then
   * lets the journal drop what every snapshot covers.
   */
  async compact(session: string, state: Uint8Array, pos: number): Promise<void> {
    const stream = this.#stream(session);
    await this.snapshots.save({
      stream,
      version: SCHEMA_VERSION,
      pos,
      machine: null,
      kernel: state,
    });
    this.#snapshotPos.set(stream, pos);
    await this.journal.compact?.(this.#snapshotPos);
  }

  /** Syncs the journal (everything appended so far durable per its policy). */
  sync(): Promise<void> {
    return this.journal.sync();
  }

  async close(): Promise<void> {
    await this.journal.close();
    await this.snapshots.close();
  }
}
