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
  /** Exemplars, which troupe does not take (annotations of samples, not samples), counted. */
  exemplars: number;
  /** Native histogram samples, which troupe does not take, counted. */
  histograms: number;
  /** The first series that carried native histograms, or -1. */
  histogramSeries: number;
}

const d = (limits: WriteRequestLimits) => ({
  seriesMax: limits.seriesMax ?? 10_000,
  samplesMax: limits.samplesMax ?? 100_000,
  labelsMax: limits.labelsMax ?? 64,
  labelBytesMax: limits.labelBytesMax ?? 2048,
});

/**
 * Decodes a WriteRequest's protobuf bytes (already decompressed) under `limits`. One reader walks
 * the whole request, entering a nested message by narrowing its end: nothing is allocated per
 * series, label or sample but the columns, and a field's path is written only for an error.
 */
export function decodeWriteRequest(
  bytes: Uint8Array,
  limits: WriteRequestLimits = {},
): WriteRequestColumns {
  const lim = d(limits);
  const r = new ProtoReader(bytes);
  const { spans, series, samples, metadata } = findSeries(r, lim);
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
    exemplars: 0,
    histograms: 0,
    histogramSeries: -1,
  };
  const vBytes = new Uint8Array(out.v.buffer);
  let k = 0;
  for (let i = 0; i < series; i++) {
    out.samplesFrom[i] = k;
    r.pos = spans[2 * i]!;
    r.end = spans[2 * i + 1]!;
    try {
      k = readSeries(r, out, vBytes, i, k, lim);
    } catch (err) {
      throw located(err, i);
    }
  }
  out.samplesFrom[series] = k;
  return out;
}

/**
 * Where each series of the request being decoded lies, its start and end: kept from one request to
 * the next (grown to the most series a request had), as it is read only while a request is decoded.
 */
let spanScratch = new Int32Array(2048);

/**
 * The first pass: where each series lies (`spans`, start and end, good until the next request is
 * decoded) and how many samples they hold, so the columns are allocated once and the limits
 * refuse a request before any of it is decoded; and the metadata.
 */
function findSeries(r: ProtoReader, lim: ReturnType<typeof d>) {
  let spans = spanScratch;
  let samples = 0;
  const metadata: MetricMetadata[] = [];
  const bytes = r.bytes;
  let i = 0;
  try {
    while (r.pos < r.end) {
      const key = r.key("WriteRequest");
      const field = key >>> 3, type = key & 7;
      if (field === 1 && type === LEN) {
        const start = r.len("timeseries");
        const end = r.pos;
        if (2 * i + 2 > spans.length) {
          const grown = new Int32Array(2 * spans.length);
          grown.set(spans);
          spans = spanScratch = grown;
        }
        spans[2 * i] = start;
        spans[2 * i + 1] = end;
        r.pos = start;
        r.end = end;
        while (r.pos < end) {
          const k = r.key("timeseries");
          if (k === (2 << 3 | LEN)) samples++;
          r.skip(k & 7, "timeseries");
        }
        r.end = bytes.length;
        i++;
        if (i > lim.seriesMax) {
          throw new ProtocolError(
            "oversize",
            `Cannot take the WriteRequest: it has more than ${lim.seriesMax} timeseries`,
            { field: "timeseries", value: i },
          );
        }
      } else if (field === 3 && type === LEN) {
        const start = r.len("metadata");
        const end = r.pos;
        metadata.push(readMetadata(new ProtoReader(bytes, start, end), metadata.length));
      } else r.skip(type, "WriteRequest");
    }
  } catch (err) {
    throw located(err, i);
  }
  if (samples > lim.samplesMax) {
    throw new ProtocolError(
      "oversize",
      `Cannot take the WriteRequest: it has ${samples} samples, over the limit of ` +
        `${lim.samplesMax}`,
      { field: "timeseries.samples", value: samples },
    );
  }
  return { spans, series: i, samples, metadata };
}

