import type { ScanDefinition } from "../../protocol/mod.ts";
/**
 * The symbols that matched a criteria in its latest scan on this host, best first, kept so that
 * the next scan of the same criteria puts them in its first chunk. On a market whose bars move a
 * bar at a time, what matched at the last scan is the likeliest to match now; in priority order
 * alone a scan whose matches are rare evaluates hundreds of symbols before its first match, while
 * a repeated scan now finds its first results among its
 * first few dozen. Only the order changes: every symbol is still evaluated by a worker, and the
 * chunks, in this order, are journaled in the scan's definition, so replay is exact.
 */

/** Criteria whose recent hits are kept (the least recently set dropped beyond). */
export const RECENT_CRITERIA_MAX = 64;

/** Recent hits by criteria (with its rank, order and bar size). */
export class RecentHits {
  #byKey = new Map<string, readonly string[]>();
  readonly #most: number;

  /** Keeps at most `most` symbols per criteria. */
  constructor(most: number) {
    this.#most = most;
  }

  /** The hits kept for the criteria of `def` (best first), or undefined. */
  get(def: ScanDefinition): readonly string[] | undefined {
    return this.#byKey.get(keyOf(def));
  }

  /** Keeps the first hits of a scan of `def` (in their order); none forgets the criteria's. */
  set(def: ScanDefinition, symbols: readonly string[]): void {
    const key = keyOf(def);
    this.#byKey.delete(key);
    if (symbols.length === 0) return;
    if (this.#byKey.size >= RECENT_CRITERIA_MAX) {
      this.#byKey.delete(this.#byKey.keys().next().value!);
    }
    this.#byKey.set(key, symbols.slice(0, this.#most));
  }
}

function keyOf(def: ScanDefinition): string {
  return `${def.bar}\n${def.order}\n${def.rank ?? ""}\n${def.criteria}`;
}
