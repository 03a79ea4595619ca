/**
 * A channel's past samples kept in memory from the frames that pass on the bus (any Bus: the
 * in-process one of `troupe up` without nats-server included), for a server that has no feed
 * stream to read them from: the `HistorySource` of `/history` without NATS. Each channel's
 * samples are kept as they came, frame by frame, in two columns (time and value), and a read
 * hands the frames that may hold samples of its range to the downsampling, as a read of the feed
 * stream would (the same frames in the same order give the same answer, byte for byte).
 *
 * Bounded: room for at most `samples_max` samples across channels (16 bytes each: 8,388,608,
 * 128 MiB; the columns' capacity is counted, not only what they hold) and at most `channels_max`
 * channels (1,024). When a frame needs room there is none of, the oldest frames of the channel
 * holding the most go (a quarter of it at a time, whole frames); a new channel beyond
 * `channels_max` evicts the channel whose last frame came longest ago. What was dropped is said:
 * `since_us(channel)` is the time from which the channel's samples are all held (the server's
 * start, raised past every sample dropped, or, for a channel that came back or never came, to the
 * last eviction of a channel and past its samples), so an answer never claims samples it no
 * longer has.
 */
import {
  areaPattern,
  type Bus,
  type BusSubscription,
  decodeFrame,
  parseSubject,
  ProtocolError,
} from "../../protocol/mod.ts";
import type { HistoryRange, HistorySource } from "./feed_stream/mod.ts";
import type { HistorySourceStats } from "./history_metrics.ts";

/** Options of a BusFeedHistory. */
export interface BusFeedHistoryOptions {
  /** Samples held across channels at most: 8,388,608 (128 MiB of times and values). */
  samples_max?: number;
  /** Channels held at most: 1,024. */
  channels_max?: number;
  /** Microseconds since the epoch (the start, and a channel's eviction). */
  nowUs(): number;
}

/** One channel's samples, frame by frame, in arrival order. */
interface Entry {
  t: Float64Array;
  v: Float64Array;
  size: number;
  /** Each frame's first sample's index. */
  starts: number[];
  /** Every sample at or after this time (µs) that came is held. */
  sinceUs: number;
  /** When its last frame came (the order of eviction). */
  usedAt: number;
}

/** The smallest columns a channel starts with. */
const COLUMN_MIN = 1024;

/** The feed's frames seen on a bus, kept per channel in bounded columns. */
export class BusFeedHistory implements HistorySource {
  readonly samples_max: number;
  readonly channels_max: number;
  readonly #nowUs: () => number;
  readonly #entries = new Map<string, Entry>();
  #startedUs: number;
  #capacity = 0;
  #uses = 0;
  #subs: BusSubscription[] = [];
  /** Frames that were not sample frames (the hosts dead-letter them), skipped. */
  skipped = 0;
  /** Samples dropped to stay in the bound, and channels evicted. */
  dropped = 0;
  evicted = 0;

  constructor(options: BusFeedHistoryOptions) {
    this.samples_max = options.samples_max ?? 8_388_608;
    this.channels_max = options.channels_max ?? 1_024;
    for (const field of ["samples_max", "channels_max"] as const) {
      const n = this[field];
      if (!Number.isSafeInteger(n) || n < 1) {
        throw new RangeError(`BusFeedHistory ${field} must be a positive integer, got ${n}`);
      }
    }
    this.#nowUs = options.nowUs;
    this.#startedUs = Math.floor(options.nowUs());
  }

  /** Starts keeping the frames published on `bus` (`troupe.feed.>`). */
  follow(bus: Bus): this {
    this.#subs.push(bus.subscribe(areaPattern("feed"), (m) => this.add(m.subject, m.data)));
    return this;
  }

  /** Stops following the bus (what is held stays readable). */
  close(): void {
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
  }

  /** Samples there is room for in the columns, across channels (what the bound counts). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Samples held now, across channels. */
  get samples(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.size;
    return n;
  }

  /** Channels held now. */
  get channels(): number {
    return this.#entries.size;
  }

  /** What it holds against its bounds and what it dropped (its `troupe_history_*` metrics). */
  stats(): HistorySourceStats {
    return {
      samples: this.samples,
      capacity_samples: this.#capacity,
      samples_max: this.samples_max,
      channels: this.#entries.size,
      channels_max: this.channels_max,
      samples_dropped: this.dropped,
      channels_evicted: this.evicted,
      frames_skipped: this.skipped,
    };
  }

  /** From when every sample of `channel` that came is held (µs since the epoch). */
  since_us(channel: string): number {
    return this.#entries.get(channel)?.sinceUs ?? this.#startedUs;
  }

