/**
 * A universe in priority order (most promising first), kept from scan to scan: when the bars
 * change, only the symbols whose bars moved (their `BarsSource.mark`) get their priority computed
 * again; they are taken out of the kept order, sorted among themselves and merged back. The order
 * is the one a full sort gives (priority descending, then place in the universe), so a scan's
 * chunks are the same whichever way they were made.
 */

/** Priorities, marks and order of one universe. */
export class PriorityOrder {
  /** The symbols, as listed. */
  readonly universe: readonly string[];
  /** Priority by place in the universe (-Infinity: none). */
  readonly #priorities: Float64Array;
  /** The bars mark each priority was computed at, by place. */
  readonly #marks: Float64Array;
  /** Places in the universe, in priority order. */
  #order: Int32Array;
  /** Place by symbol, made when first asked (see `placeOf`). */
  #places: Map<string, number> | undefined;

  /** Orders `universe` afresh: `priority(i)` and `mark(i)` for every place. */
  constructor(
    universe: readonly string[],
    priority: (i: number) => number,
    mark: (i: number) => number,
  ) {
    const n = universe.length;
    this.universe = universe;
    this.#priorities = new Float64Array(n);
    this.#marks = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.#marks[i] = mark(i);
      this.#priorities[i] = priority(i);
    }
    const cmp = this.#cmp();
    this.#order = Int32Array.from(Array.from(universe.keys()).sort(cmp));
  }

  /** Whether this order is of the same symbols, in the same places, as `universe`. */
  sameUniverse(universe: readonly string[]): boolean {
    const u = this.universe;
    if (u === universe) return true;
    if (u.length !== universe.length) return false;
    for (let i = 0; i < u.length; i++) if (u[i] !== universe[i]) return false;
    return true;
  }

  /**
   * Recomputes the priority of each place whose `mark(i)` moved and puts it back in order: of
   * every place, or of the places in `only` (those whose bars may have changed; repeats allowed).
   * Returns how many moved.
   */
  update(
    priority: (i: number) => number,
    mark: (i: number) => number,
    only?: readonly number[],
  ): number {
    const n = this.universe.length, p = this.#priorities, marks = this.#marks;
    const moved: number[] = [];
    const look = (i: number) => {
      const m = mark(i);
      if (m === marks[i]) return;
      marks[i] = m;
      p[i] = priority(i);
      moved.push(i);
    };
    if (only === undefined) { for (let i = 0; i < n; i++) look(i); }
    else for (const i of only) look(i);
    if (moved.length === 0) return 0;
    const cmp = this.#cmp();
    moved.sort(cmp);
    const isMoved = new Uint8Array(n);
    for (const i of moved) isMoved[i] = 1;
    // Merge the kept order (less the moved) with the moved, both sorted by `cmp`.
    const old = this.#order, out = new Int32Array(n);
    let a = 0, b = 0, k = 0;
    for (;;) {
      while (a < n && isMoved[old[a]!]) a++;
      if (a === n || b === moved.length) break;
      out[k++] = cmp(old[a]!, moved[b]!) < 0 ? old[a++]! : moved[b++]!;
    }
    for (; a < n; a++) if (!isMoved[old[a]!]) out[k++] = old[a]!;
    while (b < moved.length) out[k++] = moved[b++]!;
    this.#order = out;
    return moved.length;
  }

  /** The place of `symbol` in the universe, or undefined for one not in it. */
  placeOf(symbol: string): number | undefined {
    if (this.#places === undefined) {
      this.#places = new Map();
      for (let i = 0; i < this.universe.length; i++) this.#places.set(this.universe[i]!, i);
    }
    return this.#places.get(symbol);
  }

  /**
   * The symbols in priority order, in chunks of `first` symbols doubling up to `most`; the places
   * in `front` (distinct) come first, in their order, and are left out of their own places.
   */
  chunks(first: number, most: number, front: readonly number[] = []): string[][] {
    const order = this.#order, u = this.universe, n = order.length, out: string[][] = [];
    const skip = front.length > 0 ? new Uint8Array(n) : undefined;
    for (const i of front) skip![i] = 1;
    let a = 0, f = 0;
    const next = () => {
      if (f < front.length) return front[f++]!;
      while (skip !== undefined && skip[order[a]!]) a++;
      return order[a++]!;
    };
    let size = Math.min(first, most);
    for (let i = 0; i < n; i += size, size = Math.min(2 * size, most)) {
      const end = Math.min(n, i + size), list = new Array<string>(end - i);
      for (let j = i; j < end; j++) list[j - i] = u[next()]!;
      out.push(list);
    }
    return out;
  }

  /** Priority descending, then place: a total order (ties of -Infinity included). */
  #cmp(): (a: number, b: number) => number {
    const p = this.#priorities;
    return (a, b) => (p[b]! - p[a]!) || (a - b);
  }
}
