/**
 * The order in which a replay's incident stage takes the replayed findings: the order the live
 * stage took them. Live, a host publishes its findings and its progress marks on one connection,
 * so the recording holds them in the order the stage saw them, and a host running behind its feed
 * publishes a mark before the findings of inputs recorded ahead of that mark. The replay makes a
 * finding as soon as its input is applied, which can be before such a mark is read; given to the
 * stage then, the mark would come after it rather than before, and the stage's reorder bound
 * would release the incident at another time than live. So a finding the recording holds goes to
 * the stage when its recorded copy is read (at once when the copy was read first); one the
 * recording does not hold (a changed detector's, in a what-if) goes at once, as nothing says where
 * live would have had it.
 */
export class StageFindingOrder {
  readonly #take: (data: Uint8Array) => void;
  /** The ids of the recorded findings whose copies are not read yet. */
  readonly #ahead: Set<string>;
  /** Replayed findings waiting for their recorded copies, by id, in the order they came. */
  readonly #held = new Map<string, Uint8Array>();

  /** `recorded`: the ids of every finding the recording holds; `take`: the stage's. */
  constructor(recorded: Set<string>, take: (data: Uint8Array) => void) {
    this.#ahead = recorded;
    this.#take = take;
  }

  /** A finding the replay made, with its envelope id. */
  replayed(id: string | undefined, data: Uint8Array): void {
    if (id === undefined || !this.#ahead.has(id)) this.#take(data);
    else this.#held.set(id, data);
  }

  /** The recording's copy of the finding `id` was read: the stage takes the replayed one now. */
  recorded(id: string | undefined): void {
    if (id === undefined || !this.#ahead.delete(id)) return;
    const data = this.#held.get(id);
    if (data === undefined) return;
    this.#held.delete(id);
    this.#take(data);
  }

  /** The recording is read through: what still waits goes, in the order it came. */
  release(): void {
    for (const data of this.#held.values()) this.#take(data);
    this.#held.clear();
  }
}
