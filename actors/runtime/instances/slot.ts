/**
 * A host's record of one actor instance (a slot): the instance itself when it is up (or the
 * snapshot it is restored from at its first use), its status, its mailbox of inputs waiting to be
 * journaled and applied, its failure history and the positions that tell duplicates and published
 * outputs apart. Private to the runtime: the host, its recovery and its snapshotter share it.
 */
import type { AnyActorDefinition, InputRecord } from "../../../protocol/mod.ts";
import { ActorInstance, type InstanceSnapshot, streamOf } from "./actor_instance.ts";
import type { DecodedFrame } from "./frame_decoder.ts";
import type { KindTally } from "../operations/mod.ts";
import type { JournalData, StreamMemo } from "../journal/mod.ts";
import type { FailureHistory } from "./supervision.ts";

/** Where an instance is in its life. */
export type Status = "recovering" | "running" | "backoff" | "stopped";

/** An input waiting in a mailbox. */
export interface Pending {
  record: InputRecord;
  bytes: JournalData;
  decoded: DecodedFrame | undefined;
  /** When it arrived at the host (performance.now(), ms): what the lag is measured from. */
  arrivedMs: number;
  /** Set when the input was journaled on arrival (its instance was restarting). */
  pos?: number;
  posPromise?: Promise<number> | undefined;
}

/**
 * The snapshot a slot's instance is restored from when it is first used, and who is told when
 * that restore throws.
 */
export interface Dormant {
  snap: InstanceSnapshot;
  /** Hands the slot to supervision after its restore threw (it has no instance then). */
  failed(slot: Slot, err: unknown): void;
  /** Inputs journaled past the snapshot, applied as the instance is restored. */
  tail?: DormantTail;
}

/**
 * Inputs journaled past a dormant instance's snapshot whose outputs were published before the host
 * last stopped (recovery/deferred_tails.ts): applied again, as a replay, once the instance is
 * restored from the snapshot.
 */
export interface DormantTail {
  /** The journal position of the last of them. */
  pos: number;
  /** The source position of the last of them. */
  srcPos: number;
  /** Applies them to the slot's instance, just restored from the snapshot (`slot.awake`). */
  apply(slot: Slot): void;
}

/** A host's record of one actor instance. */
export interface Slot extends FailureHistory {
  def: AnyActorDefinition;
  key: string;
  stream: string;
  /** What the journal keeps of its stream for the stream's appends (journal.ts). */
  readonly memo: StreamMemo;
  /**
   * Its instance, or undefined when it has none. Reading it restores a dormant one first (see
   * `dormant`); setting it ends the dormancy.
   */
  inst: ActorInstance | undefined;
  /**
   * Set while the instance waits to be restored from its snapshot: a start restores at once only
   * the instances the journal holds inputs for past their snapshots, and the others when they are
   * first used (an input, a tick, a read of their state) or in the background
   * (recovery/warm_up.ts), so that a host of many instances takes inputs again sooner.
   */
  dormant: Dormant | undefined;
  /** Its instance when one is made, without restoring a dormant one. */
  readonly awake: ActorInstance | undefined;
  status: Status;
  mailbox: Pending[];
  head: number;
  pumping: boolean;
  /** Journal positions recorded as skipped (poison inputs); undefined until one is (most never
   *  have one, and a host holds hundreds of thousands of slots). */
  skips: Set<number> | undefined;
  /** Event time (µs) of the last frame applied. */
  lastEventUs: number;
  /**
   * Of a kind that acts on time: the envelope id of the last input handed to its instance, which
   * a tick's notice names as the input it came after (protocol/tick_notice.ts).
   */
  lastInputId: string | undefined;
  /** Host clock (ms) of the last periodic snapshot. */
  lastSnapMs: number;
  /**
   * Where the slot is in the index of a periodic round of snapshots (recovery/_snapshot_due.ts):
   * not in it (no news since its last snapshot), to be looked at next round, or set aside until
   * `snapAtMs`, for its period or for its last snapshot's age.
   */
  snapIndex: "none" | "ready" | "period" | "age";
  /** The time (host ms) the slot is set aside until, when it is. */
  snapAtMs: number;
  /** The highest source position accepted (applied or waiting): redeliveries at or below it are
   *  duplicates, whether or not the instance is up. */
  srcPosMax: number;
  /** The journal position of the last input whose outputs were published. */
  publishedPos: number;
  /**
   * Set while the instance is applied again what a rebuild voided (see recovery.ts): the highest
   * source position voided. No snapshot is taken before the instance is past it, so that a crash
   * meanwhile finds the void record again and goes on with the rebuild.
   */
  rebuildUntil: number | undefined;
  /**
   * Set when an append to its journal stream met another writer: the stream is reloaded before
   * the instance is rebuilt (restarts.ts).
   */
  journalStale: boolean;
  /** The kind's per-input metrics. */
  tally: KindTally;
  /** Its number for the step watchdog (step_watch.ts); 0 until its first step is watched. */
  watchId: number;
}

