/**
 * The control messages a host has counted as refused, by envelope id: a message kept by the
 * control stream reaches a host twice (live, and from the stream), and its refusal is counted,
 * and dead-lettered, once. Bounded: the oldest ids go first.
 */

/** How many refused ids a host remembers. */
export const CONTROL_REFUSALS_KEPT_MAX = 4096;

/** The ids of control messages refused here, the newest CONTROL_REFUSALS_KEPT_MAX. */
export class ControlRefusals {
  readonly #ids = new Set<string>();
  readonly #max: number;

  constructor(max = CONTROL_REFUSALS_KEPT_MAX) {
    this.#max = max;
  }

  /** Records `id`: true the first time it is seen (within the bound), false after. */
  first(id: string): boolean {
    if (this.#ids.has(id)) return false;
    if (this.#ids.size >= this.#max) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
    this.#ids.add(id);
    return true;
  }
}
