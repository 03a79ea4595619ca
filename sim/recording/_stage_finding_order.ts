/**
 * The order in which a replay's incident stage takes the replayed findings: the order the live
 * stage took them. Live, a host publishes its findings and its progress marks on one connection,
 * so the recording holds them in the order the stage saw them, and a host running behind its feed
 * publishes a mark before the findings of inputs recorded ahead of that mark. The replay makes a
 * finding when its input is applied, which can be before or after its recorded copy is read, and
 * the findings of different instances in another order than live. The stage's fold depends on
 * that order (a finding moves event time, which releases those held behind it), so the recorded
 * findings go to the stage in the order of their recorded copies: each once its copy is read and
 * the replay has made it, after every finding recorded before it. Before a recorded progress mark
 * the replay applies every input recorded ahead of it and the order is settled: a recorded finding
 * the replay did not make by then (a changed detector's what-if) is given up waiting for, and taken
 * whenever it comes. A finding the recording does not hold goes at once, as nothing says where live
 * would have had it.
 */
export class StageFindingOrder {
  readonly #take: (data: Uint8Array) => void;
  /** The ids of the recorded findings whose copies are not read yet. */
  readonly #ahead: Set<string>;
  /** Ids whose recorded copies were read, in that order, not yet taken. */
  #due: string[] = [];
  /** Where the next id due is in `#due`. */
  #next = 0;
  /** The ids in `#due` from `#next` on. */
  readonly #waiting = new Set<string>();
  /** Replayed findings made and not taken yet, by id. */
  readonly #made = new Map<string, Uint8Array>();

  /** `recorded`: the ids of every finding the recording holds; `take`: the stage's. */
  constructor(recorded: Set<string>, take: (data: Uint8Array) => void) {
    this.#ahead = recorded;
    this.#take = take;
  }

  /** A finding the replay made, with its envelope id. */
  replayed(id: string | undefined, data: Uint8Array): void {
    if (id === undefined || (!this.#ahead.has(id) && !this.#waiting.has(id))) {
      this.#take(data);
      return;
    }
    this.#made.set(id, data);
    this.#drain();
  }

  /** The recording's copy of the finding `id` was read: it is due after those read before it. */
  recorded(id: string | undefined): void {
    if (id === undefined || !this.#ahead.delete(id)) return;
    this.#due.push(id);
    this.#waiting.add(id);
    this.#drain();
  }

  /**
   * Every input recorded so far is applied: the findings due and not made are not waited for (the
   * replay made other findings than live), and those behind them go.
   */
  settle(): void {
    while (this.#next < this.#due.length) {
      const id = this.#due[this.#next++]!;
      this.#waiting.delete(id);
      const data = this.#made.get(id);
      if (data === undefined) continue;
      this.#made.delete(id);
      this.#take(data);
    }
    this.#compact();
  }

  /** The recording is read through: what still waits goes, in the order it is due, then made. */
  release(): void {
    this.settle();
    for (const data of this.#made.values()) this.#take(data);
    this.#made.clear();
  }

  /** Takes the findings due, in order, while the next one is made. */
  #drain(): void {
    while (this.#next < this.#due.length) {
      const id = this.#due[this.#next]!;
      const data = this.#made.get(id);
      if (data === undefined) break;
      this.#made.delete(id);
      this.#waiting.delete(id);
      this.#next++;
      this.#take(data);
    }
    if (this.#next > 1024 && this.#next * 2 > this.#due.length) this.#compact();
  }

  #compact(): void {
    this.#due = this.#due.slice(this.#next);
    this.#next = 0;
  }
}
