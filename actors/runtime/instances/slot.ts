/**
 * A host's record of one actor instance (a slot): the instance itself when it is up, its status,
 * its mailbox of inputs waiting to be journaled and applied, its failure history and the positions
 * that tell duplicates and published outputs apart. Private to the runtime: the host, its recovery
 * and its snapshotter share it.
 */
import type { AnyActorDefinition, InputRecord } from "../../../protocol/mod.ts";
import { type ActorInstance, streamOf } from "./actor_instance.ts";
import type { DecodedFrame } from "./frame_decoder.ts";
import type { KindTally } from "../operations/mod.ts";
import type { JournalData } from "../journal/mod.ts";
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

/** A host's record of one actor instance. */
export interface Slot extends FailureHistory {
  def: AnyActorDefinition;
  key: string;
  stream: string;
  inst: ActorInstance | undefined;
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
export function newSlot(def: AnyActorDefinition, key: string, tally: KindTally): Slot {
  return {
    def,
    key,
    stream: streamOf(def.kind, key),
    inst: undefined,
    status: "running",
    mailbox: [],
    head: 0,
    pumping: false,
    failures: [],
    inputFailures: undefined,
    failedInputMax: -1,
    skips: undefined,
    lastEventUs: 0,
    lastInputId: undefined,
    lastSnapMs: 0,
    snapIndex: "none",
    snapAtMs: 0,
    srcPosMax: 0,
    publishedPos: 0,
    rebuildUntil: undefined,
    journalStale: false,
    tally,
    watchId: 0,
  };
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
    slot.mailbox.length = 0;
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
