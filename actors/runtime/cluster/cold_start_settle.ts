/**
 * A cold start's wait for the hosts started with it. When a host joins a cluster where no
 * partition is held (a new cluster, or every host restarted at once), the first host to look sees
 * no other host and would claim every partition, then hand most of them off a moment later as the
 * others appear, each handed-off partition recovered twice (once abandoned part-way). So on a cold
 * start a host claims nothing until the live hosts it sees have stayed the same for `settleMs`,
 * and at most `maxMs` after its first look, as Kafka's consumer groups wait
 * `group.initial.rebalance.delay.ms` before the first assignment of an empty group. A host joining
 * a cluster where partitions are held claims its share at once: the holders hand it over.
 *
 * Pure: the caller passes each look's view and its clock's time.
 */
import type { LeaseView } from "./lease_bucket.ts";

/**
 * What a look decided: claim (the settle is over, for good), or wait for more hosts (`first` at
 * the look that began the wait).
 */
export type SettleDecision =
  | { claim: true; waitedMs?: number; hosts?: number }
  | { claim: false; first: boolean };

/** Whether a host's first claims should wait for hosts started with it. */
export class ColdStartSettle {
  readonly #settleMs: number;
  readonly #maxMs: number;
  #done: boolean;
  #firstMs = NaN;
  #changedMs = NaN;
  #live = "";

  /** `settleMs` 0: no wait. `maxMs`: the longest wait from the first look. */
  constructor(settleMs: number, maxMs: number) {
    this.#settleMs = settleMs;
    this.#maxMs = Math.max(settleMs, maxMs);
    this.#done = settleMs <= 0;
  }

  /** Whether the settle is over (claims go on as usual from then on). */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Decides at a look: `live` is the hosts seen (this one among them), `nowMs` the look's time on
   * the host's monotonic clock. `waitedMs` and `hosts` come with the decision that ends a wait.
   */
  look(view: LeaseView, live: readonly string[], nowMs: number): SettleDecision {
    if (this.#done) return { claim: true };
    // Partitions held (or unreadable, treated as held): a running cluster, which hands over.
    if (view.leases.size > 0 || view.damaged.length > 0) return this.#end(nowMs, live);
    const key = [...live].sort().join(" ");
    const first = Number.isNaN(this.#firstMs);
    if (first) {
      this.#firstMs = this.#changedMs = nowMs;
      this.#live = key;
    } else if (key !== this.#live) {
      this.#live = key;
      this.#changedMs = nowMs;
    }
    const quiet = nowMs - this.#changedMs >= this.#settleMs;
    if (quiet || nowMs - this.#firstMs >= this.#maxMs) return this.#end(nowMs, live);
    return { claim: false, first };
  }

  #end(nowMs: number, live: readonly string[]): SettleDecision {
    this.#done = true;
    if (Number.isNaN(this.#firstMs)) return { claim: true };
    return { claim: true, waitedMs: nowMs - this.#firstMs, hosts: live.length };
  }
}
