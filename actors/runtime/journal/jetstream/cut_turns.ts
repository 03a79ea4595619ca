/**
 * The turns the cuts of a process's journals take: one purge at a time, each after the one before
 * is answered, so that nats-server is not asked to hold several partitions' streams at once (a
 * leased host's partitions share one).
 */
export class CutTurns {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `step` once the steps taken before it have ended. */
  take<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(step);
    this.#tail = run.catch(() => {});
    return run;
  }
}
