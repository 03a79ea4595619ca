/**
 * The bars kernel: per channel and bar size, the open bar (open, high, low, close, count, sum of
 * the samples in it) and the last `history_bars` closed bars in a typed-array ring. Bars are
 * aligned to the Unix epoch (a 1d bar is a UTC day); a bar with no sample is not made.
 *
 * A bar closes when a sample past its end arrives (on data) or when a journaled clock tick is
 * `close_grace_ms` past its end (`advance`), so a quiet channel's bar still closes; the tick a
 * state waits for (`tickDue`) passes over a size whose bars are one sample each, which the next
 * sample closes. A sample older than the bar it would belong to (a bar already closed, or a gap
 * before the open bar) is dropped and counted in `late`. Samples are folded one at a time, every
 * size per sample, so the bars closed come out in time order and the same samples give the same
 * bars however they are framed.
 *
 * Rings start empty and double up to `history_bars`: a 1d ring holds what has closed, not 500
 * empty days (10,000 channels × 5 sizes × 500 bars × 7 columns would be 1.4 GB). A ring holds two
 * columns (start and close) while every bar in it is one sample's (open, high, low, close and sum
 * that sample, count 1: a 15 s channel's one-second bars), and all seven from its first bar of
 * more: the same bars in 16 bytes, not 56, and saved as seven columns either way. A step allocates
 * nothing but a ring's doubling and the closed-bars scratch's growth; a state's sizes share one
 * array of metadata, and its scratch is made by its first close or taken from a spent result
 * (`reuse`), so a host's instances share one, not one each.
 */
import {
  allocBytes,
  borrowFloat64s,
  type Kernel,
  LITTLE_ENDIAN,
  type SampleFrame,
  type TickDue,
  writeWords,
} from "../../protocol/mod.ts";
import { type BarsConfig, barSizeUs } from "./config.ts";
import {
  type BarsState,
  C,
  CAP,
  CLOSED_FIELDS,
  type ClosedBars,
  COLS,
  H,
  HEAD,
  L,
  LEN,
  META,
  N,
  NARROW,
  O,
  OPEN_T,
  SIZE_US,
  type SizeRing,
  SUM,
  THROUGH,
} from "./_bars_state.ts";
import { type HeldBars, sizeIndex } from "./held_bars.ts";

export type { BarsState, ClosedBars } from "./_bars_state.ts";
export { CLOSED_FIELDS } from "./_bars_state.ts";

const RING_CAP_MIN = 16;
// Header of the saved bytes: format, sizes, history, grace (µs), late samples.
const FORMAT = 1, HEADER = 5;

/** Closed bars' room before a state's first close (it grows then, or takes a spent buffer). */
const NO_BARS = new Float64Array(0);
/** A ring before its first bar: never written (a ring grows before it stores). */
const NO_RING = new Float64Array(0);
/** The closed-bars scratch's room at first, in bars. */
const CLOSED_ROOM_MIN = 16;

function newSize(sizeUs: number, meta = new Float64Array(META)): SizeRing {
  meta[SIZE_US] = sizeUs;
  meta[OPEN_T] = NaN;
  meta[THROUGH] = -Infinity;
  meta[CAP] = 0;
  return { meta, ring: NO_RING, cols: NARROW };
}

function init(config: BarsConfig): BarsState {
  const metas = new Float64Array(META * config.bar_sizes.length);
  return {
    sizes: config.bar_sizes.map((name, j) =>
      newSize(barSizeUs(name)!, metas.subarray(META * j, META * (j + 1)))
    ),
    history: config.history_bars,
    graceUs: config.close_grace_ms * 1000,
    closed: { count: 0, data: NO_BARS, late: 0 },
  };
}

/**
 * The state's closed-bars scratch, emptied for a call: with the buffer of `reuse` (a result the
 * caller is done with) when that is larger than its own.
 */
