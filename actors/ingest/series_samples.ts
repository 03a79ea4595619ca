/**
 * A request's samples made the channels' samples: each series found (or resolved, once) in the
 * series table, its samples filtered and converted, and gathered into feed batches of bounded size.
 * Gauges pass as they are; a counter becomes its per-second rate between consecutive samples (a
 * value below the one before is a reset, the counter starting again from zero, as Prometheus's
 * `rate()` reads it), so its first sample gives none. A sample at or before the series' last one is
 * a duplicate or out of order and is dropped, as a frame's edge takes a channel's time as only
 * going forward. NaN and infinite values are refused, naming the sample, and so are times troupe
 * cannot hold (before 1970, past 2100) or too far ahead of the receiver's clock (one such sample
 * would hold its series back until then), naming the series and the time; a series whose labels
 * cannot be read (not UTF-8) is refused alone. The stale marker passes bit for bit, and ends a
 * counter's run (the next sample starts a new one). A new series none of whose samples is taken
 * gives its channel back. The series' last samples move on as the request is read; `rollback` puts
 * them back when the request could not be journaled, so the sender's retry is read as the first try
 * was.
 */
import { type FeedBatch, FRAME_TIME_US_MAX, ProtocolError } from "../../protocol/mod.ts";
import { isStaleMarkerAt, type Label } from "../../protocol/prometheus/mod.ts";
import { keySource, type SeriesEntry, type SeriesTable } from "./series_table.ts";
import type { ChannelNameBytes, NamePlace } from "./_channel_name_bytes.ts";

/** A request's series, whatever the wire: labels by key, samples as columns (times in ms). */
export interface IncomingSeries {
  /** How many series. */
  count: number;
  /** Series `i` is told apart by `keyBytes` from `keyFrom[i]` to `keyTo[i]` (its labels' bytes). */
  keyBytes: Uint8Array;
  keyFrom: Int32Array;
  keyTo: Int32Array;
  labels(i: number): Label[];
  /** Why series `i` was refused at decoding, or undefined. */
  refused(i: number): string | undefined;
  /** What series `i` is called in errors: `timeseries[3]`. */
  where(i: number): string;
  /** Samples of series `i` are `t`/`v` from `from[i]` to `from[i + 1]`. */
  from: Int32Array;
  t: Float64Array;
  v: Float64Array;
  /** Whether series `i` is a counter whatever its name (OTLP's monotonic sums). */
  counter?(i: number): boolean;
}

/** What became of a request's samples. */
export interface SampleOutcome {
  batches: FeedBatch[];
  /** Samples put in batches. */
  journaled: number;
  unmatched: number;
  /** Samples of series refused (decoding limits, channel limit) and values refused. */
  refused: number;
  /** Dropped as duplicates or out of order. */
  outOfOrder: number;
  /** The first reasons for refusals (each naming its field), and how many there were. */
  reasons: string[];
  reasonCount: number;
  /** Series new to the table this request refused for the channel limit. */
  channelLimit: number;
  /** Stale markers taken: the channel and the marker's time (ms). */
  stale: Array<{ channel: string; t: number }>;
  /**
   * Channels this request made, with the labels of their series (their source labels), whether
   * each is a counter, and the time of its first sample in the request (ms).
   */
  newChannels: Array<{ channel: string; labels: Label[]; counter: boolean; firstT: number }>;
  /** Puts the series' last samples back as they were before the request. */
  rollback(): void;
}

/**
 * A counter's per-second rate from `prev` to `v` over `dtMs`: a value below the one before is a
 * reset, the counter starting again from zero (as Prometheus's `rate()` reads it).
 */
export function counterRate(prev: number, v: number, dtMs: number): number {
  return (v >= prev ? v - prev : v) / (dtMs / 1000);
}

/** Reasons kept for an answer at most. */
const REASONS_MAX = 10;
/** Samples in one batch at most (its bytes well under the host's 1 MiB message limit). */
const BATCH_SAMPLES_MAX = 20_000;

/** Columns of no length: a builder's before its first batch and after each cut. */
const NO_COUNTS = new Uint32Array(0);
const NO_SAMPLES = new Float64Array(0);
const NO_BYTES = new Uint8Array(0);

