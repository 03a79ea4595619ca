/**
 * Inputs without a source position (control messages, clock ticks) that an order-preserving
 * rebuild voided and must apply again: the input gives back the frames around them, but not them,
 * so each is held until the input reaches the place it had among its instance's inputs, and is
 * then journaled and applied again there (see recovery.ts).
 *
 * A held input goes either before a frame (the next frame of its instance that the journal
 * held after it: `before` that frame's source position) or, when its instance had no frame after
 * it, after every input the host had taken before it (`after` the highest source position
 * journaled before it, across all streams). As the input delivers source position p, the inputs
 * held before p or after a lower position go in before it; those held after p go in after it.
 */
import type { Pending, Slot } from "../instances/mod.ts";
import { encodeInputRecord, type InputRecord } from "../../../protocol/mod.ts";

/** An input to apply again, and where it goes among the input's source positions. */
export interface HeldInput {
  record: InputRecord;
  /** It goes in just before the input at this source position. */
  before?: number;
  /** It goes in just after the input at this source position (used when `before` is not set). */
  after?: number;
}

interface Entry {
  slot: Slot;
  record: InputRecord;
  /** Released before source position p when key < p, after it when key <= p. */
  key: number;
  seq: number;
}

/** The held inputs of a host's rebuilt instances, released as the input goes past their place. */
export class HeldInputs {
  readonly #enqueue: (slot: Slot, item: Pending) => void;
  #entries: Entry[] = [];
  #head = 0;
  #seq = 0;

  /** `enqueue` journals and applies an input to an instance (the host's mailbox). */
  constructor(enqueue: (slot: Slot, item: Pending) => void) {
    this.#enqueue = enqueue;
  }

  /** How many inputs are held. */
  get waiting(): number {
    return this.#entries.length - this.#head;
  }

  /** Holds `inputs` of `slot`, in their order in its journal. */
  hold(slot: Slot, inputs: readonly HeldInput[]): void {
    if (inputs.length === 0) return;
    const kept = this.#entries.slice(this.#head);
    for (const input of inputs) {
      // Half a position below `before`: released before that input, after any lower one.
      const key = input.before !== undefined ? input.before - 0.5 : input.after ?? 0;
      kept.push({ slot, record: input.record, key, seq: this.#seq++ });
    }
    kept.sort((a, b) => a.key - b.key || a.seq - b.seq);
    this.#entries = kept;
    this.#head = 0;
  }

  /** Releases what goes in before the input at source position `srcPos`. */
  before(srcPos: number): void {
    this.#release((key) => key < srcPos);
  }

  /** Releases what goes in after the input at source position `srcPos` (or before any later). */
  after(srcPos: number): void {
    this.#release((key) => key <= srcPos);
  }

  /** Forgets what is held (the host stops). */
  clear(): void {
    this.#entries = [];
    this.#head = 0;
  }

  #release(due: (key: number) => boolean): void {
    while (this.#head < this.#entries.length && due(this.#entries[this.#head]!.key)) {
      const { slot, record } = this.#entries[this.#head++]!;
      this.#enqueue(slot, {
        record,
        bytes: encodeInputRecord(record),
        decoded: undefined,
        arrivedMs: performance.now(),
      });
    }
    if (this.#head === this.#entries.length) this.clear();
  }
}
