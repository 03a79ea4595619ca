/**
 * A columnar cache of the channels' samples read from the feed stream, so that a history answer
 * reads memory, not every frame again: the first answer of a channel reads its frames from the
 * stream (from the first stored at or after its t0 to the first past its t1, answering then; the
 * frames stored after, to what the stream holds, are read after the answer) into two
 * Float64Array columns, time and value, in stream order, with each frame's stream sequence (the
 * columns sized once for the frames the read holds, grown by at least a quarter after); a
 * later answer reads only the frames stored since (a consumer from the last sequence read + 1),
 * drops the frames the stream has let go of (older than its first sequence, so the cache never
 * answers with more than the stream holds), and hands the columns' frames to the downsampling as
 * the stream would, zero-copy. So an answer is the answer of a fresh read of the same frames,
 * sample for sample (tests/collab/history_cache.test.ts compares them), at the cost of an M4
 * pass over memory (about 1 ms a channel-day at 1 Hz) instead of fetching and decoding 1,440
 * frames.
 *
 * Bounded: room for at most `samples_max` samples across channels (16 bytes each: 8,388,608,
 * 128 MiB; the columns' capacity is counted, not only what they hold), the channel read longest
 * ago evicted first; a channel with no samples is not kept; a channel that alone holds more is
 * not cached (its answers read the stream, as without a cache). A range starting before a
 * channel's cached start reads the channel again from there. Reads of one channel run one at a
 * time; of different channels, at once.
 */
import type { FeedStreamHistory, HistoryRange, HistorySource } from "./feed_stream_history.ts";
import type { HistoryCacheStats } from "../history_metrics.ts";
import type { FrameRoom } from "../../../protocol/mod.ts";

/** Options of a HistoryCache. */
export interface HistoryCacheOptions {
  /** Samples held across channels at most: 8,388,608 (128 MiB of times and values). */
  samples_max?: number;
}

/** What the cache reads: the feed stream's frames with their sequences. */
export type FrameReader = Pick<FeedStreamHistory, "read" | "readFrames" | "firstSeq">;

/** One channel's samples, in stream order. */
interface Entry {
  /** Read from the first frame stored at or after this time (µs). */
  fromUs: number;
  t: Float64Array;
  v: Float64Array;
  /** The columns as bytes and the index to write at next: what a read decodes frames into. */
  room: FrameRoom;
  size: number;
  /** Per frame kept: its stream sequence and its first sample's index. */
  seqs: number[];
  starts: number[];
  /** The last sequence read, a frame handed on or one passed over as invalid or empty (frames
   *  after it are read next: a channel whose newest frames are invalid does not read them again
   *  on every answer). */
  lastSeq: number;
  /** The update running or last run: one at a time. */
  busy: Promise<unknown>;
  usedAt: number;
}

/** What one read into an entry did: too much to hold, and the frames left unread after it. */
interface Appended {
  over: boolean;
  rest: number;
}

/** The feed stream's frames, cached per channel in columns. */
export class HistoryCache implements HistorySource {
  readonly samples_max: number;
  readonly #reader: FrameReader;
  readonly #entries = new Map<string, Entry>();
  #uses = 0;
  /** Answers from memory, answers that filled a channel's entry, answers read from the stream
   *  alone (not cached: no samples, or too many); `cacheStats()` (the metrics) and the tests
   *  read them. */
  hits = 0;
  builds = 0;
  misses = 0;

  constructor(reader: FrameReader, options: HistoryCacheOptions = {}) {
    this.#reader = reader;
    this.samples_max = options.samples_max ?? 8_388_608;
    if (!Number.isSafeInteger(this.samples_max) || this.samples_max < 1) {
      throw new RangeError(
        `HistoryCache samples_max must be a positive integer, got ${this.samples_max}`,
      );
    }
  }

  /** Samples there is room for in the columns, across channels (what the bound counts). */
  get capacity(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.t.length;
    return n;
  }

  /** Samples held now, across channels. */
  get samples(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.size;
    return n;
  }