/**
 * Feed batches filled sample by sample, each cut at BATCH_SAMPLES_MAX. A batch cut takes views of
 * the columns it was filled in, not copies (a request's one batch is the whole of them), and the
 * next batch is filled in fresh ones. Its channel names come as the runs of the series table's
 * name bytes they lie in (ChannelNameBytes), when every one of them has its bytes there.
 */
class BatchBuilder {
  readonly batches: FeedBatch[] = [];
  channels: string[] = [];
  /** Samples of each of `channels`, `c` of them so far. */
  counts = NO_COUNTS;
  c = 0;
  t = NO_SAMPLES;
  v = NO_SAMPLES;
  vBytes = NO_BYTES;
  k = 0;
  /** The columns' length: the request's samples, at most a batch's. */
  readonly #samples: number;
  /** The counts' length: the request's series, at most a batch's samples. */
  readonly #series: number;
  readonly #names: ChannelNameBytes;
  /**
   * The batch's names so far: runs of name bytes, each `from` to `to` of the array that held it
   * when it last grew (a later, larger array holds it too, until a compaction).
   */
  #runBytes: Uint8Array[] = [];
  #runCompactions: number[] = [];
  #runFrom: number[] = [];
  #runTo: number[] = [];
  /** Whether every channel of the batch so far has its name bytes. */
  #named = true;

  constructor(samples: number, series: number, names: ChannelNameBytes) {
    this.#samples = Math.min(samples, BATCH_SAMPLES_MAX);
    this.#series = Math.min(series, BATCH_SAMPLES_MAX);
    this.#names = names;
  }

