/**
 * How a bars state is laid out: per bar size, a metadata array (its open bar, its ring's head,
 * length and capacity, the end of its last closed bar) and a ring of closed bars in columns;
 * the kernel (kernel.ts) folds samples into it, and held_bars.ts reads the closed bars out.
 */

// Per-size metadata. OPEN_T is NaN while no bar is open; THROUGH is the end of the last bar closed.
export const SIZE_US = 0, OPEN_T = 1, O = 2, H = 3, L = 4, C = 5, N = 6, SUM = 7;
export const HEAD = 8, LEN = 9, CAP = 10, THROUGH = 11;
export const META = 12;
// Ring columns (each `cap` long, in one array): all seven, or start and close (NARROW).
export const COLS = 7;
export const NARROW = 2;
// A closed bar in the scratch: its size (µs), then its start, o, h, l, c, count, sum.
/** Fields per closed bar in {@link ClosedBars.data}. */
export const CLOSED_FIELDS = 8;

/** One bar size's open bar and ring. */
export interface SizeRing {
  meta: Float64Array;
  ring: Float64Array;
  /** The ring's columns: NARROW while each of its bars is one sample's, else COLS. */
  cols: number;
}

/**
 * The bars closed by the last step or advance, in order (scratch: valid until the next call, or,
 * when the call was given a spent result to reuse, until the next call that is given this one).
 */
export interface ClosedBars {
  count: number;
  /** CLOSED_FIELDS values per bar: size (µs), start (µs), open, high, low, close, count, sum. */
  data: Float64Array;
  /** Samples dropped as late, in total so far. */
  late: number;
}

/** The bars kernel's state. */
export interface BarsState {
  sizes: SizeRing[];
  history: number;
  graceUs: number;
  closed: ClosedBars;
}
