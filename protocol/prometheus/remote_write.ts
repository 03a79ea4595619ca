/**
 * Prometheus remote write 1.0's `WriteRequest` (prompb/remote.proto and types.proto): decoded in
 * columns, with no allocation per sample. The samples of every series land in two shared
 * Float64Arrays (times in ms and values, bit for bit, so the stale marker NaN survives), each
 * series holding a range of them; a series' labels are kept as the byte range they occupy, so a
 * receiver can know a series it has seen by those bytes and decode its labels only once.
 *
 * Limits are checked while decoding: a request over the series or samples limit is refused
 * whole; a series over the labels limit or with a label over the length limit is refused alone
 * (its `refused` message names the field), so that the good series of the same request are kept.
 */
import { ProtocolError } from "../protocol_error.ts";
import { FIXED64, LEN, ProtoReader, ProtoWriter, VARINT } from "./_proto.ts";
import { isStaleMarkerAt, STALE_MARKER_HI, STALE_MARKER_LO } from "./stale_marker.ts";

/** A label of a series. */
export interface Label {
  name: string;
  value: string;
}

/** A sample: its value and its time in ms since the epoch; `stale` for the stale marker. */
export interface PromSample {
  value: number;
  timestamp: number;
  stale?: boolean;
}

/** Prometheus's metric types, as MetricMetadata numbers them. */
export const METRIC_TYPES = [
  "unknown",
  "counter",
  "gauge",
  "histogram",
  "gaugehistogram",
  "summary",
  "info",
  "stateset",
] as const;

/** A metric type. */
export type MetricType = typeof METRIC_TYPES[number];

/** A metric family's metadata. */
export interface MetricMetadata {
  type: MetricType;
  family: string;
  help: string;
  unit: string;
}

/** A WriteRequest as values (what encodeWriteRequest takes). */
export interface WriteRequest {
  timeseries: Array<{ labels: Label[]; samples: PromSample[] }>;
  metadata?: MetricMetadata[];
}

/** Limits of a decoded WriteRequest. */
export interface WriteRequestLimits {
  /** Series in a request: 10,000. */
  seriesMax?: number;
  /** Samples in a request: 100,000. */
  samplesMax?: number;
  /** Labels of a series: 64. */
  labelsMax?: number;
  /** Bytes of a label's name or value: 2,048. */
  labelBytesMax?: number;
}

/** A WriteRequest decoded in columns. */
export interface WriteRequestColumns {
  /** How many series. */
  series: number;
  /** Series `i`'s labels are the protobuf bytes `labelBytes.subarray(labelsFrom[i], labelsTo[i])`
   *  (the Label fields, contiguous as every sender writes them). */
  labelBytes: Uint8Array;
  labelsFrom: Int32Array;
  labelsTo: Int32Array;
  /** Series `i`'s samples are `t` and `v` from `samplesFrom[i]` to `samplesFrom[i + 1]`. */
  samplesFrom: Int32Array;
  /** Times, ms since the epoch. */
  t: Float64Array;
  /** Values, bit for bit as sent. */
  v: Float64Array;
  /** Why series `i` was refused (naming its field), or undefined when it was not. */
  refused: Array<string | undefined>;
  metadata: MetricMetadata[];
  /** Exemplars and native histograms, which troupe does not take, counted. */
  ignored: number;
}

const d = (limits: WriteRequestLimits) => ({
  seriesMax: limits.seriesMax ?? 10_000,
  samplesMax: limits.samplesMax ?? 100_000,
  labelsMax: limits.labelsMax ?? 64,
  labelBytesMax: limits.labelBytesMax ?? 2048,
});