  /** How its answers were given and what it holds (`troupe_history_cache_*`). */
  cacheStats(): HistoryCacheStats {
    return {
      hits: this.hits,
      builds: this.builds,
      misses: this.misses,
      samples: this.samples,
      capacity_samples: this.capacity,
      samples_max: this.samples_max,
      channels: this.#entries.size,
    };
  }

  async read(range: HistoryRange, onFrame: (t: Float64Array, v: Float64Array) => void) {
    const e = this.#entries.get(range.channel);
    if (!e || range.t0_us < e.fromUs) {
      // A first look (or before what is held): the frames are read once, answered as they come
      // and kept, as a read without the cache would (the downsampling overlaps the fetching).
      const kept = await this.#build(range.channel, range.t0_us, (t, v) => {
        onFrame(t, v);
        return t[0]! >= range.t1_us;
      });
      if (kept) this.builds++;
      else this.misses++;
      return;
    }
    const fresh = e.busy.then(() => this.#update(range.channel, e));
    e.busy = fresh.catch(() => {});
    const now = await fresh;
    if (!now) {
      this.misses++;
      return await this.#reader.read(range, onFrame);
    }
    this.hits++;
    const { t, v, starts, size } = now;
    for (let f = 0; f < starts.length; f++) {
      const a = starts[f]!, b = starts[f + 1] ?? size;
      const frameT = t.subarray(a, b);
      onFrame(frameT, v.subarray(a, b));
      if (frameT[0]! >= range.t1_us) break;
    }
  }

  /**
   * Reads `channel` from `t0_us` into a new entry, handing each frame to `forward` until it says
   * the range is past, and resolves then: the entry, or undefined when it would hold too much.
   * The frames stored after the range are read into the entry after the answer (`busy` until
   * they are in), so that a first look at an hour a week ago does not wait for the week since.
   */
  async #build(
    channel: string,
    t0_us: number,
    forward: (t: Float64Array, v: Float64Array) => boolean,
  ): Promise<Entry | undefined> {
    const t = new Float64Array(0), v = new Float64Array(0);
    const e: Entry = {
      fromUs: t0_us,
      t,
      v,
      room: { t, v, t_bytes: new Uint8Array(0), v_bytes: new Uint8Array(0), at: 0 },
      size: 0,
      seqs: [],
      starts: [],
      lastSeq: 0,
      busy: Promise.resolve(),
      usedAt: ++this.#uses,
    };
    this.#entries.set(channel, e);
    const done = this.#append(channel, e, { time_us: t0_us }, forward);
    e.busy = done.catch(() => {});
    let read: Appended;
    try {
      read = await done;
    } catch (err) {
      this.#drop(channel, e);
      throw err;
    }
    if (read.over || e.size === 0) return this.#drop(channel, e);
    if (read.rest === 0) return this.#fit(channel, e);
    const rest = this.#append(channel, e, { seq: e.lastSeq + 1 });
    e.busy = rest.then((r) => r.over ? this.#drop(channel, e) : this.#fit(channel, e, false))
      .catch(() => this.#drop(channel, e));
    return this.#keep(channel, e);
  }

  /** Forgets `e` if it is still `channel`'s entry; undefined. */
  #drop(channel: string, e: Entry): undefined {
    if (this.#entries.get(channel) === e) this.#entries.delete(channel);
    return undefined;
  }

  /** Keeps `e` read whole, its room fitted to what it holds where a read sized it for more. */
  #fit(channel: string, e: Entry, answering = true): Entry | undefined {
    if (this.#entries.get(channel) !== e) return undefined;
    // Room sized from the first frames and more samples a frame than came: held exactly.
    if (e.t.length > e.size + (e.size >> 2)) this.#resize(e, e.size);
    return this.#keep(channel, e, answering);
  }

  /** Drops what the stream let go of and reads the frames stored since the last read. */
  async #update(channel: string, e: Entry): Promise<Entry | undefined> {
    if (this.#entries.get(channel) !== e) return undefined;
    this.#trim(e, await this.#reader.firstSeq());
    const { over } = await this.#append(channel, e, { seq: e.lastSeq + 1 });
    e.usedAt = ++this.#uses;
    return over ? (this.#entries.delete(channel), undefined) : this.#keep(channel, e);
  }

  /**
   * Appends the frames of `channel` read from `from`; with `forward`, hands each to it too and
   * stops at the frame it says is past its range, saying how many frames the read left. Over
   * when they would hold more than the bound (then it stops appending, and reading once nothing
   * is forwarded either). Frames are decoded straight into the columns: one copy a sample and
   * no columns of a frame's own (a first read of a day of 16 channels allocated 45 MB, now 22).
   */
  async #append(
    channel: string,
    e: Entry,
    from: { time_us: number } | { seq: number },
    forward?: (t: Float64Array, v: Float64Array) => boolean,
  ): Promise<Appended> {
    let over = false, past = !forward, rest = 0;
    const fits = (n: number) => !over && e.size + n <= this.samples_max;
    // Only room the columns already have: a frame that then fails validation leaves them as
    // they were (a frame that needs them grown is decoded on its own and copied in).
    const room = (n: number) =>
      fits(n) && e.size + n <= e.t.length ? ((e.room.at = e.size), e.room) : undefined;
    await this.#reader.readFrames(channel, from, (seq, t, v, after) => {
      if (!past && (past = forward!(t, v))) rest = after;
      const n = t.length;
      if (!fits(n)) return (over = true) && past;
      // Decoded into columns of its own (no room, or a reader that gives none): copied in.
      if (t.buffer !== e.t.buffer || t.byteOffset !== e.size * 8) {
        this.#grow(e, n, after);
        e.t.set(t, e.size);
        e.v.set(v, e.size);
      }
      e.seqs.push(seq);
      e.starts.push(e.size);
      e.size += n;
      e.lastSeq = seq;
      return rest > 0;
    }, { room, passed: (seq) => (e.lastSeq = seq) });
    return { over: over || this.#entries.get(channel) !== e, rest };
  }

  /** Makes room in `e`'s columns for a frame of `n` samples with `after` frames to follow. */
  #grow(e: Entry, n: number, after: number): void {
    if (e.size + n <= e.t.length) return;
    // Room for the frames the read still holds, at the samples a frame so far, at once: a
    // day's first read allocates its columns once (doubling from 1,024 allocated three times
    // the memory held and copied it over seven times).
    const ahead = Math.ceil(((e.size + n) / (e.seqs.length + 1)) * after);
    const grown = Math.max(e.size + n + ahead, e.t.length + (e.t.length >> 2));
    this.#resize(e, Math.min(this.samples_max, grown));
  }

  /** Moves `e`'s samples to columns of room for `capacity`. */
  #resize(e: Entry, capacity: number): void {
    const gt = new Float64Array(capacity), gv = new Float64Array(capacity);
    gt.set(e.t.subarray(0, e.size));
    gv.set(e.v.subarray(0, e.size));
    e.t = gt;
    e.v = gv;
    e.room = {
      t: gt,
      v: gv,
      t_bytes: new Uint8Array(gt.buffer),
      v_bytes: new Uint8Array(gv.buffer),
      at: e.size,
    };
  }

  /**
   * Keeps `e`, `channel`'s entry, evicting the channels read longest ago while the cache holds
   * too much: never `channel` while an answer waits on it; after a read in the background, `e`
   * too if it is the oldest (so that it does not evict a channel asked since). `e` if kept.
   */
  #keep(channel: string, e: Entry, answering = true): Entry | undefined {
    let total = this.capacity;
    const byAge = [...this.#entries.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [name, other] of byAge) {
      if (total <= this.samples_max) break;
      if (answering && name === channel) continue;
      total -= other.t.length;
      this.#entries.delete(name);
    }
    return this.#entries.get(channel) === e ? e : undefined;
  }

  /** Drops the frames before sequence `first` (aged out of the stream). */
  #trim(e: Entry, first: number): void {
    let drop = 0;
    while (drop < e.seqs.length && e.seqs[drop]! < first) drop++;
    if (drop === 0) return;
    const from = e.starts[drop] ?? e.size;
    e.t.copyWithin(0, from, e.size);
    e.v.copyWithin(0, from, e.size);
    e.size -= from;
    e.seqs.splice(0, drop);
    e.starts.splice(0, drop);
    for (let i = 0; i < e.starts.length; i++) e.starts[i]! -= from;
  }
}