function closedFor(s: BarsState, reuse: ClosedBars | undefined): ClosedBars {
  const out = s.closed;
  out.count = 0;
  if (reuse !== undefined && reuse.data.length > out.data.length) out.data = reuse.data;
  return out;
}

/**
 * Copies the last `keep` bars of ring `r`, oldest first, into `dst` (column-major, `dstCap` per
 * column, as many columns as the ring has).
 */
function unroll(r: SizeRing, dst: Float64Array, dstCap: number, keep: number) {
  const m = r.meta, ring = r.ring, cols = r.cols;
  const cap = m[CAP]!, len = m[LEN]!, head = m[HEAD]!;
  const skip = len - keep;
  for (let k = 0; k < keep; k++) {
    const from = (head - len + skip + k + cap) % cap;
    for (let c = 0; c < cols; c++) dst[c * dstCap + k] = ring[c * cap + from]!;
  }
}

/**
 * Whether the bar at `src[at]` (start, o, h, l, c, count, sum) is one sample's: count 1 and open,
 * high, low and sum the close, to the bit (-0 apart from 0), so that a narrow ring gives it back.
 */
function single(src: Float64Array, at: number): boolean {
  const c = src[at + 4]!;
  return src[at + 5] === 1 && Object.is(src[at + 1], c) && Object.is(src[at + 2], c) &&
    Object.is(src[at + 3], c) && Object.is(src[at + 6], c);
}

/**
 * Writes narrow ring `r` as seven columns into `dst` from `at`, slot for slot as a ring of seven
 * would hold the same bars: a held slot's count 1, an empty slot's zeros (a ring's slots are zero
 * until a bar is stored in them).
 */
function widenInto(r: SizeRing, dst: Float64Array, at: number): void {
  const m = r.meta, ring = r.ring;
  const cap = m[CAP]!, len = m[LEN]!, head = m[HEAD]!;
  for (let k = 0; k < cap; k++) {
    const close = ring[cap + k]!;
    dst[at + k] = ring[k]!;
    for (let c = 1; c < COLS; c++) dst[at + c * cap + k] = close;
    // Held slots are the `len` before the head (cyclically).
    dst[at + 5 * cap + k] = (head - 1 - k + cap) % cap < len ? 1 : 0;
  }
}

/** Makes narrow ring `r` one of seven columns (a bar of more than one sample is to be stored). */
function widen(r: SizeRing): void {
  const ring = new Float64Array(COLS * r.meta[CAP]!);
  widenInto(r, ring, 0);
  r.ring = ring;
  r.cols = COLS;
}

/**
 * The narrow ring of a ring of seven columns whose held bars are all one sample's and whose other
 * slots are zeros (what `widenInto` gives back bit for bit), else undefined.
 */
function narrowed(m: Float64Array, ring: Float64Array): Float64Array | undefined {
  const cap = m[CAP]!, len = m[LEN]!, head = m[HEAD]!;
  const bar = new Float64Array(COLS);
  for (let k = 0; k < cap; k++) {
    for (let c = 0; c < COLS; c++) bar[c] = ring[c * cap + k]!;
    const held = (head - 1 - k + cap) % cap < len;
    if (held ? !single(bar, 0) : !bar.every((x) => Object.is(x, 0))) return undefined;
  }
  const narrow = new Float64Array(NARROW * cap);
  narrow.set(ring.subarray(0, cap));
  narrow.set(ring.subarray(4 * cap, 5 * cap), cap);
  return narrow;
}

