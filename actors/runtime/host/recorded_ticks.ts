/**
 * The clock ticks a recording says its live host applied (protocol/tick_notice.ts), for a replay
 * to apply where the host did: each right after the input of its instance it names. A replay's
 * host does not tick on its own (its clock is not the live one): a tick it missed would leave a
 * quiet channel's bar to be closed by the next sample instead, under another id.
 *
 * A notice whose input the replay never hands its instance (the recording began after it, or a
 * range leaves it out) is not applied; `placed` counts those that were, for the replay to say how
 * many were not.
 */
import { decodeEnvelope, type TickNotice } from "../../../protocol/mod.ts";
import type { Pending, Slot } from "../instances/mod.ts";
import { tickPending } from "./ticker.ts";

/** The envelope id of an input an instance takes (undefined for a tick, or none to read). */
export function inputIdOf(item: Pending): string | undefined {
  if (item.decoded) return item.decoded.envelope.id;
  const kind = item.record.kind;
  if (kind !== "ctl" && kind !== "seed") return undefined;
  try {
    return decodeEnvelope(item.record.payload).id;
  } catch {
    return undefined; // the instance will refuse it; no tick can name it
  }
}

/** The recorded ticks of a replay, by instance and the input each came after; each taken once. */
export class RecordedTicks {
  /** Per stream, per input id, the ticks' payloads in the order the host applied them. */
  readonly #ticks = new Map<string, Map<string, Uint8Array[]>>();
  /** Ticks put in a mailbox. */
  placed = 0;

  constructor(notices: Iterable<TickNotice>) {
    for (const n of notices) {
      if (n.after === undefined) continue;
      let byInput = this.#ticks.get(n.stream);
      if (byInput === undefined) this.#ticks.set(n.stream, byInput = new Map());
      const list = byInput.get(n.after);
      if (list === undefined) byInput.set(n.after, [n.tick]);
      else list.push(n.tick);
    }
  }

  /**
   * Puts the ticks recorded after input `item` of `slot`'s instance at the head of its mailbox,
   * where the pump, which has taken `item` from it, takes them next: whether it put any.
   */
  placeAfter(slot: Slot, item: Pending): boolean {
    const byInput = this.#ticks.get(slot.stream);
    if (byInput === undefined) return false;
    const id = inputIdOf(item);
    const ticks = id === undefined ? undefined : byInput.get(id);
    if (ticks === undefined) return false;
    byInput.delete(id!);
    if (byInput.size === 0) this.#ticks.delete(slot.stream);
    this.placed += ticks.length;
    slot.mailbox.splice(slot.head, 0, ...ticks.map(tickPending));
    return true;
  }
}