/** A new slot for `(def.kind, key)`, running, with nothing in it yet. */
export function newSlot(
  def: AnyActorDefinition,
  key: string,
  tally: KindTally,
  stream: string = streamOf(def.kind, key),
): Slot {
  return new HostSlot(def, key, tally, stream);
}

/** A slot whose instance may be restored at its first use. */
class HostSlot implements Slot {
  readonly def: AnyActorDefinition;
  readonly key: string;
  readonly stream: string;
  readonly memo: StreamMemo = {};
  #inst: ActorInstance | undefined = undefined;
  dormant: Dormant | undefined = undefined;
  status: Status = "running";
  mailbox: Pending[] = [];
  head = 0;
  pumping = false;
  failures: number[] = [];
  inputFailures: Map<number, number> | undefined = undefined;
  failedInputMax = -1;
  skips: Set<number> | undefined = undefined;
  lastEventUs = 0;
  lastInputId: string | undefined = undefined;
  lastSnapMs = 0;
  snapIndex: Slot["snapIndex"] = "none";
  snapAtMs = 0;
  srcPosMax = 0;
  publishedPos = 0;
  rebuildUntil: number | undefined = undefined;
  journalStale = false;
  readonly tally: KindTally;
  watchId = 0;

  constructor(def: AnyActorDefinition, key: string, tally: KindTally, stream: string) {
    this.def = def;
    this.key = key;
    this.stream = stream;
    this.tally = tally;
  }

  get inst(): ActorInstance | undefined {
    const dormant = this.dormant;
    if (dormant !== undefined) {
      this.dormant = undefined;
      try {
        this.#inst = ActorInstance.restore(this.def, this.key, dormant.snap);
        dormant.tail?.apply(this);
      } catch (err) {
        this.#inst = undefined; // perhaps part of its tail applied: rebuilt by supervision
        dormant.failed(this, err);
      }
    }
    return this.#inst;
  }

  set inst(inst: ActorInstance | undefined) {
    this.dormant = undefined;
    this.#inst = inst;
  }

  get awake(): ActorInstance | undefined {
    return this.#inst;
  }
}

/** Restores the slot's instance if it is dormant (see Slot.dormant); returns it. */
export function wake(slot: Slot): ActorInstance | undefined {
  return slot.inst;
}

/** The journal and source positions of a slot's instance, dormant or not (0 with none). */
export function positionsOf(slot: Slot | undefined): { pos: number; srcPos: number } {
  const dormant = slot?.dormant;
  const at = dormant?.tail ?? dormant?.snap ?? slot?.awake;
  return at === undefined ? { pos: 0, srcPos: 0 } : { pos: at.pos, srcPos: at.srcPos };
}

/** Records the input at journal position `pos` as skipped. */
export function addSkip(slot: Slot, pos: number): void {
  (slot.skips ??= new Set()).add(pos);
}

/** Whether the input at journal position `pos` is recorded as skipped. */
export function isSkipped(slot: Slot, pos: number): boolean {
  return slot.skips !== undefined && slot.skips.has(pos);
}

/** Drops the applied inputs from the front of a slot's mailbox (all of them, or past 1,024). */
export function compactMailbox(slot: Slot): void {
  if (slot.head >= slot.mailbox.length) {
    // Popped, not cut by `length = 0`, which drops the array's storage: the next input (most
    // mailboxes hold one at a time) would allocate it again.
    const mailbox = slot.mailbox;
    if (mailbox.length <= 8) { while (mailbox.length > 0) mailbox.pop(); }
    else mailbox.length = 0;
    slot.head = 0;
  } else if (slot.head > 1024) {
    slot.mailbox = slot.mailbox.slice(slot.head);
    slot.head = 0;
  }
}

/**
 * Whether an input at source position `srcPos` (0: none) is new to the slot, taking its position;
 * false for a redelivery.
 */
export function admitSrcPos(slot: Slot, srcPos: number): boolean {
  if (srcPos <= 0) return true;
  if (srcPos <= slot.srcPosMax) return false;
  slot.srcPosMax = srcPos;
  return true;
}