/** Decodes a WriteRequest's protobuf bytes (already decompressed) under `limits`. */
export function decodeWriteRequest(
  bytes: Uint8Array,
  limits: WriteRequestLimits = {},
): WriteRequestColumns {
  const lim = d(limits);
  const r = new ProtoReader(bytes);
  // A first pass counts series and samples, so the columns are allocated once and the limits
  // refuse a request before any of it is decoded.
  let series = 0;
  let samples = 0;
  const metadata: MetricMetadata[] = [];
  while (r.pos < r.end) {
    const key = r.key("WriteRequest");
    const field = Math.floor(key / 8), type = key & 7;
    if (field === 1 && type === LEN) {
      const where = `timeseries[${series}]`;
      const start = r.len(where);
      samples += countSamples(new ProtoReader(bytes, start, r.pos), where);
      series++;
      if (series > lim.seriesMax) {
        throw new ProtocolError(
          "oversize",
          `Cannot take the WriteRequest: it has more than ${lim.seriesMax} timeseries`,
          { field: "timeseries", value: series },
        );
      }
    } else if (field === 3 && type === LEN) {
      const start = r.len(`metadata[${metadata.length}]`);
      metadata.push(readMetadata(new ProtoReader(bytes, start, r.pos), metadata.length));
    } else r.skip(type, "WriteRequest");
  }
  if (samples > lim.samplesMax) {
    throw new ProtocolError(
      "oversize",
      `Cannot take the WriteRequest: it has ${samples} samples, over the limit of ${lim.samplesMax}`,
      { field: "timeseries.samples", value: samples },
    );
  }
  const out: WriteRequestColumns = {
    series,
    labelBytes: bytes,
    labelsFrom: new Int32Array(series),
    labelsTo: new Int32Array(series),
    samplesFrom: new Int32Array(series + 1),
    t: new Float64Array(samples),
    v: new Float64Array(samples),
    refused: new Array<string | undefined>(series),
    metadata,
    ignored: 0,
  };
  r.pos = 0;
  let i = 0;
  let k = 0;
  while (r.pos < r.end) {
    const key = r.key("WriteRequest");
    const field = Math.floor(key / 8), type = key & 7;
    if (field === 1 && type === LEN) {
      const start = r.len("timeseries");
      out.samplesFrom[i] = k;
      k = readSeries(new ProtoReader(bytes, start, r.pos), out, i, k, lim);
      i++;
    } else r.skip(type, "WriteRequest");
  }
  out.samplesFrom[series] = k;
  return out;
}

const vViews = new WeakMap<Float64Array, Uint8Array>();
function vBytes(out: WriteRequestColumns): Uint8Array {
  let b = vViews.get(out.v);
  if (b === undefined) {
    b = new Uint8Array(out.v.buffer, out.v.byteOffset, out.v.byteLength);
    vViews.set(out.v, b);
  }
  return b;
}

function countSamples(r: ProtoReader, where: string): number {
  let n = 0;
  while (r.pos < r.end) {
    const key = r.key(where);
    if (key === (2 << 3 | LEN)) n++;
    r.skip(key & 7, where);
  }
  return n;
}

function readSeries(
  r: ProtoReader,
  out: WriteRequestColumns,
  i: number,
  k: number,
  lim: ReturnType<typeof d>,
): number {
  const where = `timeseries[${i}]`;
  let labels = 0;
  let from = -1, to = -1;
  let gap = false;
  let refused: string | undefined;
  while (r.pos < r.end) {
    const at = r.pos;
    const key = r.key(where);
    const field = key >>> 3, type = key & 7;
    if (field === 1 && type === LEN) {
      if (to !== -1 && to !== at) gap = true;
      if (from === -1) from = at;
      const start = r.len(`${where}.labels[${labels}]`);
      to = r.pos;
      refused ??= checkLabel(
        new ProtoReader(r.bytes, start, r.pos),
        `${where}.labels[${labels}]`,
        lim,
      );
      labels++;
    } else if (field === 2 && type === LEN) {
      const start = r.len(`${where}.samples`);
      const s = new ProtoReader(r.bytes, start, r.pos);
      let at = -1, ts = 0;
      while (s.pos < s.end) {
        const sk = s.key(`${where}.samples`);
        if (sk === (1 << 3 | FIXED64)) {
          at = s.pos;
          s.skip(FIXED64, `${where}.samples.value`);
        } else if (sk === (2 << 3 | VARINT)) ts = s.varint(`${where}.samples.timestamp`);
        else s.skip(sk & 7, `${where}.samples`);
      }
      out.t[k] = ts;
      // The value's 8 bytes as they came, so a NaN's bits (the stale marker) are kept.
      if (at >= 0) vBytes(out).set(r.bytes.subarray(at, at + 8), k * 8);
      k++;
    } else {
      if (field === 3 || field === 4) out.ignored++;
      r.skip(type, where);
    }
  }
  if (labels > lim.labelsMax) {
    refused = `${where}.labels has ${labels} labels, over the limit of ${lim.labelsMax}`;
  } else if (gap) {
    refused = `${where}.labels are not contiguous fields`;
  } else if (labels === 0) {
    refused = `${where}.labels is empty`;
  }
  out.labelsFrom[i] = from < 0 ? 0 : from;
  out.labelsTo[i] = to < 0 ? 0 : to;
  out.refused[i] = refused;
  return k;
}

