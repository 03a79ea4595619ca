/**
 * A snapshot as an instance is restored from it: its positions, its machine's persisted snapshot,
 * its kernel's bytes, its configuration and its recent input ids. Made from a decoded snapshot, or
 * from a snapshot's head (`SnapshotHead`), whose body is decoded when the instance is made: a
 * start reads every instance's snapshot but restores at once only those with journal past it
 * (Slot.dormant): the others' machines, decoded then, would be objects held until their restore.
 */
import {
  contextOf,
  type InstanceSnapshot,
  sameConfig,
  savedWindowOf,
  type Slot,
} from "../instances/mod.ts";
import { decodeSnapshotBody, type Snapshot, type SnapshotHead } from "../snapshots/mod.ts";

/** A snapshot as an instance is restored from it: its recent input ids always there. */
export interface RestorableSnapshot extends InstanceSnapshot {
  ids: Uint8Array;
}

/**
 * What a host's snapshot keeps of an instance as its machine (the snapshot's `machine`): the
 * machine's persisted snapshot, the instance's configuration and its recent input ids. Where the
 * machine's context holds the instance's configuration (the kinds' machines keep the one their
 * input gave), it is saved once: the context's `config` is saved as null, in its place among the
 * context's fields, and `cc` says so.
 */
interface SavedMachine {
  xstate: unknown;
  config: unknown;
  ids?: unknown;
  /** 1: the context's `config` is `config` (saved as null). */
  cc?: 1;
}

/**
 * An instance's snapshot as a host saves it (see SavedMachine): its configuration saved once
 * where the machine's context holds an equal one. A new object where it changes the machine's,
 * which stays as it is.
 */
export function savedMachineOf(s: InstanceSnapshot): SavedMachine {
  const ids = s.ids ?? new Uint8Array(0);
  const context = contextOf(s.machine), config = s.config;
  if (
    context !== undefined && typeof config === "object" && config !== null &&
    "config" in context && (context.config === config || sameConfig(context.config, config))
  ) {
    const xstate = { ...(s.machine as object), context: { ...context, config: null } };
    return { xstate, config, ids, cc: 1 };
  }
  return { xstate: s.machine, config, ids };
}

/** The machine's persisted snapshot a saved one holds, its context's configuration put back. */
function machineOf(m: SavedMachine): unknown {
  if (m.cc !== 1) return m.xstate;
  const context = contextOf(m.xstate);
  // Not a saved machine this code wrote: left as it is, for the restore to refuse or take.
  if (context === undefined) return m.xstate;
  return { ...(m.xstate as object), context: { ...context, config: m.config } };
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
    machine: machineOf(m),
    kernel: snapshot.kernel,
    config: m.config,
    ids: savedWindowOf(m.ids),
  };
}

/**
 * The snapshot of `head` as an instance is restored from it, its body had (`head.body()`: the
 * packed store reads it again) and decoded when first read (its machine, kernel, configuration or
 * ids); a body that cannot be had or does not decode throws there, to the restore. A body in
 * memory the store reuses (`head.bodyReads`) is decoded again once the store has read another
 * into it, and its machine's and configuration's binary values are copied out: an instance made
 * from it copies its kernel's bytes and ids as it restores (`ActorInstance.restore`), but a
 * machine's context keeps what it is given.
 */
export class RestorableLater implements RestorableSnapshot {
  readonly pos: number;
  readonly srcPos: number;
  /** Where the store holds the body (`SnapshotHead.order`; 0: nowhere in particular). */
  readonly order: number;
  readonly #head: SnapshotHead;
  #body: RestorableSnapshot | undefined;
  /** The store's count of bodies read when `#body` was decoded (see `SnapshotHead.bodyReads`). */
  #reads = 0;

  constructor(head: SnapshotHead) {
    this.pos = head.pos;
    this.srcPos = srcPosOf(head);
    this.order = head.order ?? 0;
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
    const head = this.#head, now = head.bodyReads?.();
    if (this.#body === undefined || (now !== undefined && now !== this.#reads)) {
      const body = restorableOf(decodeSnapshotBody(head.body()));
      const reads = head.bodyReads?.();
      if (reads !== undefined) {
        body.machine = ownBins(body.machine);
        body.config = ownBins(body.config);
        this.#reads = reads;
      }
      this.#body = body;
    }
    return this.#body;
  }
}

/**
 * `value` with every binary value in it (at any depth of its arrays and plain objects) a copy of
 * its own, so that it outlives the memory it was decoded from. Changes the arrays and objects in
 * place: they are the decoder's, made for this.
 */
function ownBins(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (ArrayBuffer.isView(value)) return (value as Uint8Array).slice();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = ownBins(value[i]);
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) o[k] = ownBins(o[k]);
  return value;
}

/**
 * Compares slots by where their dormant instances' bodies lie (`RestorableLater.order`), for a
 * pass that restores them in the order their store reads fastest.
 */
export function byBodyOrder(a: Slot, b: Slot): number {
  return orderOf(a) - orderOf(b);
}

function orderOf(slot: Slot): number {
  const snap = slot.dormant?.snap;
  return snap instanceof RestorableLater ? snap.order : 0;
}
