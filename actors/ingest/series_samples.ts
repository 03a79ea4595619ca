/**
 * A request's samples made the channels' samples: each series found (or resolved, once) in the
 * series table, its samples filtered and converted, and gathered into feed batches of bounded
 * size. Gauges pass as they are; a counter becomes its per-second rate between consecutive
 * samples (a value below the one before is a reset, the counter starting again from zero, as
 * Prometheus's `rate()` reads it), so its first sample gives none. A sample at or before the
 * series' last one is a duplicate or out of order and is dropped, as a frame's edge takes a
 * channel's time as only going forward. NaN and infinite values are refused, naming the sample;
 * the stale marker passes bit for bit, and ends a counter's run (the next sample starts a new
 * one). The series' last samples move on as the request is read; `rollback` puts them back when
 * the request could not be journaled, so the sender's retry is read as the first try was.
 */
import type { FeedBatch } from "../../protocol/mod.ts";
import { isStaleMarkerAt, type Label } from "../../protocol/prometheus/mod.ts";
import { keyHash, type SeriesState, type SeriesTable } from "./series_table.ts";

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
  /** Puts the series' last samples back as they were before the request. */
  rollback(): void;
}

/** Reasons kept for an answer at most. */
const REASONS_MAX = 10;
/** Samples in one batch at most (its bytes well under the host's 1 MiB message limit). */
const BATCH_SAMPLES_MAX = 20_000;

/** Converts `series` through `table` into feed batches. */
export function seriesSamples(series: IncomingSeries, table: SeriesTable): SampleOutcome {
  const out: SampleOutcome = {
    batches: [],
    journaled: 0,
    unmatched: 0,
    refused: 0,
    outOfOrder: 0,
    reasons: [],
    reasonCount: 0,
    channelLimit: 0,
    rollback: () => {},
  };
  const reason = (text: string) => {
    out.reasonCount++;
    if (out.reasons.length < REASONS_MAX) out.reasons.push(text);
  };
  const undo: Array<[SeriesState, number, number]> = [];
  out.rollback = () => {
    for (let i = undo.length - 1; i >= 0; i--) {
      const [s, t, v] = undo[i]!;
      s.lastT = t;
      s.lastV = v;
    }
  };
  const { from, t, v } = series;
  let channels: string[] = [];
  let counts: number[] = [];
  let bt = new Float64Array(Math.min(t.length, BATCH_SAMPLES_MAX));
  let bv = new Float64Array(bt.length);
  let k = 0;
  const cut = () => {
    if (channels.length === 0) return;
    out.batches.push({
      channels,
      n: Uint32Array.from(counts),
      t: bt.slice(0, k),
      v: bv.slice(0, k),
    });
    channels = [];
    counts = [];
    k = 0;
  };
  const bvBytes = () => new Uint8Array(bv.buffer);
  for (let i = 0; i < series.count; i++) {
    const a = from[i]!, b = from[i + 1]!;
    const n = b - a;
    const refusedWhy = series.refused(i);
    if (refusedWhy !== undefined) {
      out.refused += n;
      reason(refusedWhy);
      continue;
    }
    const kf = series.keyFrom[i]!, kt = series.keyTo[i]!;
    const hash = keyHash(series.keyBytes, kf, kt);
    let s = table.get(hash, series.keyBytes, kf, kt);
    if (s === undefined) {
      s = table.add(hash, series.keyBytes.subarray(kf, kt), series.labels(i));
      if ("channel" in s && series.counter?.(i)) s.counter = true;
    }
    if ("skipped" in s) {
      if (s.skipped === "unmatched") out.unmatched += n;
      else {
        out.refused += n;
        out.channelLimit++;
        reason(
          `${series.where(i)} would be a new channel past the limit of ${table.channels} channels`,
        );
      }
      continue;
    }
    if (k + n > bt.length) {
      cut();
      if (n > bt.length) {
        bt = new Float64Array(n);
        bv = new Float64Array(n);
      }
    }
    undo.push([s, s.lastT, s.lastV]);
    let taken = 0;
    for (let j = a; j < b; j++) {
      const tj = t[j]!;
      const vj = v[j]!;
      if (vj !== vj && isStaleMarkerAt(v, j)) {
        if (!(tj > s.lastT) && s.lastT === s.lastT) {
          out.outOfOrder++;
          continue;
        }
        bt[k] = tj * 1000;
        // The marker's 8 bytes as they came: a number may not keep a NaN's bits.
        bvBytes().set(new Uint8Array(v.buffer, v.byteOffset + j * 8, 8), k * 8);
        k++;
        taken++;
        s.lastT = tj;
        if (s.counter) s.lastT = NaN; // the next sample starts a new run
        continue;
      }
      if (vj - vj !== 0) {
        out.refused++;
        reason(`${series.where(i)}.samples[${j - a}].value must be finite, got ${vj}`);
        continue;
      }
      if (tj <= s.lastT) {
        out.outOfOrder++;
        continue;
      }
      if (s.counter) {
        const before = s.lastT, prev = s.lastV;
        s.lastT = tj;
        s.lastV = vj;
        if (before !== before) continue; // the first sample of a run gives no rate
        bt[k] = tj * 1000;
        bv[k] = (vj >= prev ? vj - prev : vj) / ((tj - before) / 1000);
      } else {
        s.lastT = tj;
        bt[k] = tj * 1000;
        bv[k] = vj;
      }
      k++;
      taken++;
    }
    if (taken > 0) {
      channels.push(s.channel);
      counts.push(taken);
      out.journaled += taken;
    }
    if (k >= BATCH_SAMPLES_MAX) cut();
  }
  cut();
  return out;
}
