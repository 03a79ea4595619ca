/**
 * Journal tails a start leaves for later. After a clean stop the journal holds, past many
 * instances' snapshots, a few inputs each (a stop snapshots only where it pays), all of whose
 * outputs the stop noted as published: applying them again changes those instances' states and
 * nothing else. So a start need not apply them before it takes input again: it keeps each such
 * instance's inputs (their journaled bytes) with its snapshot, and the instance stays dormant
 * (Slot.dormant) until its first use or the background pass (warm_up.ts), which restores it from
 * the snapshot and applies them then, as the start would have: the same fold, in journal order,
 * without outputs. The state an instance has when it is next used is the same either way.
 *
 * Only the plain case is left for later: a stream whose every record past its snapshot is a frame
 * or a tick, in order, none of which the host may have died applying. Anything else met in its
 * fold (a hole, a void or skip record, a control message, an input applied alone) has recovery
 * restore the instance there and then and apply what was kept (`wake`), and go on as it does for
 * any instance.
 */
import { decodeInputRecord, type InputRecord } from "../../../protocol/mod.ts";
import {
  ActorInstance,
  type DecodedFrame,
  type Dormant,
  foldInput,
  type InstanceSnapshot,
  isSkipped,
  type Slot,
} from "../instances/mod.ts";
import type { StepWatching } from "./crash_attempts.ts";

/** One kept input: its journal position and its journaled bytes (a copy). */
interface Kept {
  pos: number;
  data: Uint8Array;
}

/** An instance whose tail is kept: its snapshot and what was journaled past it. */
interface Deferred {
  snap: InstanceSnapshot;
  kept: Kept[];
  srcPos: number;
}

/** What the instances left for later use of their host. */
export interface DeferredTailsParts {
  /** Decodes a journaled frame ahead of the instance (as recovery's fold does). */
  decode(record: InputRecord): DecodedFrame | undefined;
  /** Told once an instance is restored and its tail applied: it has news for the snapshots. */
  woke(slot: Slot): void;
  /** Hands the slot to supervision after its restore threw. */
  failed(slot: Slot, err: unknown): void;
  /** The step watchdog, when steps have a deadline: each input is applied under it. */
  watch: StepWatching | undefined;
}

/**
 * The bytes of the slabs the kept records are copied into: some hundreds of records. A record of
 * its own array would cost an ArrayBuffer (its object, backing store and allocator header, and
 * the collector's bookkeeping of it) for each of the many a fleet host's stop leaves past its
 * snapshots. The slabs are the start's alone: they go when the last instance whose
 * records they hold is restored, not kept for the host's life.
 */
const SLAB_BYTES = 64 * 1024;
/** Records longer than this are copied into an array of their own. */
const CARVED_MAX = SLAB_BYTES / 8;

/** The kinds of record a kept tail may hold. */
function keepable(record: InputRecord): boolean {
  return record.kind === "frame" || record.kind === "tick";
}

/** The instances of one start whose journal tails are left for their first use. */
export class DeferredTails {
  readonly #bySlot = new Map<Slot, Deferred>();
  /** The inputs kept for later, over every instance handed out dormant so far. */
  inputs = 0;
  #slab = new Uint8Array(0);
  #used = 0;

  /** Leaves `slot`'s instance unrestored; its snapshot is `snap`. */
  defer(slot: Slot, snap: InstanceSnapshot): void {
    this.#bySlot.set(slot, { snap, kept: [], srcPos: snap.srcPos });
  }

  /**
   * Keeps the record at `pos` for `slot`'s instance when it is one a tail may hold; false when
   * the instance must be restored now (`wake`) and the record folded as any other.
   */
  keep(slot: Slot, pos: number, record: InputRecord, data: Uint8Array): boolean {
    const d = this.#bySlot.get(slot);
    if (d === undefined || !keepable(record)) return false;
    d.kept.push({ pos, data: this.#copy(data) }); // a copy: the journal reuses what it read
    if (record.srcPos > d.srcPos) d.srcPos = record.srcPos;
    return true;
  }

  /** A copy of `data`, carved from the current slab (a new one when it is full). */
  #copy(data: Uint8Array): Uint8Array {
    const n = data.byteLength;
    if (n > CARVED_MAX) return new Uint8Array(data);
    if (this.#used + n > this.#slab.byteLength) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const out = this.#slab.subarray(this.#used, this.#used + n);
    out.set(data);
    this.#used += n;
    return out;
  }

  /**
   * Ends `slot`'s deferral: its instance restored from the snapshot, and the records kept for it,
   * each handed to `fold` in journal order; nothing when it was not deferred.
   */
  wake(slot: Slot, fold: (pos: number, record: InputRecord) => void): void {
    const d = this.#bySlot.get(slot);
    if (d === undefined) return;
    this.#bySlot.delete(slot);
    slot.inst = ActorInstance.restore(slot.def, slot.key, d.snap);
    for (const { pos, data } of d.kept) fold(pos, decodeInputRecord(data));
  }

  /** Forgets `slot`'s deferral (its instance is rebuilt another way). */
  drop(slot: Slot): void {
    this.#bySlot.delete(slot);
  }

  /**
   * Hands `slot` out dormant when it was deferred: its snapshot, and its kept inputs applied when
   * it is restored. Returns whether it was.
   */
  settle(slot: Slot, parts: DeferredTailsParts): boolean {
    const d = this.#bySlot.get(slot);
    if (d === undefined) return false;
    this.#bySlot.delete(slot);
    const { snap, kept } = d;
    const dormant: Dormant = { snap, failed: parts.failed };
    const last = kept.at(-1);
    if (last !== undefined) {
      this.inputs += kept.length;
      dormant.tail = {
        pos: last.pos,
        srcPos: d.srcPos,
        apply: (woken) => applyKept(woken, kept, parts),
      };
    }
    slot.dormant = dormant;
    return true;
  }
}

/** Applies `kept` to the instance `slot` was just restored to, as a replay; tells `woke`. */
function applyKept(slot: Slot, kept: readonly Kept[], parts: DeferredTailsParts): void {
  let inst = slot.awake;
  for (const { pos, data } of kept) {
    const record = decodeInputRecord(data);
    const step = {
      pos,
      record,
      decode: parts.decode,
      outputs: false,
      skipped: isSkipped(slot, pos),
    };
    parts.watch?.begin(slot, pos, record.srcPos);
    try {
      inst = foldInput(slot.def, slot.key, inst, step).inst;
    } finally {
      parts.watch?.end();
    }
  }
  slot.inst = inst;
  parts.woke(slot);
}
