/**
 * The instances' mailboxes: where an input waits for its instance's pump (host.ts). An input is
 * admitted once, by source position (a redelivery is counted as a duplicate and dropped); it is
 * refused, to the dead letters with the reason, when its instance is stopped or its mailbox is
 * full; and while its instance is restarting it is journaled at once, so that a crash meanwhile
 * cannot lose it. A slot is made on an instance's first input.
 */
import { type AnyActorDefinition, InvariantError } from "../../../protocol/mod.ts";
import {
  admitSrcPos,
  InputRejectedError,
  newSlot,
  type Pending,
  type Slot,
  streamOf,
} from "../instances/mod.ts";
import type { HostMetrics } from "../operations/mod.ts";
import type { EdgeInput } from "../edge/mod.ts";
import type { JournalData, StreamMemo } from "../journal/mod.ts";
import { SlotMap } from "./_slot_map.ts";
import { GaugeSlots } from "./gauge_slots.ts";

/** What the mailboxes work with: the host's metrics, limit, journal appends and pump. */
export interface MailboxParts {
  metrics: HostMetrics;
  /** Inputs that may wait in one mailbox. */
  mailboxMax: number;
  /** Appends to the journal; undefined when the journal cannot be written (the host stops). */
  append(
    stream: string,
    bytes: JournalData,
    memo?: StreamMemo,
  ): number | Promise<number> | undefined;
  /** Dead-letters an input its instance cannot take. */
  reject(slot: Slot, item: Pending, err: InputRejectedError): void;
  /** Journals and applies what waits in a slot's mailbox. */
  pump(slot: Slot): void;
}

/** Every instance's slot, by stream, and the way inputs into them. */
export class Mailboxes {
  readonly slots = new SlotMap();
  /** What the gauges look at of the slots: those with inputs waiting, those not running. */
  readonly gauges = new GaugeSlots(this.slots);
  /**
   * The slots of kinds that act on time (a `tickEvent`), by stream: what the ticker looks at,
   * not every instance each period. A slot recovery forgot stays here without an instance (it
   * gets no tick) until its stream's next slot takes its place.
   */
  readonly tickSlots = new Map<string, Slot>();
  readonly #parts: MailboxParts;
  /**
   * The slots of a feed input's targets, by the edge's targets array (one per channel, kept
   * while the kinds' configurations stand), valid while the slots' map's generation stands: a
   * stream name made afresh for every input is a new string whose hash the map computes again,
   * and the map's lookup itself, in tens of thousands of slots, each of a channel's instances
   * each sample.
   */
  readonly #targetSlots = new WeakMap<
    EdgeInput["targets"],
    { generation: number; slots: Slot[] }
  >();

  constructor(parts: MailboxParts) {
    this.#parts = parts;
  }

  /**
   * The slot of `(def.kind, key)`, made (running, empty) if there is none yet; `stream`, its
   * stream's name, where the caller holds it already (a start's, from the journal: a name made
   * again would be a new string the map hashes again, for each of a fleet host's instances).
   */
  slot(def: AnyActorDefinition, key: string, stream: string = streamOf(def.kind, key)): Slot {
    return this.#slotOf(def, key, stream);
  }

  /** The slot of `(def.kind, key)`, whose stream is `stream`. */
  #slotOf(def: AnyActorDefinition, key: string, stream: string): Slot {
    let slot = this.slots.get(stream);
    if (!slot) {
      slot = newSlot(def, key, this.#parts.metrics.tally(def.kind), stream);
      this.slots.add(stream, slot);
      if (def.tickEvent) this.tickSlots.set(stream, slot);
      this.#parts.metrics.instances.inc({ kind: def.kind });
    }
    return slot;
  }

  /** Puts a feed input in the mailbox of each instance it goes to. */
  enqueueInput({ targets, record, bytes, decoded }: EdgeInput, arrivedMs: number): void {
    const slots = this.#slotsOf(targets), generation = this.slots.generation;
    for (let i = 0; i < targets.length; i++) {
      const [def, key] = targets[i]!;
      // An input applied at once may have had a slot taken out meanwhile (a failed instance's).
      const slot = this.slots.generation === generation ? slots[i]! : this.slot(def, key);
      this.#enqueueIn(def, slot, { record, bytes, decoded, arrivedMs });
    }
  }