/** Why a label is refused (its length), or undefined. */
function checkLabel(
  r: ProtoReader,
  where: string,
  lim: ReturnType<typeof d>,
): string | undefined {
  while (r.pos < r.end) {
    const key = r.key(where);
    if (key === (1 << 3 | LEN) || key === (2 << 3 | LEN)) {
      const start = r.len(where);
      const n = r.pos - start;
      if (n > lim.labelBytesMax) {
        const part = key === (1 << 3 | LEN) ? "name" : "value";
        return `${where}.${part} is ${n} bytes, over the limit of ${lim.labelBytesMax}`;
      }
    } else r.skip(key & 7, where);
  }
  return undefined;
}

/** The labels of series `i`, decoded. */
export function seriesLabels(cols: WriteRequestColumns, i: number): Label[] {
  return decodeLabels(cols.labelBytes, cols.labelsFrom[i]!, cols.labelsTo[i]!, `timeseries[${i}]`);
}

/** Decodes the Label fields between `from` and `to`. */
export function decodeLabels(bytes: Uint8Array, from: number, to: number, where: string): Label[] {
  const r = new ProtoReader(bytes, from, to);
  const labels: Label[] = [];
  while (r.pos < r.end) {
    const key = r.key(where);
    if (key !== (1 << 3 | LEN)) {
      r.skip(key & 7, where);
      continue;
    }
    const lw = `${where}.labels[${labels.length}]`;
    const start = r.len(lw);
    const l = new ProtoReader(bytes, start, r.pos);
    let name = "", value = "";
    while (l.pos < l.end) {
      const lk = l.key(lw);
      if (lk === (1 << 3 | LEN)) {
        const s = l.len(`${lw}.name`);
        name = l.string(`${lw}.name`, s, l.pos);
      } else if (lk === (2 << 3 | LEN)) {
        const s = l.len(`${lw}.value`);
        value = l.string(`${lw}.value`, s, l.pos);
      } else l.skip(lk & 7, lw);
    }
    labels.push({ name, value });
  }
  return labels;
}

function readMetadata(r: ProtoReader, i: number): MetricMetadata {
  const where = `metadata[${i}]`;
  const m: MetricMetadata = { type: "unknown", family: "", help: "", unit: "" };
  while (r.pos < r.end) {
    const key = r.key(where);
    const field = key >>> 3, type = key & 7;
    if (field === 1 && type === VARINT) {
      m.type = METRIC_TYPES[r.varint(`${where}.type`)] ?? "unknown";
    } else if (type === LEN && (field === 2 || field === 4 || field === 5)) {
      const s = r.len(where);
      const text = r.string(where, s, r.pos);
      if (field === 2) m.family = text;
      else if (field === 4) m.help = text;
      else m.unit = text;
    } else r.skip(type, where);
  }
  return m;
}

/** Encodes a WriteRequest (before snappy). */
export function encodeWriteRequest(req: WriteRequest): Uint8Array {
  const w = new ProtoWriter();
  for (const ts of req.timeseries) {
    w.message(1, (s) => {
      for (const l of ts.labels) {
        s.message(1, (lw) => {
          lw.string(1, l.name);
          lw.string(2, l.value);
        });
      }
      for (const p of ts.samples) {
        s.message(2, (pw) => {
          if (p.stale) pw.words64(1, STALE_MARKER_HI, STALE_MARKER_LO);
          else pw.double(1, p.value);
          pw.key(2, VARINT);
          pw.varint(p.timestamp);
        });
      }
    });
  }
  for (const m of req.metadata ?? []) {
    w.message(3, (mw) => {
      mw.key(1, VARINT);
      mw.varint(Math.max(0, METRIC_TYPES.indexOf(m.type)));
      mw.string(2, m.family);
      mw.string(4, m.help);
      mw.string(5, m.unit);
    });
  }
  return w.finish();
}

/** A decoded WriteRequest as values (its refused series left out). */
export function writeRequestOf(cols: WriteRequestColumns): WriteRequest {
  const timeseries: WriteRequest["timeseries"] = [];
  for (let i = 0; i < cols.series; i++) {
    if (cols.refused[i] !== undefined) continue;
    const samples: PromSample[] = [];
    for (let k = cols.samplesFrom[i]!; k < cols.samplesFrom[i + 1]!; k++) {
      const stale = isStaleMarkerAt(cols.v, k);
      samples.push(
        stale ? { value: NaN, timestamp: cols.t[k]!, stale } : {
          value: cols.v[k]!,
          timestamp: cols.t[k]!,
        },
      );
    }
    timeseries.push({ labels: seriesLabels(cols, i), samples });
  }
  return { timeseries, metadata: cols.metadata };
}
