/**
 * Which instances a periodic round of snapshots looks at (snapshotter.ts): not every slot of the
 * host each round (tens of thousands of quiet instances, looked at every second), only those that
 * may be due. An instance enters when it has its first input since its last snapshot, or reaches
 * the inputs that make it worth one (`minInputs`); a look that finds it not due yet puts it aside
 * until the time at which it would be (its period, or the age of its last snapshot), and one that
 * finds it without news, stopped or without an instance lets it go. The rule a look applies is
 * the snapshotter's, unchanged: this only spares the looks that rule would have answered "no".
 */
import type { Slot } from "../instances/mod.ts";

/** A slot set aside until `atMs`; stale once the slot was set aside again (`snapAtMs`). */
interface Later {
  atMs: number;
  slot: Slot;
}

/** The slots a round of snapshots looks at, and those set aside till a time. */
export class SnapshotDue {
  /** Slots to look at in the next round, in the order they came (a round takes them in turn). */
  readonly ready = new Set<Slot>();
  /** Slots set aside, a binary min-heap by time. */
  readonly #later: Later[] = [];

  /** The slot's instance has had an input; `atLeast`: it has as many as make it worth one. */
  noteNews(slot: Slot, atLeast: boolean): void {
    const state = slot.snapIndex;
    if (state === "none" || (state === "age" && atLeast)) {
      slot.snapIndex = "ready";
      this.ready.add(slot);
    }
  }

  /** Takes out of the index a slot a look found with nothing to wait for. */
  drop(slot: Slot): void {
    this.ready.delete(slot);
    slot.snapIndex = "none";
  }

  /**
   * Sets the slot aside until `atMs`: for its period to be over (`age` false), or for its last
   * snapshot to be old enough (`age` true), when news that make it worth one take it back early.
   */
  setAside(slot: Slot, atMs: number, age: boolean): void {
    this.ready.delete(slot);
    slot.snapIndex = age ? "age" : "period";
    slot.snapAtMs = atMs;
    this.#push({ atMs, slot });
  }

  /** Moves the slots set aside until `now` or before into `ready`. */
  wake(now: number): void {
    const heap = this.#later;
    while (heap.length > 0 && heap[0]!.atMs <= now) {
      const { atMs, slot } = this.#pop();
      const state = slot.snapIndex;
      if ((state === "age" || state === "period") && slot.snapAtMs === atMs) {
        slot.snapIndex = "ready";
        this.ready.add(slot);
      }
    }
  }

  /** How many entries are set aside (stale ones included): for tests. */
  get waiting(): number {
    return this.#later.length;
  }

  #push(entry: Later): void {
    const heap = this.#later;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (heap[up]!.atMs <= entry.atMs) break;
      heap[i] = heap[up]!;
      i = up;
    }
    heap[i] = entry;
  }

  #pop(): Later {
    const heap = this.#later;
    const top = heap[0]!, last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let least = i, atMs = last.atMs;
      if (l < heap.length && heap[l]!.atMs < atMs) (least = l), (atMs = heap[l]!.atMs);
      if (r < heap.length && heap[r]!.atMs < atMs) least = r;
      if (least === i) break;
      heap[i] = heap[least]!;
      i = least;
    }
    heap[i] = last;
    return top;
  }
}