  /** The slots of `targets`, in order, each made if there is none yet. */
  #slotsOf(targets: EdgeInput["targets"]): Slot[] {
    const known = this.#targetSlots.get(targets);
    if (known !== undefined && known.generation === this.slots.generation) return known.slots;
    const slots = targets.map(([def, key]) => this.slot(def, key));
    // Made after the slots: making a stream's first slot leaves the generation as it is.
    this.#targetSlots.set(targets, { generation: this.slots.generation, slots });
    return slots;
  }

  /** Puts an input in its instance's mailbox, or refuses it, and runs the pump. */
  enqueue(def: AnyActorDefinition, key: string, item: Pending): void {
    this.#enqueueIn(def, this.slot(def, key), item);
  }

  /**
   * Puts an input in the mailbox of the instance of `slot`'s stream (the slot held for it now,
   * which a rebuild may have replaced), as `enqueue` does, by the stream name the slot keeps.
   */
  enqueueFor(slot: Slot, item: Pending): void {
    const { def, key } = slot;
    this.#enqueueIn(def, this.#slotOf(def, key, slot.stream), item);
  }

  #enqueueIn(def: AnyActorDefinition, slot: Slot, item: Pending): void {
    const parts = this.#parts;
    if (slot.status === "stopped") {
      const message = `Actor ${slot.stream} is stopped after repeated failures`;
      parts.reject(slot, item, new InputRejectedError("stopped", message));
      return;
    }
    if (!admitSrcPos(slot, item.record.srcPos)) {
      parts.metrics.duplicates.inc({ kind: def.kind });
      return;
    }
    if (slot.mailbox.length - slot.head >= parts.mailboxMax) {
      const message = `Mailbox of ${slot.stream} is full (${parts.mailboxMax} inputs waiting)`;
      parts.reject(slot, item, new InputRejectedError("overflow", message));
      return;
    }
    if (slot.status === "backoff" || slot.status === "recovering") this.journalWaiting(slot, item);
    checkOrder(slot, item);
    slot.mailbox.push(item);
    parts.pump(slot);
    // Most inputs are applied at once: only a mailbox left with some is noted (adding the slot
    // to the set for every input would cost more than the walk it spares).
    if (slot.mailbox.length > slot.head) this.gauges.noteWaiting(slot);
  }

  /**
   * Journals an input that must wait for its instance to come back: a crash meanwhile must not
   * lose it (recovery resumes the feed after the highest source position any instance journaled).
   * The restart applies it from the journal or from the mailbox, by position, once.
   */
  journalWaiting(slot: Slot, item: Pending): void {
    if (item.pos !== undefined || item.posPromise !== undefined) return;
    const r = this.#parts.append(slot.stream, item.bytes, slot.memo);
    if (r === undefined) return;
    if (typeof r === "number") item.pos = r;
    else {
      item.posPromise = r;
      // Awaited by the pump once the instance runs again, which may be never (its partition's
      // lease lost meanwhile): a refused append must not be an unhandled rejection till then.
      r.catch(() => {});
    }
  }
}

/**
 * A mailbox holds its inputs in source order (admission takes each position once, rising): an
 * input behind the last one waiting would be journaled, and so folded, out of the feed's order.
 */
function checkOrder(slot: Slot, item: Pending): void {
  const srcPos = item.record.srcPos;
  if (srcPos <= 0 || slot.mailbox.length === slot.head) return;
  const last = slot.mailbox[slot.mailbox.length - 1]!.record.srcPos;
  if (last <= 0 || last < srcPos) return;
  outOfOrder(slot.stream, srcPos, last);
}

/**
 * Throws: apart from checkOrder, so that no closure for the message (nor its context) is made
 * there for every input.
 */
function outOfOrder(stream: string, srcPos: number, last: number): never {
  throw new InvariantError(
    `Mailbox of ${stream} was given source position ${srcPos} after ${last}`,
  );
}
