/**
 * The channels a process's hosts admitted, each counted once: a leased host runs a host per
 * partition it holds, and a channel's instances may fall on two of them (its own partition, and
 * its coherence group's), each admitting it. The process's channel limit is on the channels, not
 * on the admissions: a partition admits a channel another already holds at no cost, and a new one
 * only while the book is under the limit. A partition's host that stops (its lease lost or handed
 * off) releases what it held.
 */

/** The channels admitted by any of a process's hosts, by the hosts holding each. */
export class ChannelBook {
  /** How many hosts hold each channel. */
  readonly #holders = new Map<string, number>();
  /** The channels each host holds. */
  readonly #held = new Map<string, Set<string>>();

  /** Channels held by at least one host. */
  get size(): number {
    return this.#holders.size;
  }

  /** Whether any host holds `channel`. */
  has(channel: string): boolean {
    return this.#holders.has(channel);
  }

  /** Host `holder` holds `channel` (again: no change). */
  add(channel: string, holder: string): void {
    let held = this.#held.get(holder);
    if (held === undefined) this.#held.set(holder, held = new Set());
    if (held.has(channel)) return;
    held.add(channel);
    this.#holders.set(channel, (this.#holders.get(channel) ?? 0) + 1);
  }

  /** Host `holder` holds nothing any more. */
  release(holder: string): void {
    const held = this.#held.get(holder);
    if (held === undefined) return;
    this.#held.delete(holder);
    for (const channel of held) {
      const n = this.#holders.get(channel)! - 1;
      if (n > 0) this.#holders.set(channel, n);
      else this.#holders.delete(channel);
    }
  }
}