/** Stores a closed bar in the ring (7 values from `src[at]`: start, o, h, l, c, count, sum). */
function store(s: BarsState, r: SizeRing, src: Float64Array, at: number): void {
  const m = r.meta;
  if (r.cols === NARROW && !single(src, at)) widen(r);
  let cap = m[CAP]!;
  if (m[LEN]! === cap && cap < s.history) {
    const next = Math.min(s.history, Math.max(RING_CAP_MIN, cap * 2));
    const ring = new Float64Array(r.cols * next);
    unroll(r, ring, next, m[LEN]!);
    r.ring = ring;
    m[CAP] = cap = next;
    m[HEAD] = m[LEN]! % next;
  }
  const h = m[HEAD]!, ring = r.ring;
  if (r.cols === NARROW) {
    ring[h] = src[at]!;
    ring[cap + h] = src[at + 4]!;
  } else {
    for (let c = 0; c < COLS; c++) ring[c * cap + h] = src[at + c]!;
  }
  m[HEAD] = (h + 1) % cap;
  if (m[LEN]! < cap) m[LEN] = m[LEN]! + 1;
  m[THROUGH] = src[at]! + m[SIZE_US]!;
}

/** Closes the open bar: into the ring and the closed-bars scratch. */
function push(s: BarsState, r: SizeRing): void {
  const m = r.meta;
  const out = s.closed;
  if ((out.count + 1) * CLOSED_FIELDS > out.data.length) {
    const data = new Float64Array(Math.max(CLOSED_FIELDS * CLOSED_ROOM_MIN, out.data.length * 2));
    data.set(out.data);
    out.data = data;
  }
  const d = out.data, b = out.count * CLOSED_FIELDS;
  d[b] = m[SIZE_US]!;
  for (let f = 0; f < COLS; f++) d[b + 1 + f] = m[OPEN_T + f]!;
  out.count++;
  store(s, r, m, OPEN_T);
  m[OPEN_T] = NaN;
}

/** What one size holds once its ring of `history` bars is full in seven columns: bytes. */
export function barsRingBytes(history: number): number {
  return (META + COLS * history) * 8;
}

/** Closed bars to seed a size's ring with, oldest first (see `seedBars`). */
export interface SeedBars extends HeldBars {
  /** The bar size, µs. */
  sizeUs: number;
}

/**
 * Seeds the ring of size `bars.sizeUs` with closed bars (history from files): starts aligned to
 * the size and rising. A bar at or before one already closed, or at or past the open bar, is
 * dropped and counted as late: a seed never rewrites what data built. Nothing is published.
 * Returns how many were dropped; throws on a size the state does not build or unordered starts.
 */
function seedBars(s: BarsState, bars: SeedBars): number {
  const j = sizeIndex(s, bars.sizeUs);
  if (j < 0) throw new Error(`Cannot seed bars of ${bars.sizeUs} µs: not a size built here`);
  const r = s.sizes[j]!, m = r.meta, size = bars.sizeUs;
  const cols = [bars.t, bars.open, bars.high, bars.low, bars.close, bars.count, bars.sum];
  const n = bars.t.length;
  if (cols.some((c) => c.length !== n)) {
    throw new Error(`Cannot seed bars: columns differ in length`);
  }
  const one = new Float64Array(COLS);
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const t = bars.t[i]!;
    if (!(t % size === 0) || (i > 0 && !(t > bars.t[i - 1]!))) {
      throw new Error(`Cannot seed bars: bar ${i} starts at ${t} µs, not aligned and rising`);
    }
    if (t < m[THROUGH]! || t + size > m[OPEN_T]!) {
      dropped++;
      continue;
    }
    for (let c = 0; c < COLS; c++) one[c] = cols[c]![i]!;
    store(s, r, one, 0);
  }
  s.closed.late += dropped;
  return dropped;
}

