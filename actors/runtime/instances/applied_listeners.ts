/**
 * Who is told of each input a host applies live, by actor kind: what reads instances' state beside
 * the host (the scan's bars source) looks again at the keys it is told of only. Not on recovery.
 */
export class AppliedListeners {
  readonly #byKind = new Map<string, Set<(key: string, ts_us: number) => void>>();
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /**
   * Calls `listener(key, ts_us)` after each input applied live to an instance of `kind` (its event
   * time, NaN when it has none); returns its stop.
   */
  add(kind: string, listener: (key: string, ts_us: number) => void): () => void {
    let set = this.#byKind.get(kind);
    if (set === undefined) this.#byKind.set(kind, set = new Set());
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Tells `kind`'s listeners of `key`; one that throws is logged, and the others still hear. */
  tell(kind: string, key: string, ts_us = NaN): void {
    const listeners = this.#byKind.get(kind);
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        listener(key, ts_us);
      } catch (err) {
        this.#log(`an onApplied listener failed on ${kind}/${key}: ${(err as Error).message}`);
      }
    }
  }
}
