/**
 * The history wire: a page asks for "channel C from t0 to t1, at most N points" and is answered
 * with the channel's samples in that range downsampled per bucket (first, min, max and last of
 * each, M4, so no spike is lost), its OHLC bars over the range (`history_bars.ts`), and the
 * findings and incidents (`history_incidents.ts`) of the channel in the range. The request
 * comes as the query string of `GET /history` (or as a msgpack map), the answer is a msgpack map
 * whose time and value columns are bins of 8-byte little-endian floats, as in a sample frame.
 */
import {
  decodeValue,
  encodeValue,
  requireBin,
  requireInteger,
  requireMap,
  requireString,
} from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { type HistoryBars, historyBarsOfValue, historyBarsValue } from "./history_bars.ts";
import { historyIncidentsOfValue, historyIncidentsValue } from "./history_incidents.ts";
import type { Incident } from "./incident.ts";
import { float64Bytes, float64Column } from "./float64_column.ts";
import { checkName } from "./subjects.ts";

/** The bounds of a history request. */
export const HISTORY_LIMITS = {
  /** Points one answer may hold (a 4K screen's width, four points a column, with room). */
  points_max: 16_384,
  /** The widest range one request may span: ten years, in microseconds. The work of an answer is
   *  bounded by `points_max` (its buckets and bars) and by what the source holds, not by the
   *  span: a long range is answered in coarser buckets. */
  span_us_max: 3_650 * 86_400 * 1_000_000,
  /** Findings one answer holds at most (the newest are kept). */
  findings_max: 1_000,
} as const;

/**
 * "Channel C, from t0 to t1 (µs since the epoch, t0 inclusive, t1 exclusive), at most N points".
 */
export interface HistoryRequest {
  channel: string;
  t0_us: number;
  t1_us: number;
  points_max: number;
}

/** A finding in a history answer: what the event list shows of it. */
export interface HistoryFinding {
  /** `anomaly`, `collapse`, ... */
  kind: string;
  /** Event time, µs since the epoch. */
  ts_us: number;
  what: string;
  severity: number | null;
}

/** The answer to a HistoryRequest. */
export interface HistoryResponse {
  channel: string;
  t0_us: number;
  t1_us: number;
  /** Width of one downsampling bucket (µs): (t1 - t0) / buckets. */
  bucket_us: number;
  /** Samples of the channel found in [t0, t1), before downsampling. */
  samples: number;
  /** Every sample of the channel from this time on is held (µs; before it, some were dropped
   *  or never seen: a range starting earlier is answered in part); null: the source does not
   *  say (the feed stream holds what its retention keeps). */
  samples_since_us: number | null;
  /** The points, in time order: at most four per bucket (first, min, max, last), fewer where
   *  they coincide; all the samples when they fit. */
  t: Float64Array;
  v: Float64Array;
  /** The channel's bars in the range, at most one a bucket: epoch-aligned, of the smallest
   *  usual size that fits (1s, 5s, 15s, 30s, 1m, 5m, 15m, 30m, 1h, 4h, 1d, then whole days);
   *  no spike is lost here either: a bar's high is the largest sample in it. */
  bars: HistoryBars;
  findings: HistoryFinding[];
  /** Findings are known from this time on (what the server has kept); null: none kept yet. */
  findings_since_us: number | null;
  /** The incidents with the channel as a member whose span meets [t0, t1), each as its latest
   *  update, oldest first. */
  incidents: Incident[];
  /** Incidents are known from this time on (what the server has kept); null: none kept. */
  incidents_since_us: number | null;
}

/** `us` microseconds in days, to one decimal. */
function spanDays(us: number): number {
  return Math.round(us / 8_640_000_000) / 10;
}

/** Checks a request's fields, naming the first that is wrong. */
export function checkHistoryRequest(r: HistoryRequest): HistoryRequest {
  try {
    checkName(r.channel, "channel");
  } catch (err) {
    throw new ProtocolError("value", (err as Error).message, {
      field: "channel",
      value: r.channel,
    });
  }
  for (const field of ["t0_us", "t1_us", "points_max"] as const) {
    if (!Number.isSafeInteger(r[field])) {
      throw new ProtocolError(
        "value",
        `History request field "${field}" must be an integer, got ${describeValue(r[field])}`,
        { field, value: r[field] },
      );
    }
  }
  if (r.t1_us <= r.t0_us) {
    throw new ProtocolError(
      "value",
      `History request must have t1_us after t0_us, got t0_us ${r.t0_us} and t1_us ${r.t1_us}`,
      { field: "t1_us", value: r.t1_us },
    );
  }
  if (r.t1_us - r.t0_us > HISTORY_LIMITS.span_us_max) {
    throw new ProtocolError(
      "oversize",
      `History request spans ${r.t1_us - r.t0_us} µs (${
        spanDays(r.t1_us - r.t0_us)
      } days), over the limit of ${HISTORY_LIMITS.span_us_max} µs (${
        spanDays(HISTORY_LIMITS.span_us_max)
      } days)`,
      { field: "t1_us", value: r.t1_us },
    );
  }
  if (r.points_max < 4 || r.points_max > HISTORY_LIMITS.points_max) {
    throw new ProtocolError(
      "value",
      `History request field "points_max" must be in 4..${HISTORY_LIMITS.points_max}, got ` +
        `${r.points_max}`,
      { field: "points_max", value: r.points_max },
    );
  }
  return r;
}