  /** Makes room for one more channel's `n` samples, cutting the batch when they would not fit. */
  room(n: number): void {
    if (this.k + n <= this.t.length && this.c < this.counts.length) return;
    this.cut();
    const length = Math.max(n, this.#samples);
    this.t = new Float64Array(length);
    this.v = new Float64Array(length);
    this.vBytes = new Uint8Array(this.v.buffer);
    this.counts = new Uint32Array(Math.max(1, this.#series));
  }

  /** Adds the channel of `s` with its `taken` samples, the last put in the columns. */
  add(s: NamePlace, taken: number): void {
    if (this.c === 0) this.channels = new Array(this.counts.length);
    this.channels[this.c] = s.channel;
    this.counts[this.c++] = taken;
    if (!this.#named) return;
    if (s.nameAt < 0) {
      this.#named = false;
      return;
    }
    const names = this.#names, last = this.#runTo.length - 1;
    const end = s.nameAt + s.nameLength + 1;
    if (
      last >= 0 && this.#runTo[last] === s.nameAt &&
      this.#runCompactions[last] === names.compactions
    ) {
      this.#runBytes[last] = names.bytes;
      this.#runTo[last] = end;
      return;
    }
    this.#runBytes.push(names.bytes);
    this.#runCompactions.push(names.compactions);
    this.#runFrom.push(s.nameAt);
    this.#runTo.push(end);
  }

  /** Makes the batch so far, if any, a batch; the next is filled in fresh columns. */
  cut(): void {
    if (this.c === 0) return;
    this.channels.length = this.c;
    const batch: FeedBatch = {
      channels: this.channels,
      n: this.counts.subarray(0, this.c),
      t: this.t.subarray(0, this.k),
      v: this.v.subarray(0, this.k),
    };
    if (this.#named) {
      const runs = this.#runTo.length;
      // Each name is followed by ","; the last one's is not the batch's.
      batch.names = this.#runBytes.map((bytes, r) =>
        bytes.subarray(this.#runFrom[r]!, this.#runTo[r]! - (r === runs - 1 ? 1 : 0))
      );
    }
    this.batches.push(batch);
    this.channels = [];
    this.counts = NO_COUNTS;
    this.t = this.v = NO_SAMPLES;
    this.vBytes = NO_BYTES;
    this.c = 0;
    this.k = 0;
    this.#runBytes = [];
    this.#runCompactions = [];
    this.#runFrom = [];
    this.#runTo = [];
    this.#named = true;
  }
}

/** The bounds a request's sample times are held to, ms since the epoch. */
export interface SampleTimes {
  /** The latest time taken: the receiver's clock plus `futureMsMax`, and at most 2100. */
  latest: number;
  /** The receiver's clock when the request came. */
  now: number;
  /** How far ahead of the clock a sample may be (setting `future_ms_max`). */
  futureMsMax: number;
}

/** The latest sample time troupe takes at all, ms (a frame's bound, protocol/frame_bounds.ts). */
const TIME_MS_MAX = FRAME_TIME_US_MAX / 1000;

/** The sample-time bounds of a request that came at `now` (ms). */
export function sampleTimes(now: number, futureMsMax: number): SampleTimes {
  return { latest: Math.min(TIME_MS_MAX, now + futureMsMax), now, futureMsMax };
}

/** Converts `series` through `table` into feed batches, its sample times held to `times`. */
export function seriesSamples(
  series: IncomingSeries,
  table: SeriesTable,
  times: SampleTimes,
): SampleOutcome {
  const out = emptyOutcome();
  // What each series taken had before the request (its id and last sample), in the order taken.
  const undoId = new Int32Array(series.count);
  const undoT = new Float64Array(series.count), undoV = new Float64Array(series.count);
  let undone = 0;
  out.rollback = () => {
    for (let i = undone - 1; i >= 0; i--) {
      table.lastT[undoId[i]!] = undoT[i]!;
      table.lastV[undoId[i]!] = undoV[i]!;
    }
  };
  const b = new BatchBuilder(series.t.length, series.count, table.names);
  const src = keySource(series.keyBytes);
  let before: SeriesEntry | undefined;
  for (let i = 0; i < series.count; i++) {
    const n = series.from[i + 1]! - series.from[i]!;
    const refusedWhy = series.refused(i);
    if (refusedWhy !== undefined) {
      out.refused += n;
      reason(out, refusedWhy);
      continue;
    }
    const kf = series.keyFrom[i]!, kt = series.keyTo[i]!;
    let s = table.find(src, kf, kt, before);
    let labels: Label[] | undefined;
    if (s === undefined || s.skipped === "vacant") {
      try {
        labels = series.labels(i);
      } catch (err) {
        // Labels that cannot be read (a value not UTF-8): the series is refused, not the request.
        if (!(err instanceof ProtocolError)) throw err;
        out.refused += n;
        reason(out, err.message);
        continue;
      }
      if (s === undefined) s = table.add(src, kf, kt, labels, before);
      else if (!table.claim(s, labels)) {
        before = s;
        refuseForLimit(series, i, n, table, out);
        continue;
      }
    } else if (s.skipped === "") table.retype(s);
    before = s;
    if (s.skipped !== "") {
      if (s.skipped === "unmatched") out.unmatched += n;
      else refuseForLimit(series, i, n, table, out);
      continue;
    }
    if (labels !== undefined && series.counter?.(i)) s.counter = s.counterAlways = true;
    b.room(n);
    undoId[undone] = s.id;
    undoT[undone] = table.lastT[s.id]!;
    undoV[undone++] = table.lastV[s.id]!;
    const taken = takeSamples(series, i, s, b, out, table, times);
    if (taken > 0) {
      b.add(s, taken);
      out.journaled += taken;
    }
    if (labels !== undefined) {
      // A channel the request gave but journaled nothing for (all its samples refused) is given
      // back; a counter's first sample, which gives no rate, holds it for the next.
      // A channel given by a request answered 503 keeps its place: its labels are written (the
      // record has it), and the sender sends the request again.
      if (taken === 0 && table.lastT[s.id] !== table.lastT[s.id]) table.vacate(s);
      else out.newChannels.push(newChannel(s, labels, series.t[series.from[i]!]!));
    }
    if (b.k >= BATCH_SAMPLES_MAX) b.cut();
  }
  b.cut();
  out.batches = b.batches;
  return out;
}

/** A channel a request made: its series' entry, labels and first sample time (ms). */
function newChannel(s: SeriesEntry, labels: Label[], firstT: number) {
  return { channel: s.channel, labels, counter: s.counter, firstT };
}

/** An outcome with nothing taken yet. */
function emptyOutcome(): SampleOutcome {
  return {
    batches: [],
    journaled: 0,
    unmatched: 0,
    refused: 0,
    outOfOrder: 0,
    reasons: [],
    reasonCount: 0,
    channelLimit: 0,
    newChannels: [],
    stale: [],
    rollback: () => {},
  };
}

function refuseForLimit(
  series: IncomingSeries,
  i: number,
  n: number,
  table: SeriesTable,
  out: SampleOutcome,
): void {
  out.refused += n;
  out.channelLimit++;
  reason(
    out,
    `${series.where(i)} would be a new channel past the limit of ${table.channels} channels`,
  );
}

function reason(out: SampleOutcome, text: string): void {
  out.reasonCount++;
  if (out.reasons.length < REASONS_MAX) out.reasons.push(text);
}

/**
 * Series `i` in a refusal: where it is in the request and its labels (`name{a="b"}`), which
 * are decoded for it again (only for the first reasons, which the answer shows).
 */
export function seriesText(series: IncomingSeries, i: number): string {
  let labels: Label[];
  try {
    labels = series.labels(i);
  } catch {
    return series.where(i);
  }
  let name = "";
  const rest: string[] = [];
  for (const l of labels) {
    if (l.name === "__name__") name = l.value;
    else rest.push(`${l.name}=${JSON.stringify(l.value)}`);
  }
  const text = `${name}{${rest.join(",")}}`;
  return `${series.where(i)} ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** The refusal of series `i`'s sample `at` (its place in the series) for its time `t`. */
function timeReason(
  series: IncomingSeries,
  i: number,
  at: number,
  t: number,
  times: SampleTimes,
): string {
  const iso = t >= -8.64e15 && t <= 8.64e15 ? ` (${new Date(t).toISOString()})` : "";
  const why = t < 0
    ? "before 1970-01-01T00:00:00Z, the earliest troupe takes"
    : t > TIME_MS_MAX
    ? "past 2100-01-01T00:00:00Z, the latest troupe takes"
    : `more than ${times.futureMsMax} ms ahead of the receiver's clock ` +
      `(${new Date(times.now).toISOString()}; setting future_ms_max)`;
  return `${seriesText(series, i)} sample ${at}: timestamp ${t} ms${iso} is ${why}`;
}

/**
 * Puts series `i`'s samples in the batch `b` as its entry `s` says, its last sample read from and
 * written back to `table`'s columns; how many were taken. (Positional: called for every series of
 * every request, an options object would be made each time.)
 */
function takeSamples(
  series: IncomingSeries,
  i: number,
  s: SeriesEntry,
  b: BatchBuilder,
  out: SampleOutcome,
  table: SeriesTable,
  times: SampleTimes,
): number {
  const { t, v } = series;
  const latest = times.latest;
  const a = series.from[i]!, end = series.from[i + 1]!;
  let lastT = table.lastT[s.id]!, lastV = table.lastV[s.id]!;
  let taken = 0;
  for (let j = a; j < end; j++) {
    const tj = t[j]!;
    const vj = v[j]!;
    if (!(tj >= 0 && tj <= latest)) {
      out.refused++;
      out.reasonCount++;
      if (out.reasons.length < REASONS_MAX) {
        out.reasons.push(timeReason(series, i, j - a, tj, times));
      }
      continue;
    }
    if (vj !== vj && isStaleMarkerAt(v, j)) {
      if (!(tj > lastT) && lastT === lastT) {
        out.outOfOrder++;
        continue;
      }
      b.t[b.k] = tj * 1000;
      // The marker's 8 bytes as they came: a number may not keep a NaN's bits.
      b.vBytes.set(new Uint8Array(v.buffer, v.byteOffset + j * 8, 8), b.k * 8);
      b.k++;
      taken++;
      lastT = tj;
      if (s.counter) lastT = NaN; // the next sample starts a new run
      out.stale.push({ channel: s.channel, t: tj });
      continue;
    }
    if (vj - vj !== 0) {
      out.refused++;
      reason(out, `${series.where(i)}.samples[${j - a}].value must be finite, got ${vj}`);
      continue;
    }
    if (tj <= lastT) {
      out.outOfOrder++;
      continue;
    }
    const before = lastT, prev = lastV;
    lastT = tj;
    lastV = vj;
    if (s.counter && before !== before) continue; // the first sample of a run gives no rate
    b.t[b.k] = tj * 1000;
    b.v[b.k] = s.counter ? counterRate(prev, vj, tj - before) : vj;
    b.k++;
    taken++;
  }
  table.lastT[s.id] = lastT;
  table.lastV[s.id] = lastV;
  return taken;
}
