/**
 * What a host's gauges look at each second (liveness.ts `refreshGauges`): not every slot (tens of
 * thousands on a host of many channels), but the slots that may have inputs waiting and those
 * that may be other than running, each noted as it becomes so; every other slot is running with
 * an empty mailbox, so it is counted, not looked at. A slot found otherwise (its mailbox emptied,
 * back to running, or no longer the host's) is let go by the look that finds it.
 */
import type { Slot, Status } from "../instances/mod.ts";
import type { SlotMap } from "./_slot_map.ts";

/** The slots the gauges look at, over the host's slots. */
export class GaugeSlots {
  /** Every slot of the host, by stream, with its kinds' counts. */
  readonly all: SlotMap;
  /** Slots that may have inputs waiting (a superset: the look drops those with none). */
  readonly waiting = new Set<Slot>();
  /** Slots that may be other than running (a superset: the look drops the running ones). */
  readonly unsettled = new Set<Slot>();

  constructor(all: SlotMap) {
    this.all = all;
  }

  /** An input was put in the slot's mailbox. */
  noteWaiting(slot: Slot): void {
    this.waiting.add(slot);
  }

  /** The slot's status was set other than running. */
  noteStatus(slot: Slot): void {
    if (slot.status !== "running") this.unsettled.add(slot);
  }

  /**
   * The instances by status: the unsettled ones looked at, every other slot running. A slot
   * looked at that runs again, or is no longer the host's, leaves the set.
   */
  countByStatus(): Record<Status, number> {
    const counts: Record<Status, number> = { recovering: 0, running: 0, backoff: 0, stopped: 0 };
    let others = 0;
    for (const slot of this.unsettled) {
      if (slot.status === "running" || this.all.get(slot.stream) !== slot) {
        this.unsettled.delete(slot);
        continue;
      }
      counts[slot.status]++;
      others++;
    }
    counts.running = this.all.size - others;
    return counts;
  }
}
