/**
 * The samples a recording's feed batches carried, per channel, for measuring a detector on a
 * recorded run offline (`troupe bench evidence`): the warm start's history read and the live
 * samples, in time order, and which channels the anomaly actor scored (those with a columns frame
 * on `troupe.out.anomaly.<channel>`). A remote-write or OTLP feed publishes batches
 * (protocol/feed_batch.ts); a feed of per-channel frames is not read here.
 */
import {
  decodeFeedBatch,
  feedOfBatchSubject,
  isWarmupId,
  outPrefix,
  ProtocolError,
} from "../protocol/mod.ts";
import { RecordingFormatError, RecordingReader } from "../sim/recording/mod.ts";
import { BenchDataError } from "./_bench_data_error.ts";

/** One channel's samples, times in µs, strictly increasing. */
export interface RecordedSeries {
  tUs: Float64Array;
  v: Float64Array;
}

/** What a recording's feed batches hold. */
export interface RecordedFeeds {
  series: Map<string, RecordedSeries>;
  /** Channels the anomaly actor published columns for. */
  scored: Set<string>;
  /** The first live sample's time (µs): history reads come before it. */
  liveStartUs: number;
  liveEndUs: number;
}

const ANOMALY_OUT = outPrefix("anomaly");

/**
 * Reads `path`'s feed batches; throws BenchDataError when it is no recording, a batch does not
 * decode, or it holds no live sample.
 */
export async function readRecordedFeeds(path: string): Promise<RecordedFeeds> {
  try {
    return await readFeeds(path);
  } catch (err) {
    if (err instanceof RecordingFormatError) throw new BenchDataError(err.message, { cause: err });
    if (err instanceof ProtocolError) {
      throw new BenchDataError(`Cannot read ${path}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

async function readFeeds(path: string): Promise<RecordedFeeds> {
  const reader = await RecordingReader.open(path);
  const raw = new Map<string, { t: number[]; v: number[] }>();
  const scored = new Set<string>();
  let liveStartUs = Infinity, liveEndUs = -Infinity;
  for await (const batch of reader.batches()) {
    for (const m of batch) {
      if (m.subject.startsWith(ANOMALY_OUT)) scored.add(m.subject.slice(ANOMALY_OUT.length));
      if (feedOfBatchSubject(m.subject) === undefined) continue;
      const { meta, batch: b } = decodeFeedBatch(m.data);
      const live = !isWarmupId(meta.id);
      let k = 0;
      for (let c = 0; c < b.channels.length; c++) {
        const name = b.channels[c]!;
        let s = raw.get(name);
        if (s === undefined) raw.set(name, s = { t: [], v: [] });
        for (let j = 0; j < b.n[c]!; j++, k++) {
          const t = b.t[k]!;
          if (live && t < liveStartUs) liveStartUs = t;
          if (live && t > liveEndUs) liveEndUs = t;
          s.t.push(t);
          s.v.push(b.v[k]!);
        }
      }
    }
  }
  if (reader.cut !== undefined) {
    throw new BenchDataError(`${path} is cut at byte ${reader.cut.offset}: ${reader.cut.reason}`);
  }
  if (!(liveStartUs <= liveEndUs)) {
    throw new BenchDataError(`${path} holds no live sample in a feed batch (troupe.feed.<feed>)`);
  }
  const series = new Map<string, RecordedSeries>();
  for (const [name, s] of raw) series.set(name, inTimeOrder(s.t, s.v));
  return { series, scored, liveStartUs, liveEndUs };
}

/** The samples sorted by time, a time met again kept once (the first recorded). */
function inTimeOrder(t: number[], v: number[]): RecordedSeries {
  const order = t.map((_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
  const tUs: number[] = [], values: number[] = [];
  for (const i of order) {
    if (tUs.length > 0 && t[i]! <= tUs[tUs.length - 1]!) continue;
    tUs.push(t[i]!);
    values.push(v[i]!);
  }
  return { tUs: Float64Array.from(tUs), v: Float64Array.from(values) };
}

/**
 * `feeds` with each series' history read cut to its last `seconds` before the first live sample
 * (the live samples kept whole): what the detectors would have been warmed on with less history.
 */
export function historyWithin(feeds: RecordedFeeds, seconds: number): RecordedFeeds {
  const fromUs = feeds.liveStartUs - seconds * 1e6;
  const series = new Map<string, RecordedSeries>();
  for (const [name, s] of feeds.series) {
    let i = 0;
    while (i < s.tUs.length && s.tUs[i]! < fromUs) i++;
    series.set(name, { tUs: s.tUs.subarray(i), v: s.v.subarray(i) });
  }
  return { ...feeds, series };
}
