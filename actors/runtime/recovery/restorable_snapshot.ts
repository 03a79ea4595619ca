/**
 * A snapshot as an instance is restored from it: its positions, its machine's persisted snapshot,
 * its kernel's bytes, its configuration and its recent input ids. Made from a decoded snapshot, or
 * from a snapshot's head (`SnapshotHead`), whose body is decoded when the instance is made: a
 * start reads every instance's snapshot but restores at once only those with journal past it
 * (Slot.dormant): the others' machines, decoded then, would be objects held until their restore.
 */
import { type InstanceSnapshot, savedWindowOf } from "../instances/mod.ts";
import { decodeSnapshotBody, type Snapshot, type SnapshotHead } from "../snapshots/mod.ts";

/** A snapshot as an instance is restored from it: its recent input ids always there. */
export interface RestorableSnapshot extends InstanceSnapshot {
  ids: Uint8Array;
}

/** What a host's snapshot keeps beside the machine's persisted snapshot. */
interface SavedMachine {
  xstate: unknown;
  config: unknown;
  ids?: unknown;
}

/** The source position a snapshot was taken at (0 in one from before it was kept). */
function srcPosOf(s: Pick<Snapshot, "meta">): number {
  return Number(s.meta?.srcPos ?? 0);
}

/** `snapshot`, decoded, as an instance is restored from it. */
export function restorableOf(snapshot: Snapshot): RestorableSnapshot {
  // A snapshot from before the id window has none: it starts empty (inputs applied before the
  // snapshot are still told apart by source position where the input has them).
  const m = snapshot.machine as SavedMachine;
  return {
    pos: snapshot.pos,
    srcPos: srcPosOf(snapshot),
    machine: m.xstate,
    kernel: snapshot.kernel,
    config: m.config,
    ids: savedWindowOf(m.ids),
  };
}

/**
 * The snapshot of `head` as an instance is restored from it, its body had (`head.body()`: the
 * packed store reads it again) and decoded when first read (its machine, kernel, configuration or
 * ids), its bytes let go then; a body that cannot be had or does not decode throws there, to the
 * restore.
 */
export class RestorableLater implements RestorableSnapshot {
  readonly pos: number;
  readonly srcPos: number;
  #head: SnapshotHead | undefined;
  #body: RestorableSnapshot | undefined;

  constructor(head: SnapshotHead) {
    this.pos = head.pos;
    this.srcPos = srcPosOf(head);
    this.#head = head;
  }

  get machine(): unknown {
    return this.#decoded().machine;
  }

  get kernel(): Uint8Array {
    return this.#decoded().kernel;
  }

  get config(): unknown {
    return this.#decoded().config;
  }

  get ids(): Uint8Array {
    return this.#decoded().ids;
  }

  #decoded(): RestorableSnapshot {
    if (this.#body === undefined) {
      this.#body = restorableOf(decodeSnapshotBody(this.#head!.body()));
      this.#head = undefined;
    }
    return this.#body;
  }
}
