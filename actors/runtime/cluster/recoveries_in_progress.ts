/**
 * The partitions a leased host is recovering (opening its journal, then its host's start): what
 * holds its partitions' journal compactions back (`CompactHold`), so that a partition recovered
 * first does not send thousands of purges to nats-server while the others still read their
 * journals (docs/leased_stop_and_start.md).
 */
import type { CompactHold } from "../journal/jetstream/mod.ts";

export class RecoveriesInProgress implements CompactHold {
  readonly #inProgress = new Set<Promise<void>>();

  /** Whether a recovery is in progress. */
  get busy(): boolean {
    return this.#inProgress.size > 0;
  }

  /** A recovery begins; the function returned ends it (once, however often called). */
  begin(): () => void {
    let end!: () => void;
    const done = new Promise<void>((resolve) => end = resolve);
    this.#inProgress.add(done);
    return () => {
      this.#inProgress.delete(done);
      end();
    };
  }

  /**
   * Resolves once the recoveries in progress at the call have ended: not those begun after, so
   * that a host claiming partition after partition holds no compaction for ever.
   */
  ended(): Promise<void> {
    return Promise.all(this.#inProgress).then(() => {});
  }
}
