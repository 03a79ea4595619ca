/**
 * What a stopping host snapshots, in which order, and until when. Without a budget: every
 * instance a snapshot pays for, in the host's order of its slots. With one
 * (`snapshots.stop_budget_ms`), the stop spends it where a snapshot saves the next start most:
 * first the instances that have no stored snapshot (the next start would replay each one's whole
 * journal before it takes input), then the others by their inputs since their last snapshot,
 * most first (what the next start, or the instance's first use after it, replays); ties in the
 * host's order, so the same host stops in the same order. Past the budget the stop takes no more
 * batches, and the instances left are left as those under `snapshots.min_inputs` are. Private to
 * the snapshotter.
 */
import type { Slot } from "../instances/mod.ts";

/** What a stop snapshots, in order, until when, and how many it has taken. */
export class StopPlan {
  readonly order: Slot[];
  /** The host-clock time (ms) past which the stop takes no more batches (Infinity: none). */
  readonly deadline: number;
  readonly fromMs: number;
  readonly budgetMs: number | undefined;
  /** Snapshots taken so far. */
  taken = 0;

  private constructor(order: Slot[], fromMs: number, budgetMs: number | undefined) {
    this.order = order;
    this.fromMs = fromMs;
    this.budgetMs = budgetMs;
    this.deadline = budgetMs === undefined ? Infinity : fromMs + budgetMs;
  }

  /**
   * The plan of a stop at `nowMs` over `slots`, those `pays` says are worth a snapshot; `saved`
   * tells whether a stream has a stored snapshot.
   */
  static of(
    slots: Iterable<Slot>,
    pays: (slot: Slot) => boolean,
    saved: (stream: string) => boolean,
    nowMs: number,
    budgetMs: number | undefined,
  ): StopPlan {
    const taken: Slot[] = [];
    const weight: number[] = [];
    for (const slot of slots) {
      if (!pays(slot)) continue;
      taken.push(slot);
      weight.push(saved(slot.stream) ? slot.awake!.sinceSnapshot : Infinity);
    }
    if (budgetMs === undefined) return new StopPlan(taken, nowMs, budgetMs);
    const order = Array.from(taken.keys());
    order.sort((a, b) => weight[b]! - weight[a]! || a - b);
    return new StopPlan(order.map((i) => taken[i]!), nowMs, budgetMs);
  }

  /** What to say once the stop is over at `nowMs`: nothing unless its budget left some. */
  told(nowMs: number): string | undefined {
    const left = this.order.length - this.taken;
    if (left <= 0) return undefined;
    return `snapshots: the stop wrote ${this.taken} of ${this.order.length} in ${
      Math.round(nowMs - this.fromMs)
    } ms, its budget ${this.budgetMs} ms (snapshots.stop_budget_ms); the other ${left} are ` +
      `restored from their last snapshots and the journal past them at the next start, their ` +
      `outputs not published again`;
  }
}
