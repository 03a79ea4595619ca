/**
 * The closed bars a bars state holds, read out for scans and people: per size, how many, a mark
 * that moves when they change, views into the ring where they lie in one stretch of it, copies
 * where they do not, and the state described field by field.
 */
import {
  type BarsState,
  C,
  CAP,
  COLS,
  H,
  HEAD,
  L,
  LEN,
  N,
  NARROW,
  O,
  OPEN_T,
  SIZE_US,
  SUM,
  THROUGH,
} from "./_bars_state.ts";

/** Closed bars held for one size, oldest first. */
export interface HeldBars {
  t: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  count: Float64Array;
  sum: Float64Array;
}

/** The index of the bar size of `sizeUs` in the state, or -1. */
export function sizeIndex(s: BarsState, sizeUs: number): number {
  return s.sizes.findIndex((r) => r.meta[SIZE_US] === sizeUs);
}

/** How many closed bars the state holds for size index `j`. */
export function heldCount(s: BarsState, j: number): number {
  return s.sizes[j]?.meta[LEN] ?? 0;
}

/**
 * A mark that changes whenever the closed bars of size index `j` change: the end of the last bar
 * closed (µs) plus how many are held; 0 while none has closed. A closed bar raises the end by at
 * least its size (1 s = 1e6 µs or more), more than a ring's length can fall (`HISTORY_BARS_MAX`);
 * a configuration that shortens the ring lowers the length; nothing else changes the bars held.
 * What a scan keeps per symbol (its priority) holds while the mark does.
 */
export function heldMark(s: BarsState, j: number): number {
  const m = s.sizes[j]?.meta;
  if (m === undefined || !(m[LEN]! > 0)) return 0;
  return m[THROUGH]! + m[LEN]!;
}

/** Ones, for narrow rings' count views (read-only: shared by every view). */
let ONES = new Float64Array(0);

/** `n` ones: a view of `ONES`, grown (a new array: older views keep theirs) when too short. */
function onesOf(n: number): Float64Array {
  if (ONES.length < n) ONES = new Float64Array(Math.max(n, 2 * ONES.length, 64)).fill(1);
  return ONES.subarray(0, n);
}

/** The last views made of each ring, while its head and length stay (a scan reads them often). */
const views = new WeakMap<
  Float64Array,
  { head: number; len: number; through: number; view: HeldBars }
>();

/**
 * The closed bars of size index `j`, oldest first, as views into the ring when they lie in one
 * stretch of it (a ring not yet wrapped, or wrapped exactly: what a seeded ring is), else
 * undefined (`readHeld` copies them). A narrow ring's open, high, low and sum are views of its
 * close, its count a view of ones. Read-only, and valid until the state next changes; the same
 * object while no bar closes (making 7 views costs more than a scan's lookups), and a new one
 * once one has: a scan may key what it computed of a symbol's bars by this object.
 */
export function heldView(s: BarsState, j: number): HeldBars | undefined {
  const r = s.sizes[j];
  if (!r) return undefined;
  const m = r.meta, ring = r.ring;
  const cap = m[CAP]!, len = m[LEN]!, head = m[HEAD]!;
  const first = len === 0 ? 0 : (head - len + cap) % cap;
  if (first + len > cap) return undefined;
  // The end of the last bar closed tells a ring that came round to the same head apart.
  const through = m[THROUGH]!;
  const known = views.get(ring);
  if (known?.head === head && known.len === len && known.through === through) return known.view;
  const narrow = r.cols === NARROW;
  const col = (c: number) => {
    const at = (narrow ? Math.min(c, 1) : c) * cap + first;
    return ring.subarray(at, at + len);
  };
  const view = {
    t: col(0),
    open: col(1),
    high: col(2),
    low: col(3),
    close: col(4),
    count: narrow ? onesOf(len) : col(5),
    sum: col(6),
  };
  views.set(ring, { head, len, through, view });
  return view;
}

/**
 * Copies the closed bars of size index `j`, oldest first, into `out` (each column at least
 * `heldCount` long; the bars go at the start). Returns how many were copied.
 */
export function readHeld(s: BarsState, j: number, out: HeldBars): number {
  const r = s.sizes[j];
  if (!r) return 0;
  const m = r.meta, ring = r.ring;
  const cap = m[CAP]!, len = m[LEN]!, head = m[HEAD]!;
  if (len === 0) return 0;
  const cols = [out.t, out.open, out.high, out.low, out.close, out.count, out.sum];
  for (let c = 0; c < COLS; c++) {
    const col = cols[c]!;
    if (col.length < len) {
      throw new RangeError(
        `Cannot read bars: a column holds ${col.length} values, ${len} are held`,
      );
    }
    // A narrow ring's bars are one sample each: count 1, the rest its close column.
    if (r.cols === NARROW && c === 5) {
      col.fill(1, 0, len);
      continue;
    }
    const base = (r.cols === NARROW ? (c === 0 ? 0 : 1) : c) * cap;
    // Oldest first: from head - len (wrapped) to head.
    const first = (head - len + cap) % cap;
    const tail = Math.min(len, cap - first);
    col.set(ring.subarray(base + first, base + first + tail), 0);
    if (tail < len) col.set(ring.subarray(base, base + len - tail), tail);
  }
  return len;
}

/**
 * The state's fields by name, for people (`troupe replay --inspect`): per bar size, the open bar
 * and how many closed bars the ring holds; the late samples dropped.
 */
export function describeBars(state: BarsState): Record<string, unknown> {
  return {
    history_bars: state.history,
    close_grace_us: state.graceUs,
    late_samples: state.closed.late,
    sizes: state.sizes.map(({ meta }) => ({
      size_us: meta[SIZE_US],
      open_bar: Number.isNaN(meta[OPEN_T]!) ? null : {
        start_us: meta[OPEN_T],
        open: meta[O],
        high: meta[H],
        low: meta[L],
        close: meta[C],
        count: meta[N],
        sum: meta[SUM],
      },
      closed_held: meta[LEN],
      ring_capacity: meta[CAP],
      closed_through_us: meta[THROUGH],
    })),
  };
}