function step(s: BarsState, frame: SampleFrame, reuse?: ClosedBars): ClosedBars {
  const { t, v } = frame;
  const n = t.length, sizes = s.sizes, z = sizes.length;
  closedFor(s, reuse);
  let late = 0;
  for (let i = 0; i < n; i++) {
    const ti = t[i]!, x = v[i]!;
    let dropped = false;
    for (let j = 0; j < z; j++) {
      const r = sizes[j]!, m = r.meta;
      const open = m[OPEN_T]!, size = m[SIZE_US]!;
      if (ti >= open && ti < open + size) {
        if (x > m[H]!) m[H] = x;
        if (x < m[L]!) m[L] = x;
        m[C] = x;
        m[N] = m[N]! + 1;
        m[SUM] = m[SUM]! + x;
        continue;
      }
      const start = ti - (((ti % size) + size) % size);
      if (ti < m[THROUGH]! || start < open) {
        dropped = true;
        continue;
      }
      if (open === open) push(s, r); // NaN !== NaN: no bar open
      m[OPEN_T] = start;
      m[O] =
        m[H] =
        m[L] =
        m[C] =
          x;
      m[N] = 1;
      m[SUM] = x;
    }
    if (dropped) late++;
  }
  s.closed.late += late;
  return s.closed;
}

/**
 * Closes every open bar whose end is `close_grace_ms` or more before `ts` (µs); `reuse` as in a
 * step.
 */
function advance(s: BarsState, ts: number, reuse?: ClosedBars): ClosedBars {
  closedFor(s, reuse);
  for (let j = 0; j < s.sizes.length; j++) {
    const r = s.sizes[j]!, m = r.meta;
    const open = m[OPEN_T]!;
    if (open === open && open + m[SIZE_US]! + s.graceUs <= ts) push(s, r);
  }
  return s.closed;
}

/**
 * Whether size `r`'s bars are one sample each: every bar its ring has held, and its open bar, one
 * sample's (a narrow ring that holds a bar). Such a bar is the sample itself, and nothing joins it
 * but a sample out of order: the channel's next sample closes it, and a tick a grace past its end
 * would only close it sooner (a scraped metric's one-second bars: a tick a sample). Read from the
 * ring as held: it widens at its first bar of more than one sample, and narrows again only when
 * loaded with none left, so a live and a loaded state can differ here; that moves when the host
 * ticks, never what a replay applies (ticks are journaled).
 */
function oneSampleBars(r: SizeRing): boolean {
  const m = r.meta;
  return r.cols === NARROW && m[LEN]! > 0 && m[N]! <= 1;
}

/**
 * The tick that would close the earliest-ending open bar that is not one sample's (above): at its
 * end plus the grace, after as long a quiet (the bar's size and the grace: its last sample may
 * have come at its start). A tick closes every bar due (`advance`), so a quiet channel's bars of
 * one sample close with it; where every open bar is one sample's, the tick is the one that closes
 * the last-ending of them, and with it all.
 */
function tickDue(s: BarsState): TickDue | undefined {
  let ts = Infinity, size = 0, lastTs = -Infinity, lastSize = 0;
  for (let j = 0; j < s.sizes.length; j++) {
    const r = s.sizes[j]!, m = r.meta;
    const open = m[OPEN_T]!;
    if (open !== open) continue;
    const due = open + m[SIZE_US]! + s.graceUs;
    if (oneSampleBars(r)) {
      if (due > lastTs) {
        lastTs = due;
        lastSize = m[SIZE_US]!;
      }
    } else if (due < ts) {
      ts = due;
      size = m[SIZE_US]!;
    }
  }
  if (ts === Infinity && lastTs !== -Infinity) {
    ts = lastTs;
    size = lastSize;
  }
  return ts === Infinity ? undefined : { ts, quietMs: (size + s.graceUs) / 1000 };
}

/**
 * Applies a new configuration: sizes kept keep their bars (the last `history_bars`), new ones start
 * empty.
 */
