/**
 * A segment's table of the streams it holds: each stream's number, and its first and last
 * position and record count in the segment, in typed arrays, off the heap and a few numbers a
 * stream. The journal keeps a table for every segment it has not compacted, and at fleet size
 * nearly every record is its stream's first in its segment (a channel scraped every 15 s, 64 MiB
 * segments): a row a record, so what a row costs is what the journal holds in memory a record
 * ([What a channel costs](../../../docs/channel_cost.md)). Rows are in the order streams first came
 * to the segment; a lookup by number sorts them once (a sealed segment's table does not change).
 * Private to the file journal.
 */
import type { JournalStreams, StreamState } from "./_journal_streams.ts";

/** Fields a row: the stream's number, its first and last position, its record count. */
const F = 4;
/** Rows a chunk holds once the first has grown to it (128 KiB). */
const CHUNK_BITS = 12;
const CHUNK_ROWS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_ROWS - 1;

/**
 * One segment's streams, by row. Rows live in chunks of 4,096 that are never copied once full: a
 * table that doubled would leave its spent buffers, about its own size again, to the collector
 * every segment, and buffers count as external memory, whose growth starts V8's marking on its
 * own.
 */
export class SegmentStreams {
  #streams: JournalStreams;
  #chunks: Float64Array[];
  #size = 0;
  /** The rows in order of stream number, made by `rowOf` (again when rows came since). */
  #order: Uint32Array | undefined;

  constructor(streams: JournalStreams, capacity = 16) {
    this.#streams = streams;
    this.#chunks = [new Float64Array(Math.min(Math.max(capacity, 1), CHUNK_ROWS) * F)];
  }

  /** How many streams the segment holds. */
  get size(): number {
    return this.#size;
  }

  /** Adds a row for stream `id`: its first record at `pos`. Returns the row. */
  add(id: number, pos: number): number {
    return this.put(id, pos, pos, 1);
  }

  /** Adds a row for stream `id` with its extent in the segment. Returns the row. */
  put(id: number, first: number, last: number, count: number): number {
    const row = this.#size;
    const c = row >>> CHUNK_BITS;
    const at = (row & CHUNK_MASK) * F;
    let chunk = this.#chunks[c];
    if (chunk === undefined) this.#chunks.push(chunk = new Float64Array(CHUNK_ROWS * F));
    else if (at === chunk.length) chunk = this.#resize(c, Math.min(2 * (at / F), CHUNK_ROWS));
    chunk[at] = id;
    chunk[at + 1] = first;
    chunk[at + 2] = last;
    chunk[at + 3] = count;
    this.#size = row + 1;
    return row;
  }

  /** Moves `row`'s last position to `pos`, one more record. */
  extend(row: number, pos: number): void {
    const chunk = this.#chunks[row >>> CHUNK_BITS]!;
    const at = (row & CHUNK_MASK) * F;
    chunk[at + 2] = pos;
    chunk[at + 3]!++;
  }

  /** The number of `row`'s stream. */
  id(row: number): number {
    return this.#field(row, 0);
  }

  /** The stream of `row`. */
  stream(row: number): StreamState {
    return this.#streams.byId(this.#field(row, 0));
  }

  /** The name of `row`'s stream. */
  name(row: number): string {
    return this.stream(row).name;
  }

  first(row: number): number {
    return this.#field(row, 1);
  }

  last(row: number): number {
    return this.#field(row, 2);
  }

  count(row: number): number {
    return this.#field(row, 3);
  }

  /**
   * Whether a row's last position is past what `after` gives its stream, by stream number
   * (`beyond` for a number past its end).
   */
  anyPast(after: Float64Array, beyond = 0): boolean {
    let left = this.#size;
    for (const chunk of this.#chunks) {
      const end = Math.min(left, chunk.length / F) * F;
      for (let at = 0; at < end; at += F) {
        const id = chunk[at]!;
        if (chunk[at + 2]! > (id < after.length ? after[id]! : beyond)) return true;
      }
      left -= end / F;
    }
    return false;
  }

  /** Raises `out[id]` to each row's last position where it is lower, by stream number. */
  maxLastInto(out: Float64Array): void {
    let left = this.#size;
    for (const chunk of this.#chunks) {
      const end = Math.min(left, chunk.length / F) * F;
      for (let at = 0; at < end; at += F) {
        const id = chunk[at]!, last = chunk[at + 2]!;
        if (last > out[id]!) out[id] = last;
      }
      left -= end / F;
    }
  }

  /** The row of stream `id`, or -1 when the segment holds none of its records. */
  rowOf(id: number): number {
    if (this.#order === undefined || this.#order.length !== this.#size) {
      const ids = new Int32Array(this.#size);
      for (let row = 0; row < ids.length; row++) ids[row] = this.#field(row, 0);
      this.#order = rowsByNumber(ids);
    }
    const order = this.#order;
    let lo = 0, hi = order.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.#field(order[mid]!, 0);
      if (at === id) return order[mid]!;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Gives back the room past the last row: a sealed segment gets no more. */
  trim(): void {
    const c = this.#chunks.length - 1;
    const rows = this.#size - c * CHUNK_ROWS;
    if (rows * F < this.#chunks[c]!.length) this.#resize(c, rows);
  }

  #field(row: number, f: number): number {
    return this.#chunks[row >>> CHUNK_BITS]![(row & CHUNK_MASK) * F + f]!;
  }

  /** Makes chunk `c` room for `rows` rows (at least one), keeping what it holds. */
  #resize(c: number, rows: number): Float64Array {
    const old = this.#chunks[c]!;
    const chunk = new Float64Array(Math.max(rows, 1) * F);
    chunk.set(old.length <= chunk.length ? old : old.subarray(0, chunk.length));
    this.#chunks[c] = chunk;
    return chunk;
  }
}

/**
 * The rows `[0, size)` in order of their streams' numbers: a radix sort, 16 bits a pass, linear
 * in the rows, since it runs on the host's thread when a read first looks in a sealed segment of
 * up to a host's every instance.
 */
function rowsByNumber(ids: Int32Array): Uint32Array {
  const size = ids.length;
  let from = new Uint32Array(size);
  let to = new Uint32Array(size);
  let max = 0;
  for (let row = 0; row < size; row++) {
    from[row] = row;
    if (ids[row]! > max) max = ids[row]!;
  }
  const starts = new Uint32Array(0x10001);
  for (let shift = 0; shift < 32 && (shift === 0 || max >>> shift > 0); shift += 16) {
    starts.fill(0);
    for (let i = 0; i < size; i++) starts[((ids[from[i]!]! >>> shift) & 0xffff) + 1]!++;
    for (let b = 1; b <= 0x10000; b++) starts[b]! += starts[b - 1]!;
    for (let i = 0; i < size; i++) {
      const row = from[i]!;
      to[starts[(ids[row]! >>> shift) & 0xffff]!++] = row;
    }
    [from, to] = [to, from];
  }
  return from;
}
