/**
 * OTLP/HTTP metrics (`ExportMetricsServiceRequest`, opentelemetry-proto's collector/metrics/v1 and
 * metrics/v1), in protobuf and in its JSON mapping, read into one list of points: each with its
 * labels as Prometheus would name them (`__name__` the metric's name, `job` and `instance` from the
 * resource's `service.name` and `service.instance.id`, then the point's attributes), its time in
 * ms, its value and how it counts. Gauges and sums are taken; a monotonic cumulative sum is a
 * counter (its rate is taken downstream, as a Prometheus counter's), a delta sum is made its
 * per-second rate over its own interval here. A histogram, exponential histogram or summary gives
 * two series, as Prometheus names them: `<name>_count` and `<name>_sum` (the sum when the point has
 * one), each a counter when cumulative (a summary always is) and a rate over its interval when
 * delta; their buckets and quantiles are not taken. Limits as remote write's: points per request,
 * labels per point, a label's length (a point over them is refused alone, its message naming it).
 */
import { ProtocolError } from "../protocol_error.ts";
import { FIXED64, LEN, ProtoReader, ProtoWriter, VARINT } from "./_proto.ts";
import type { Label, WriteRequestLimits } from "./remote_write.ts";

/** A point read from an OTLP request. */
export interface OtlpPoint {
  labels: Label[];
  /** Time, ms since the epoch. */
  t: number;
  value: number;
  /** A cumulative monotonic sum (a counter). */
  counter: boolean;
  /** Why the point is refused (naming its field), or undefined. */
  refused?: string;
}

/** An OTLP request's points, and its data points of a kind troupe does not know (counted). */
export interface OtlpPoints {
  points: OtlpPoint[];
  ignored: number;
}

/** The kinds of metric whose points carry a count and a sum. */
type CountKind = "histogram" | "exponentialHistogram" | "summary";

interface MetricParts {
  name: string;
  kind: "gauge" | "sum" | CountKind | "other";
  monotonic: boolean;
  /** 1 delta, 2 cumulative. */
  temporality: number;
  /** Points; a count kind's `value` is its count, and `sum` its sum (NaN: none). */
  points: Array<
    { attrs: Label[]; start: number; time: number; value: number; sum?: number; where: string }
  >;
}

/** Each count kind's field in a Metric, and its points' `attributes` field. */
const COUNT_KINDS: Record<number, { kind: CountKind; attrs: number }> = {
  9: { kind: "histogram", attrs: 9 },
  10: { kind: "exponentialHistogram", attrs: 1 },
  11: { kind: "summary", attrs: 7 },
};

const lim = (l: WriteRequestLimits) => ({
  pointsMax: l.samplesMax ?? 100_000,
  labelsMax: l.labelsMax ?? 64,
  labelBytesMax: l.labelBytesMax ?? 2048,
});

/** The points of a metric as troupe takes them. */
function pointsOf(
  m: MetricParts,
  resource: Label[],
  out: OtlpPoints,
  limits: ReturnType<typeof lim>,
): void {
  if (m.kind === "other") {
    out.ignored += m.points.length;
    return;
  }
  const counted = m.kind !== "gauge" && m.kind !== "sum";
  // A summary has no temporality: it is cumulative.
  const delta = m.kind !== "gauge" && m.kind !== "summary" && m.temporality === 1;
  const counter = counted ? !delta : m.kind === "sum" && m.monotonic && m.temporality === 2;
  const take = { resource, out, limits, delta, counter };
  for (const p of m.points) {
    if (!counted) pointOf(m.name, p.value, p, take);
    else {
      pointOf(`${m.name}_count`, p.value, p, take);
      if (p.sum !== undefined && !Number.isNaN(p.sum)) pointOf(`${m.name}_sum`, p.sum, p, take);
    }
  }
}

/** Adds the point of metric `name`, value `raw`, read from `p`, to `take.out`. */
function pointOf(
  name: string,
  raw: number,
  p: MetricParts["points"][number],
  take: {
    resource: Label[];
    out: OtlpPoints;
    limits: ReturnType<typeof lim>;
    delta: boolean;
    counter: boolean;
  },
): void {
  const { out, limits } = take;
  if (out.points.length >= limits.pointsMax) {
    throw new ProtocolError(
      "oversize",
      `Cannot take the OTLP request: it has more than ${limits.pointsMax} data points`,
      { field: "resourceMetrics.scopeMetrics.metrics.dataPoints", value: out.points.length },
    );
  }
  const labels: Label[] = [{ name: "__name__", value: name }, ...take.resource, ...p.attrs];
  let value = raw;
  if (take.delta) {
    const s = (p.time - p.start) / 1e9;
    value = s > 0 ? value / s : NaN;
  }
  const point: OtlpPoint = { labels, t: Math.round(p.time / 1e6), value, counter: take.counter };
  if (labels.length > limits.labelsMax) {
    point.refused = `${p.where}.attributes has ${labels.length} labels, over the limit of ` +
      `${limits.labelsMax}`;
  } else {
    const long = labels.find((l) =>
      l.name.length > limits.labelBytesMax || l.value.length > limits.labelBytesMax
    );
    if (long) {
      point.refused = `${p.where}.attributes "${long.name.slice(0, 40)}" is over the limit of ` +
        `${limits.labelBytesMax} bytes`;
    }
  }
  out.points.push(point);
}