function configure(s: BarsState, config: BarsConfig): void {
  const old = new Map(s.sizes.map((r) => [r.meta[SIZE_US]!, r]));
  s.history = config.history_bars;
  s.graceUs = config.close_grace_ms * 1000;
  s.sizes = config.bar_sizes.map((name) => {
    const us = barSizeUs(name)!;
    const r = old.get(us);
    if (!r) return newSize(us);
    const m = r.meta;
    const keep = Math.min(m[LEN]!, s.history);
    const cap = Math.min(s.history, Math.max(RING_CAP_MIN, keep));
    const ring = new Float64Array(r.cols * cap);
    unroll(r, ring, cap, keep);
    m[CAP] = cap;
    m[LEN] = keep;
    m[HEAD] = keep % cap;
    return { meta: m, ring, cols: r.cols };
  });
}

function save(s: BarsState): Uint8Array {
  let total = HEADER;
  for (const r of s.sizes) total += META + COLS * r.meta[CAP]!;
  // Written in place into the bytes on a little-endian machine, as the saved bytes are.
  const bytes = allocBytes(total * 8);
  const out = LITTLE_ENDIAN
    ? new Float64Array(bytes.buffer, bytes.byteOffset, total)
    : new Float64Array(total);
  out[0] = FORMAT;
  out[1] = s.sizes.length;
  out[2] = s.history;
  out[3] = s.graceUs;
  out[4] = s.closed.late;
  let at = HEADER;
  for (const r of s.sizes) {
    out.set(r.meta, at);
    if (r.cols === NARROW) widenInto(r, out, at + META);
    else out.set(r.ring, at + META);
    at += META + COLS * r.meta[CAP]!;
  }
  if (!LITTLE_ENDIAN) writeWords(bytes, 0, out);
  return bytes;
}

function load(bytes: Uint8Array): BarsState {
  const fail = (why: string) => new Error(`Cannot load bars state: ${why}`);
  if (bytes.byteLength % 8 !== 0 || bytes.byteLength < HEADER * 8) {
    throw fail(`expected a multiple of 8 bytes, at least ${HEADER * 8}, got ${bytes.byteLength}`);
  }
  // Read in place or lent (the meta and rings are copied out of it, nothing keeps it).
  const f = borrowFloat64s(bytes, 0, bytes.byteLength / 8);
  if (f[0] !== FORMAT) throw fail(`unknown format ${f[0]}, expected ${FORMAT}`);
  const count = f[1]!;
  const sizes: SizeRing[] = [];
  // One array for the sizes' metadata, as a new state has (no more than the bytes could hold).
  const fits = Math.min(Math.ceil(count), Math.floor((f.length - HEADER) / META));
  const metas = new Float64Array(META * Math.max(0, fits));
  let at = HEADER;
  for (let j = 0; j < count; j++) {
    if (at + META > f.length) throw fail(`truncated in bar size ${j} of ${count}`);
    const meta = metas.subarray(META * j, META * (j + 1));
    meta.set(f.subarray(at, at + META));
    const cap = meta[CAP]!;
    const ring = cap === 0 ? NO_RING : f.slice(at + META, at + META + COLS * cap);
    if (ring.length !== COLS * cap) throw fail(`truncated in the ring of bar size ${j}`);
    const narrow = cap === 0 ? NO_RING : narrowed(meta, ring);
    sizes.push(narrow ? { meta, ring: narrow, cols: NARROW } : { meta, ring, cols: COLS });
    at += META + COLS * cap;
  }
  if (at !== f.length) throw fail(`${(f.length - at) * 8} bytes left over`);
  return {
    sizes,
    history: f[2]!,
    graceUs: f[3]!,
    closed: { count: 0, data: NO_BARS, late: f[4]! },
  };
}

/** The bars kernel; `advance` is what a clock tick does. */
export const barsKernel: Kernel<BarsState, BarsConfig, ClosedBars> & {
  advance(state: BarsState, ts: number, reuse?: ClosedBars): ClosedBars;
  seed(state: BarsState, bars: SeedBars): number;
  tickDue(state: BarsState): TickDue | undefined;
} = {
  init,
  step,
  advance,
  seed: seedBars,
  tickDue,
  configure,
  save,
  savesFresh: true,
  loadsCopy: true,
  load,
};
