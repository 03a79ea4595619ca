/**
 * A snapshot store's batch as a stop or a round takes it (snapshotter.ts): the streams and
 * positions of what it holds, which the snapshotter notes as saved once it is written, and its
 * snapshots counted by kind; and the line a log says of snapshots not saved. Private to the
 * recovery folder.
 */
import { parseStream } from "../instances/mod.ts";
import type { Snapshot, SnapshotBatch } from "../snapshots/mod.ts";

/** A store's batch as a stop takes it, with the streams and positions of what it holds. */
export class TakenBatch {
  readonly batch: SnapshotBatch;
  readonly streams: string[] = [];
  readonly positions: number[] = [];
  /**
   * The kinds met, their streams' prefix (`<kind>/`) and their snapshots added: a host's few
   * kinds, told apart by a prefix's test rather than a stream name parsed each.
   */
  readonly kinds: string[] = [];
  readonly #prefixes: string[] = [];
  readonly counts: number[] = [];

  constructor(batch: SnapshotBatch) {
    this.batch = batch;
  }

  get size(): number {
    return this.streams.length;
  }

  /** Encodes `snap` into the batch; throws when it cannot (then it holds nothing of it). */
  add(snap: Snapshot): void {
    this.batch.add(snap);
    this.streams.push(snap.stream);
    this.positions.push(snap.pos);
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      if (snap.stream.startsWith(prefixes[i]!)) return void this.counts[i]!++;
    }
    const kind = parseStream(snap.stream)?.kind;
    // A name of no kind (none is made so) is counted as "?" under its own name, never matched.
    this.kinds.push(kind ?? "?");
    prefixes.push(kind === undefined ? `\0${snap.stream}` : `${kind}/`);
    this.counts.push(1);
  }
}

/** The line a log says of snapshots not saved, for all of them: `why` is (the first's) error. */
export function notSaved(streams: readonly string[], why: string): string {
  const what = streams.length === 1
    ? `snapshot of ${streams[0]}`
    : `${streams.length} snapshots (${streams[0]} and others)`;
  return `${what} not saved: ${why}`;
}
