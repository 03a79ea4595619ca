/**
 * The recent points of one chart as a window over typed arrays: columns of `capacity` points,
 * stored in buffers twice that size so that appending is a copy into the tail and the window is a
 * `subarray` view in time order (what uPlot draws), with one `copyWithin` per column every
 * `capacity` points instead of a shift per point. Appending allocates nothing.
 */

/** Bounds of a ring. */
export const RING_LIMITS = { capacity_max: 1 << 20 } as const;

export class SeriesRing {
  readonly capacity: number;
  /** Column buffers, `2 * capacity` values each; column 0 is time. */
  readonly #cols: Float64Array[];
  #start = 0;
  #end = 0;

  constructor(columns: number, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > RING_LIMITS.capacity_max) {
      throw new RangeError(
        `SeriesRing capacity must be an integer in 1..${RING_LIMITS.capacity_max}, got ${capacity}`,
      );
    }
    if (!Number.isInteger(columns) || columns < 1) {
      throw new RangeError(`SeriesRing columns must be a positive integer, got ${columns}`);
    }
    this.capacity = capacity;
    this.#cols = Array.from({ length: columns }, () => new Float64Array(2 * capacity));
  }

  /** Points held. */
  get length(): number {
    return this.#end - this.#start;
  }

  /**
   * Appends `n` points from `sources` (one array per column, column 0 the times) starting at
   * `from`, scaling column 0 by `timeScale` (microseconds to seconds: 1e-6). Older points fall out.
   */
  append(sources: readonly ArrayLike<number>[], from: number, n: number, timeScale = 1): void {
    const cap = this.capacity;
    if (n > cap) {
      from += n - cap;
      n = cap;
    }
    if (this.#end + n > 2 * cap) {
      const keep = Math.min(this.length, cap - n);
      for (const col of this.#cols) col.copyWithin(0, this.#end - keep, this.#end);
      this.#start = 0;
      this.#end = keep;
    }
    const at = this.#end;
    for (let c = 0; c < this.#cols.length; c++) {
      const col = this.#cols[c]!;
      const src = sources[c]!;
      const k = c === 0 ? timeScale : 1;
      for (let i = 0; i < n; i++) col[at + i] = src[from + i]! * k;
    }
    this.#end += n;
    if (this.#end - this.#start > cap) this.#start = this.#end - cap;
  }

  /** The window of column `c`, oldest first (a view: valid until the next append). */
  view(c: number): Float64Array {
    return this.#cols[c]!.subarray(this.#start, this.#end);
  }

  /** The last time held, or NaN. */
  lastTime(): number {
    return this.length > 0 ? this.#cols[0]![this.#end - 1]! : NaN;
  }

  /** Forgets every point. */
  clear(): void {
    this.#start = this.#end = 0;
  }
}