/** An error of series `i`'s bytes, its path made `timeseries[i]`. */
function located(err: unknown, i: number): unknown {
  if (!(err instanceof ProtocolError) || err.reason !== "decode") return err;
  const at = (s: string) =>
    s.replace(/^Cannot decode timeseries/, `Cannot decode timeseries[${i}]`);
  const field = (err.field ?? "timeseries").replace(/^timeseries/, `timeseries[${i}]`);
  return new ProtocolError("decode", at(err.message), { field, value: err.value, cause: err });
}

/** Why the label at `start..to` is refused: its name or value over `max` bytes. */
function longLabel(
  r: ProtoReader,
  start: number,
  to: number,
  where: string,
  max: number,
): string | undefined {
  r.pos = start;
  r.end = to;
  while (r.pos < to) {
    const lk = r.key("timeseries.labels");
    if (lk !== (1 << 3 | LEN) && lk !== (2 << 3 | LEN)) {
      r.skip(lk & 7, "timeseries.labels");
      continue;
    }
    const s = r.len("timeseries.labels");
    const n = r.pos - s;
    if (n > max) {
      const part = lk === (1 << 3 | LEN) ? "name" : "value";
      return `${where}.${part} is ${n} bytes, over the limit of ${max}`;
    }
  }
  return undefined;
}

function readSeries(
  r: ProtoReader,
  out: WriteRequestColumns,
  vBytes: Uint8Array,
  i: number,
  k: number,
  lim: ReturnType<typeof d>,
): number {
  const end = r.end;
  const bytes = r.bytes;
  let labels = 0;
  let from = -1, to = -1;
  let gap = false;
  let refused: string | undefined;
  while (r.pos < end) {
    const at = r.pos;
    const key = r.key("timeseries");
    if (key === (1 << 3 | LEN)) {
      if (to !== -1 && to !== at) gap = true;
      if (from === -1) from = at;
      const start = r.len("timeseries.labels");
      to = r.pos;
      if (refused === undefined && to - start > lim.labelBytesMax) {
        // Only a label whose bytes are over the limit can have a name or value over it.
        refused = longLabel(r, start, to, `timeseries[${i}].labels[${labels}]`, lim.labelBytesMax);
        r.end = end;
      }
      r.pos = to;
      labels++;
    } else if (key === (2 << 3 | LEN)) {
      const start = r.len("timeseries.samples");
      const send = r.pos;
      r.pos = start;
      r.end = send;
      let vat = -1, ts = 0;
      while (r.pos < send) {
        const sk = r.key("timeseries.samples");
        if (sk === (1 << 3 | FIXED64)) {
          vat = r.pos;
          r.skip(FIXED64, "timeseries.samples.value");
        } else if (sk === (2 << 3 | VARINT)) ts = r.varint("timeseries.samples.timestamp");
        else r.skip(sk & 7, "timeseries.samples");
      }
      r.end = end;
      out.t[k] = ts;
      // The value's 8 bytes as they came, so a NaN's bits (the stale marker) are kept.
      if (vat >= 0) {
        const o = k * 8;
        for (let b = 0; b < 8; b++) vBytes[o + b] = bytes[vat + b]!;
      }
      k++;
    } else {
      const field = key >>> 3;
      if (field === 3) out.exemplars++;
      if (field === 4) {
        out.histograms++;
        if (out.histogramSeries < 0) out.histogramSeries = i;
      }
      r.skip(key & 7, "timeseries");
    }
  }
  if (labels > lim.labelsMax) {
    refused = `timeseries[${i}].labels has ${labels} labels, over the limit of ${lim.labelsMax}`;
  } else if (gap) {
    refused = `timeseries[${i}].labels are not contiguous fields`;
  } else if (labels === 0) {
    refused = `timeseries[${i}].labels is empty`;
  }
  out.labelsFrom[i] = from < 0 ? 0 : from;
  out.labelsTo[i] = to < 0 ? 0 : to;
  out.refused[i] = refused;
  return k;
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