  /** Keeps the samples of one message on a feed subject (none of what cannot be decoded). */
  add(subject: string, data: Uint8Array): void {
    let channel: string, t: Float64Array, v: Float64Array;
    try {
      const parsed = parseSubject(subject);
      if (parsed.kind !== "feed") return;
      channel = parsed.channel;
      ({ t, v } = decodeFrame(data).frame);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.skipped++;
      return;
    }
    if (t.length === 0) return;
    const e = this.#entries.get(channel) ?? this.#open(channel);
    e.usedAt = ++this.#uses;
    if (t.length > this.samples_max) {
      // A frame alone over the bound is not held: what came before it is no longer whole.
      this.#drop(e, e.starts.length);
      e.sinceUs = Math.max(e.sinceUs, after(t, 0, t.length));
      this.dropped += t.length;
      return;
    }
    this.#room(e, t.length);
    e.t.set(t, e.size);
    e.v.set(v, e.size);
    e.starts.push(e.size);
    e.size += t.length;
  }

  read(range: HistoryRange, onFrame: (t: Float64Array, v: Float64Array) => void): Promise<void> {
    const e = this.#entries.get(range.channel);
    if (!e) return Promise.resolve();
    const { t, v, starts, size } = e;
    for (let f = 0; f < starts.length; f++) {
      const a = starts[f]!, b = starts[f + 1] ?? size;
      // A frame's times rise: one that ends before t0 holds nothing of the range.
      if (t[b - 1]! < range.t0_us) continue;
      onFrame(t.subarray(a, b), v.subarray(a, b));
      if (t[a]! >= range.t1_us) break;
    }
    return Promise.resolve();
  }

  /** A new channel's entry, evicting the one whose last frame came longest ago when full. */
  #open(channel: string): Entry {
    if (this.#entries.size >= this.channels_max) {
      let oldest: [string, Entry] | undefined;
      for (const kv of this.#entries) if (!oldest || kv[1].usedAt < oldest[1].usedAt) oldest = kv;
      this.#entries.delete(oldest![0]);
      this.#capacity -= oldest![1].t.length;
      this.dropped += oldest![1].size;
      this.evicted++;
      // A channel evicted (this one, perhaps, earlier) is whole only from now on, and past the
      // evicted samples (a feed's event time may run ahead of the clock).
      const last = after(oldest![1].t, 0, oldest![1].size);
      this.#startedUs = Math.max(this.#startedUs, Math.floor(this.#nowUs()), last);
    }
    const e: Entry = {
      t: new Float64Array(0),
      v: new Float64Array(0),
      size: 0,
      starts: [],
      sinceUs: this.#startedUs,
      usedAt: 0,
    };
    this.#entries.set(channel, e);
    return e;
  }

  /** Makes room in `e` for `n` more samples: grows its columns while the bound allows, else
   *  halves a channel that would still hold more, else drops `e`'s oldest frames (a quarter at
   *  least). */
  #room(e: Entry, n: number): void {
    while (e.size + n > e.t.length) {
      const grown = Math.min(Math.max(COLUMN_MIN, 2 * e.t.length, e.size + n), this.samples_max);
      if (grown >= e.size + n && this.#capacity - e.t.length + grown <= this.samples_max) {
        this.#resize(e, grown);
        continue;
      }
      // An empty channel gives nothing back: the room is taken from the others, the largest first.
      const other = this.#largest(e);
      if (other && (other.t.length > grown || e.size === 0)) {
        this.#drop(other, this.#framesFor(other, Math.max(1, other.size >> 1)));
        this.#resize(other, Math.max(other.size, other.t.length >> 1));
        continue;
      }
      this.#drop(e, this.#framesFor(e, Math.max(e.size >> 2, e.size + n - e.t.length)));
    }
  }

  /** The channel other than `not` whose columns are the largest (none with no room). */
  #largest(not: Entry): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#entries.values()) {
      if (e !== not && e.t.length > 0 && (!best || e.t.length > best.t.length)) best = e;
    }
    return best;
  }

  /** How many of `e`'s oldest frames hold at least `samples` samples (all of them at most). */
  #framesFor(e: Entry, samples: number): number {
    let f = 0;
    while (f < e.starts.length && (e.starts[f] ?? e.size) < samples) f++;
    return f;
  }

  /** Drops the `frames` oldest frames of `e`, raising its horizon past every sample dropped. */
  #drop(e: Entry, frames: number): void {
    if (frames === 0) return;
    const from = e.starts[frames] ?? e.size;
    e.sinceUs = Math.max(e.sinceUs, after(e.t, 0, from));
    e.t.copyWithin(0, from, e.size);
    e.v.copyWithin(0, from, e.size);
    e.size -= from;
    this.dropped += from;
    e.starts.splice(0, frames);
    for (let i = 0; i < e.starts.length; i++) e.starts[i]! -= from;
  }

  /** Gives `e` columns of `capacity` samples (at least what it holds). */
  #resize(e: Entry, capacity: number): void {
    const t = new Float64Array(capacity), v = new Float64Array(capacity);
    t.set(e.t.subarray(0, e.size));
    v.set(e.v.subarray(0, e.size));
    this.#capacity += capacity - e.t.length;
    e.t = t;
    e.v = v;
  }
}

/** The first whole microsecond after every time in `t[a..b)`. */
function after(t: Float64Array, a: number, b: number): number {
  let max = -Infinity;
  for (let i = a; i < b; i++) if (t[i]! > max) max = t[i]!;
  return Math.floor(max) + 1;
}
