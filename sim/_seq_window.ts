/**
 * Values by sequence number, for sequences within a window of `capacity` consecutive numbers (a
 * feed consumer's frames that arrived ahead of the one it waits for): a ring indexed by the
 * sequence, so that holding and releasing a frame makes nothing (a Map that is filled and emptied
 * all through a run rebuilds its table again and again). A sequence outside the window is the
 * caller's to refuse; one that falls on a slot another sequence holds replaces it.
 */
export class SeqWindow<T> {
  readonly #values: (T | undefined)[];
  readonly #seqs: number[];
  #size = 0;

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0 && capacity <= 1 << 20)) {
      throw new RangeError(`SeqWindow capacity must be an integer in [1, 2^20], got ${capacity}`);
    }
    this.#values = new Array<T | undefined>(capacity).fill(undefined);
    this.#seqs = new Array<number>(capacity).fill(-1);
  }

  /** Values held. */
  get size(): number {
    return this.#size;
  }

  get(seq: number): T | undefined {
    const i = seq % this.#seqs.length;
    return this.#seqs[i] === seq ? this.#values[i] : undefined;
  }

  has(seq: number): boolean {
    return this.#seqs[seq % this.#seqs.length] === seq;
  }

  set(seq: number, value: T): void {
    const i = seq % this.#seqs.length;
    if (this.#seqs[i] === -1) this.#size++;
    this.#seqs[i] = seq;
    this.#values[i] = value;
  }

  delete(seq: number): void {
    const i = seq % this.#seqs.length;
    if (this.#seqs[i] !== seq) return;
    this.#seqs[i] = -1;
    this.#values[i] = undefined;
    this.#size--;
  }
}
