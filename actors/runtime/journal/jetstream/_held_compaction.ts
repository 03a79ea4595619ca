/**
 * A journal's compaction held back while its hold is busy (`CompactHold`): asked for again
 * meanwhile, it takes the newest limits; it runs once the work in progress when it was first held
 * has ended, after the one held before it; how it failed is kept for the next caller to throw.
 */
import type { CompactHold } from "./jetstream_stream.ts";

export class HeldCompaction {
  readonly #hold: CompactHold;
  readonly #run: (upTo: ReadonlyMap<string, number>) => Promise<void>;
  /** Resolves as the journal closes: a compaction held then is dropped. */
  readonly #closed: Promise<void>;
  /** The newest limits asked for, while a compaction is held and has not begun. */
  #upTo: ReadonlyMap<string, number> | undefined;
  #failed: Error | undefined;
  /** The compaction held or running, until it has run. */
  running: Promise<void> | undefined;

  constructor(
    hold: CompactHold,
    closed: Promise<void>,
    run: (upTo: ReadonlyMap<string, number>) => Promise<void>,
  ) {
    this.#hold = hold;
    this.#closed = closed;
    this.#run = run;
  }

  /** Whether a compaction asked for now is held back (the hold is busy). */
  get busy(): boolean {
    return this.#hold.busy;
  }

  /** How the last compaction held back failed, once (then forgotten). */
  takeFailure(): Error | undefined {
    const failed = this.#failed;
    this.#failed = undefined;
    return failed;
  }

  /** Holds a compaction up to `upTo` back; returns the promise that settles once it has run. */
  ask(upTo: ReadonlyMap<string, number>): Promise<unknown> {
    const holding = this.#upTo !== undefined;
    this.#upTo = upTo;
    if (holding) return this.running!;
    let closed = false;
    const before = this.running;
    const run = Promise.all([
      before,
      Promise.race([this.#hold.ended(), this.#closed.then(() => void (closed = true))]),
    ]).then(() => {
      const limits = this.#upTo!;
      this.#upTo = undefined;
      if (!closed) return this.#run(limits);
    }).catch((err: Error) => void (this.#failed = err));
    this.running = run;
    run.then(() => {
      if (this.running === run) this.running = undefined;
    });
    return run;
  }
}