/** The query string of `GET /history` for a request. */
export function historyQuery(r: HistoryRequest): string {
  return new URLSearchParams({
    channel: r.channel,
    t0_us: String(r.t0_us),
    t1_us: String(r.t1_us),
    points_max: String(r.points_max),
  }).toString();
}

/** Reads a request from `GET /history`'s query string, checked. */
export function historyRequestOfQuery(params: URLSearchParams): HistoryRequest {
  const int = (field: string): number => {
    const raw = params.get(field);
    if (raw === null) {
      throw new ProtocolError("field", `History request field "${field}" is missing`, { field });
    }
    return /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  };
  const channel = params.get("channel");
  if (channel === null) {
    throw new ProtocolError("field", `History request field "channel" is missing`, {
      field: "channel",
    });
  }
  const r = { channel, t0_us: int("t0_us"), t1_us: int("t1_us"), points_max: int("points_max") };
  for (const field of ["t0_us", "t1_us", "points_max"] as const) {
    if (Number.isNaN(r[field])) {
      throw new ProtocolError(
        "value",
        `History request field "${field}" must be an integer, got ${
          describeValue(params.get(field))
        }`,
        { field, value: params.get(field) },
      );
    }
  }
  return checkHistoryRequest(r);
}

/** Encodes a request as a msgpack map (the WebSocket form). */
export function encodeHistoryRequest(r: HistoryRequest): Uint8Array {
  return encodeValue({ ...checkHistoryRequest(r) });
}

/** Decodes and checks a msgpack request. */
export function decodeHistoryRequest(bytes: Uint8Array): HistoryRequest {
  const m = requireMap(decodeValue(bytes), "A history request");
  return checkHistoryRequest({
    channel: requireString(m, "channel"),
    t0_us: requireInteger(m, "t0_us"),
    t1_us: requireInteger(m, "t1_us"),
    points_max: requireInteger(m, "points_max"),
  });
}

/** Encodes an answer: its columns as bins, the rest as msgpack values. */
export function encodeHistoryResponse(r: HistoryResponse): Uint8Array {
  if (r.t.length !== r.v.length) {
    throw new RangeError(`History response has ${r.t.length} times and ${r.v.length} values`);
  }
  return encodeValue({
    channel: r.channel,
    t0_us: r.t0_us,
    t1_us: r.t1_us,
    bucket_us: r.bucket_us,
    samples: r.samples,
    samples_since_us: r.samples_since_us,
    t: float64Bytes(r.t),
    v: float64Bytes(r.v),
    bars: historyBarsValue(r.bars),
    findings: r.findings.map((f) => [f.kind, f.ts_us, f.what, f.severity]),
    findings_since_us: r.findings_since_us,
    incidents: historyIncidentsValue(r.incidents),
    incidents_since_us: r.incidents_since_us,
  });
}

/** Decodes an answer; its columns are views of `bytes` where aligned. */
export function decodeHistoryResponse(bytes: Uint8Array): HistoryResponse {
  const m = requireMap(decodeValue(bytes), "A history response");
  const t = float64Column(requireBin(m, "t"), "t");
  const v = float64Column(requireBin(m, "v"), "v");
  if (t.length !== v.length) {
    throw new ProtocolError(
      "field",
      `History response has ${t.length} times and ${v.length} values: "t" and "v" must match`,
      { field: "v", value: v.length },
    );
  }
  const rawFindings = m.findings;
  if (!Array.isArray(rawFindings)) {
    throw new ProtocolError(
      "field",
      `History response field "findings" must be an array, got ${describeValue(rawFindings)}`,
      { field: "findings", value: rawFindings },
    );
  }
  const since = m.findings_since_us;
  const samplesSince = m.samples_since_us;
  const incidentsSince = m.incidents_since_us;
  return {
    channel: requireString(m, "channel"),
    t0_us: requireInteger(m, "t0_us"),
    t1_us: requireInteger(m, "t1_us"),
    bucket_us: requireNumber(m, "bucket_us"),
    samples: requireInteger(m, "samples"),
    samples_since_us: samplesSince === null ? null : requireInteger(m, "samples_since_us"),
    t,
    v,
    bars: historyBarsOfValue(m.bars),
    findings: rawFindings.map(decodeFinding),
    findings_since_us: since === null ? null : requireInteger(m, "findings_since_us"),
    incidents: historyIncidentsOfValue(m.incidents),
    incidents_since_us: incidentsSince === null ? null : requireInteger(m, "incidents_since_us"),
  };
}

function decodeFinding(raw: unknown, i: number): HistoryFinding {
  const where = `findings[${i}]`;
  if (!Array.isArray(raw) || raw.length !== 4) {
    throw new ProtocolError(
      "field",
      `History response field "${where}" must be [kind, ts_us, what, severity], got ${
        describeValue(raw)
      }`,
      { field: where, value: raw },
    );
  }
  const [kind, ts_us, what, severity] = raw as unknown[];
  const m = { kind, ts_us, what };
  const out: HistoryFinding = {
    kind: requireString(m, "kind", where),
    ts_us: requireInteger(m, "ts_us", where),
    what: requireString(m, "what", where),
    severity: severity === null ? null : requireNumber({ severity }, "severity", where),
  };
  return out;
}

function requireNumber(m: Record<string, unknown>, field: string, where = ""): number {
  const value = m[field];
  if (typeof value === "number" && Number.isFinite(value)) return value;
  const name = where ? `${where}.${field}` : field;
  throw new ProtocolError(
    "field",
    `Message field "${name}" must be a finite number, got ${describeValue(value)}`,
    { field: name, value },
  );
}