/** The resource attributes troupe keeps, named as Prometheus names them. */
function resourceLabels(attrs: Label[]): Label[] {
  const out: Label[] = [];
  for (const a of attrs) {
    if (a.name === "service.name") out.push({ name: "job", value: a.value });
    else if (a.name === "service.instance.id") out.push({ name: "instance", value: a.value });
  }
  return out;
}

// --- protobuf ---------------------------------------------------------------------------------

/** Decodes an ExportMetricsServiceRequest's protobuf bytes (already decompressed). */
export function decodeOtlpMetrics(bytes: Uint8Array, limits: WriteRequestLimits = {}): OtlpPoints {
  const l = lim(limits);
  const out: OtlpPoints = { points: [], ignored: 0 };
  const r = new ProtoReader(bytes);
  let ri = 0;
  eachField(r, "resourceMetrics", (field, type) => {
    if (field !== 1 || type !== LEN) return false;
    const where = `resourceMetrics[${ri++}]`;
    let resource: Label[] = [];
    const metrics: MetricParts[] = [];
    let si = 0;
    nested(r, where, () =>
      eachField(r, where, (f, t) => {
        if (f === 1 && t === LEN) {
          nested(r, `${where}.resource`, () =>
            eachField(r, `${where}.resource`, (f2, t2) => {
              if (f2 !== 1 || t2 !== LEN) return false;
              resource.push(readKeyValue(r, `${where}.resource.attributes`));
              return true;
            }));
          return true;
        }
        if (f === 2 && t === LEN) {
          const sw = `${where}.scopeMetrics[${si++}]`;
          let mi = 0;
          nested(r, sw, () =>
            eachField(r, sw, (f2, t2) => {
              if (f2 !== 2 || t2 !== LEN) return false;
              metrics.push(readMetric(r, `${sw}.metrics[${mi++}]`));
              return true;
            }));
          return true;
        }
        return false;
      }));
    resource = resourceLabels(resource);
    for (const m of metrics) pointsOf(m, resource, out, l);
    return true;
  });
  return out;
}

/** Calls `f` for each field of the message `r` is in; a field `f` does not take is skipped. */
function eachField(r: ProtoReader, where: string, f: (field: number, type: number) => boolean) {
  while (r.pos < r.end) {
    const key = r.key(where);
    if (!f(key >>> 3, key & 7)) r.skip(key & 7, where);
  }
}

/** Reads the length-delimited field at `r` as a nested message with `read`. */
function nested(r: ProtoReader, where: string, read: () => void): void {
  const start = r.len(where);
  const end = r.pos, outer = r.end;
  r.pos = start;
  r.end = end;
  read();
  r.pos = end;
  r.end = outer;
}

function readKeyValue(r: ProtoReader, where: string): Label {
  let name = "", value = "";
  nested(r, where, () =>
    eachField(r, where, (f, t) => {
      if (f === 1 && t === LEN) {
        const s = r.len(`${where}.key`);
        name = r.string(`${where}.key`, s, r.pos);
        return true;
      }
      if (f === 2 && t === LEN) {
        nested(r, `${where}.value`, () =>
          eachField(r, `${where}.value`, (f2, t2) => {
            if (f2 === 1 && t2 === LEN) {
              const s = r.len(`${where}.value`);
              value = r.string(`${where}.value`, s, r.pos);
            } else if (f2 === 2 && t2 === VARINT) value = r.varint(where) ? "true" : "false";
            else if (f2 === 3 && t2 === VARINT) value = String(r.varint(where));
            else if (f2 === 4 && t2 === FIXED64) value = String(r.double(where));
            else return false;
            return true;
          }));
        return true;
      }
      return false;
    }));
  return { name, value };
}

