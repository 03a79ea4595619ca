/**
 * Which seqs a stream client has handed over, for the last `window` seqs below the highest seen:
 * a bitmap (window / 8 bytes), so a message sent again under another subscription after a resume
 * is dropped. A seq older than the window counts as not seen (the gateway's ring, 65,536 messages
 * by default, holds no more than that, so it cannot send one again).
 */
export class SeenSeqs {
  readonly window: number;
  #bits: Uint8Array;
  /** The highest seq added (0: none). */
  #high = 0;

  constructor(window = 1 << 17) {
    if (!Number.isSafeInteger(window) || window < 8 || window % 8 !== 0) {
      throw new RangeError(`SeenSeqs window must be a positive multiple of 8, got ${window}`);
    }
    this.window = window;
    this.#bits = new Uint8Array(window / 8);
  }

  /** The highest seq added (0: none). */
  get high(): number {
    return this.#high;
  }

  /** Whether `seq` was added (and is still inside the window). */
  has(seq: number): boolean {
    if (seq > this.#high || seq <= this.#high - this.window) return false;
    const i = seq % this.window;
    return (this.#bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  /** Adds `seq`; returns false if it was already there. */
  add(seq: number): boolean {
    if (this.has(seq)) return false;
    if (seq <= this.#high - this.window) return true;
    if (seq > this.#high) {
      // Clear the slots the window slides over.
      const from = Math.max(this.#high + 1, seq - this.window + 1);
      for (let s = from; s <= seq; s++) {
        const i = s % this.window;
        this.#bits[i >> 3]! &= ~(1 << (i & 7));
      }
      this.#high = seq;
    }
    const i = seq % this.window;
    this.#bits[i >> 3]! |= 1 << (i & 7);
    return true;
  }

  /** Forgets everything (the gateway restarted and numbers from 1 again). */
  clear(): void {
    this.#bits.fill(0);
    this.#high = 0;
  }
}
