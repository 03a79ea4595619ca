/**
 * The order in which a host acts on the trials of a team's steps (step_trials.ts): the order they
 * were submitted in, which is the order their inputs were journaled, so that the host publishes
 * in input order as it does when it applies inputs at once (a replay folds them in that order).
 * One exception: a stream whose step is stuck (its thread set aside) no longer holds up the
 * others; its own later inputs wait for it, and are acted on in order once it is decided.
 */

/** A trial waiting to be acted on. */
interface Entry {
  stream: string;
  decided: boolean;
  act(): void | Promise<void>;
}

/** Acts on trials in the order they were submitted (but for a stuck stream's). */
export class TrialOrder {
  readonly #entries: Entry[] = [];
  /** Streams whose first entry is stuck: the others go past them. */
  readonly #stuck = new Set<string>();
  readonly #log: (message: string) => void;
  #acting = false;

  constructor(log: (message: string) => void) {
    this.#log = log;
  }

  /** Acts on `outcome` with `act` once it is decided and every entry before it was acted on. */
  submit<T>(stream: string, outcome: Promise<T>, act: (outcome: T) => void | Promise<void>): void {
    const entry: Entry = { stream, decided: false, act: () => {} };
    this.#entries.push(entry);
    outcome.then((o) => {
      entry.decided = true;
      entry.act = () => act(o);
      void this.#run();
    });
  }

  /** `stream`'s first entry is stuck: the entries of other streams go on past it. */
  stuck(stream: string): void {
    this.#stuck.add(stream);
    void this.#run();
  }

  async #run(): Promise<void> {
    if (this.#acting) return;
    this.#acting = true;
    try {
      for (let entry = this.#nextReady(); entry !== undefined; entry = this.#nextReady()) {
        this.#stuck.delete(entry.stream);
        try {
          await entry.act();
        } catch (err) {
          this.#log(`${entry.stream}: acting on a step's trial failed: ${(err as Error).message}`);
        }
      }
    } finally {
      this.#acting = false;
    }
  }

  /** Takes the first entry that may be acted on now, if one may. */
  #nextReady(): Entry | undefined {
    const entries = this.#entries;
    let held: Set<string> | undefined;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (held?.has(e.stream)) continue;
      if (e.decided) {
        entries.splice(i, 1);
        return e;
      }
      if (!this.#stuck.has(e.stream)) return undefined;
      (held ??= new Set()).add(e.stream); // its later entries wait for it
    }
    return undefined;
  }
}