function readMetric(r: ProtoReader, where: string): MetricParts {
  const m: MetricParts = { name: "", kind: "other", monotonic: false, temporality: 0, points: [] };
  nested(r, where, () =>
    eachField(r, where, (f, t) => {
      if (f === 1 && t === LEN) {
        const s = r.len(`${where}.name`);
        m.name = r.string(`${where}.name`, s, r.pos);
        return true;
      }
      if ((f === 5 || f === 7) && t === LEN) {
        m.kind = f === 5 ? "gauge" : "sum";
        const dw = `${where}.${f === 5 ? "gauge" : "sum"}`;
        nested(r, dw, () =>
          eachField(r, dw, (f2, t2) => {
            if (f2 === 1 && t2 === LEN) {
              m.points.push(readPoint(r, `${dw}.dataPoints[${m.points.length}]`));
            } else if (f2 === 2 && t2 === VARINT) m.temporality = r.varint(dw);
            else if (f2 === 3 && t2 === VARINT) m.monotonic = r.varint(dw) !== 0;
            else return false;
            return true;
          }));
        return true;
      }
      const counted = COUNT_KINDS[f];
      if (counted !== undefined && t === LEN) {
        m.kind = counted.kind;
        const dw = `${where}.${counted.kind}`;
        nested(r, dw, () =>
          eachField(r, dw, (f2, t2) => {
            if (f2 === 1 && t2 === LEN) {
              m.points.push(
                readCountPoint(r, `${dw}.dataPoints[${m.points.length}]`, counted.attrs),
              );
            } else if (f2 === 2 && t2 === VARINT) m.temporality = r.varint(dw);
            else return false;
            return true;
          }));
        return true;
      }
      return false;
    }));
  return m;
}

/** A histogram's, exponential histogram's or summary's point: its count and sum. */
function readCountPoint(r: ProtoReader, where: string, attrsField: number) {
  const p = { attrs: [] as Label[], start: 0, time: 0, value: 0, sum: NaN, where };
  nested(r, where, () =>
    eachField(r, where, (f, t) => {
      if (f === attrsField && t === LEN) p.attrs.push(readKeyValue(r, `${where}.attributes`));
      else if (f === 2 && t === FIXED64) p.start = r.fixed64(where);
      else if (f === 3 && t === FIXED64) p.time = r.fixed64(where);
      else if (f === 4 && t === FIXED64) p.value = r.fixed64(where);
      else if (f === 5 && t === FIXED64) p.sum = r.double(where);
      else return false;
      return true;
    }));
  return p;
}

function readPoint(r: ProtoReader, where: string) {
  const p = { attrs: [] as Label[], start: 0, time: 0, value: NaN, where };
  nested(r, where, () =>
    eachField(r, where, (f, t) => {
      if (f === 7 && t === LEN) p.attrs.push(readKeyValue(r, `${where}.attributes`));
      else if (f === 2 && t === FIXED64) p.start = r.fixed64(where);
      else if (f === 3 && t === FIXED64) p.time = r.fixed64(where);
      else if (f === 4 && t === FIXED64) p.value = r.double(where);
      else if (f === 6 && t === FIXED64) p.value = r.fixed64(where);
      else return false;
      return true;
    }));
  return p;
}

// --- JSON -------------------------------------------------------------------------------------

function bad(where: string, message: string, value: unknown): ProtocolError {
  return new ProtocolError("field", `Cannot decode the OTLP JSON: ${where} ${message}`, {
    field: where,
    value,
  });
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(where, "must be an array", v);
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw bad(where, "must be an object", v);
  }
  return v as Record<string, unknown>;
}

function num(v: unknown, where: string): number {
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || Number.isNaN(n) && v !== "NaN") {
    throw bad(where, "must be a number", v);
  }
  return n;
}

function attrsOf(v: unknown, where: string): Label[] {
  return list(v, where).map((kv, i) => {
    const w = `${where}[${i}]`;
    const o = obj(kv, w);
    const val = o.value === undefined ? {} : obj(o.value, `${w}.value`);
    const s = val.stringValue ?? val.intValue ?? val.doubleValue ?? val.boolValue ?? "";
    return { name: String(o.key ?? ""), value: String(s) };
  });
}

