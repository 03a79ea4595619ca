/**
 * The ids of the inputs an actor instance applied most recently: the same envelope id sent twice
 * (a producer's retry, a copy on another subject) is applied once, whatever the input source, so
 * that two outputs never carry one id for different inputs. Part of the instance's state: it is
 * saved in snapshots and rebuilt by replaying the journal, so a restart decides as the first run
 * did. Bounded: the oldest id goes when a new one comes past `INPUT_IDS_MAX`.
 */

/** How many recent input ids an instance remembers. */
export const INPUT_IDS_MAX = 256;

/** A bounded window of recent input ids, oldest first. */
export class InputIdWindow {
  readonly #ring: string[];
  readonly #set = new Set<string>();
  readonly #max: number;
  #next = 0;

  constructor(ids: readonly string[] = [], max = INPUT_IDS_MAX) {
    if (!(Number.isSafeInteger(max) && max > 0)) {
      throw new RangeError(`An input id window must hold at least one id, got ${max}`);
    }
    this.#max = max;
    this.#ring = [];
    for (const id of ids.slice(-max)) this.add(id);
  }

  /** Whether `id` is among the recent ids. */
  has(id: string): boolean {
    return this.#set.has(id);
  }

  /** Remembers `id`, forgetting the oldest when the window is full. */
  add(id: string): void {
    if (this.#set.has(id)) return;
    if (this.#ring.length < this.#max) this.#ring.push(id);
    else {
      this.#set.delete(this.#ring[this.#next]!);
      this.#ring[this.#next] = id;
    }
    this.#next = (this.#next + 1) % this.#max;
    this.#set.add(id);
  }

  /** The ids, oldest first (for a snapshot). */
  toArray(): string[] {
    if (this.#ring.length < this.#max) return [...this.#ring];
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }
}

/** The ids of a snapshot's window, or [] when it has none (a snapshot from before the window). */
export function idsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((id): id is string => typeof id === "string");
}