/** Decodes an ExportMetricsServiceRequest in OTLP's JSON mapping. */
export function decodeOtlpMetricsJson(text: string, limits: WriteRequestLimits = {}): OtlpPoints {
  const l = lim(limits);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError("decode", `Cannot decode the OTLP JSON: ${(err as Error).message}`, {
      field: "body",
      value: text.length,
    });
  }
  const out: OtlpPoints = { points: [], ignored: 0 };
  list(obj(raw, "request").resourceMetrics, "resourceMetrics").forEach((rm, ri) => {
    const rw = `resourceMetrics[${ri}]`;
    const o = obj(rm, rw);
    const resource = resourceLabels(
      attrsOf(
        o.resource === undefined ? [] : obj(o.resource, `${rw}.resource`).attributes,
        `${rw}.resource.attributes`,
      ),
    );
    list(o.scopeMetrics, `${rw}.scopeMetrics`).forEach((sm, si) => {
      const sw = `${rw}.scopeMetrics[${si}]`;
      list(obj(sm, sw).metrics, `${sw}.metrics`).forEach((mm, mi) => {
        const mw = `${sw}.metrics[${mi}]`;
        const m = obj(mm, mw);
        const kind = (["gauge", "sum", "histogram", "exponentialHistogram", "summary"] as const)
          .find((k) => m[k] !== undefined) ?? "other";
        const data = kind === "other" ? {} : obj(m[kind], `${mw}.${kind}`);
        const parts: MetricParts = {
          name: String(m.name ?? ""),
          kind,
          monotonic: data.isMonotonic === true,
          temporality: data.aggregationTemporality === "AGGREGATION_TEMPORALITY_DELTA"
            ? 1
            : data.aggregationTemporality === "AGGREGATION_TEMPORALITY_CUMULATIVE"
            ? 2
            : Number(data.aggregationTemporality ?? 0),
          points: [],
        };
        list(data.dataPoints, `${mw}.${kind}.dataPoints`).forEach((dp, pi) => {
          const pw = `${mw}.${kind}.dataPoints[${pi}]`;
          const p = obj(dp, pw);
          parts.points.push({
            attrs: attrsOf(p.attributes, `${pw}.attributes`),
            start: num(p.startTimeUnixNano ?? 0, `${pw}.startTimeUnixNano`),
            time: num(p.timeUnixNano, `${pw}.timeUnixNano`),
            ...(kind === "gauge" || kind === "sum"
              ? { value: num(p.asDouble ?? p.asInt, `${pw}.asDouble`) }
              : {
                value: num(p.count ?? 0, `${pw}.count`),
                sum: p.sum === undefined ? NaN : num(p.sum, `${pw}.sum`),
              }),
            where: pw,
          });
        });
        pointsOf(parts, resource, out, l);
      });
    });
  });
  return out;
}

/** A metric for encodeOtlpMetrics (tests and examples). */
export interface OtlpMetricInit {
  name: string;
  kind: "gauge" | "sum" | CountKind;
  monotonic?: boolean;
  /** 1 delta, 2 cumulative (sums, histograms and exponential histograms). */
  temporality?: number;
  /** Points: a count kind's `value` is its count, `sum` its sum. */
  points: Array<
    { attrs?: Label[]; startNs?: number; timeNs: number; value: number; sum?: number }
  >;
}

const KIND_FIELDS = { gauge: 5, sum: 7, histogram: 9, exponentialHistogram: 10, summary: 11 };

/** Encodes an ExportMetricsServiceRequest of one resource (`resource` attributes). */
export function encodeOtlpMetrics(resource: Label[], metrics: OtlpMetricInit[]): Uint8Array {
  const w = new ProtoWriter();
  const kv = (x: ProtoWriter, field: number, l: Label) =>
    x.message(field, (k) => {
      k.string(1, l.name);
      k.message(2, (v) => v.string(1, l.value));
    });
  w.message(1, (rm) => {
    rm.message(1, (res) => resource.forEach((l) => kv(res, 1, l)));
    rm.message(2, (sm) => {
      for (const m of metrics) {
        sm.message(2, (mw) => {
          mw.string(1, m.name);
          const field = KIND_FIELDS[m.kind];
          mw.message(field, (d) => {
            for (const p of m.points) {
              d.message(1, (pw) => {
                const attrs = COUNT_KINDS[field]?.attrs ?? 7;
                for (const a of p.attrs ?? []) kv(pw, attrs, a);
                pw.fixed64(2, p.startNs ?? 0);
                pw.fixed64(3, p.timeNs);
                if (field < 9) pw.double(4, p.value);
                else {
                  pw.fixed64(4, p.value);
                  if (p.sum !== undefined) pw.double(5, p.sum);
                }
              });
            }
            if (field === 9 || field === 10) {
              d.key(2, VARINT);
              d.varint(m.temporality ?? 2);
            }
            if (m.kind === "sum") {
              d.key(2, VARINT);
              d.varint(m.temporality ?? 2);
              d.key(3, VARINT);
              d.varint(m.monotonic ? 1 : 0);
            }
          });
        });
      }
    });
  });
  return w.finish();
}
