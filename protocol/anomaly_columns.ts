/**
 * The anomaly actor's per-sample outputs on `troupe.out.anomaly.<channel>`: a columns frame
 * (sample_frame.ts) of `score`, `expected`, `spread` and `value` over the frame's times, where the
 * prediction band is `expected - spread` to `expected + spread`. The older form sent the band as
 * its two edges, `lower` and `upper`: a column more, 8 bytes a sample on every publish and in
 * every consumer. Recordings and journals made in it hold that form, so the reader here takes
 * either and gives the edges; the edges it derives are bit for bit those the kernel computed for a
 * valid sample (`exp - band * mae` is `exp - spread`, the same two operations).
 */
import { type ColumnsFrame, decodeColumns, encodeColumns } from "./columns_frame.ts";
import type { FrameMeta } from "./sample_frame.ts";
import { ProtocolError } from "./protocol_error.ts";
import type { Envelope } from "./envelope.ts";

/** One frame of the anomaly actor's outputs, the band as its half-width (the wire's form). */
export interface AnomalyColumns {
  channel: string;
  seq0: number;
  /** Event times in microseconds since the Unix epoch. */
  t: Float64Array;
  /** The anomaly score in [0, 1]. */
  score: Float64Array;
  /** The value expected from the past. */
  expected: Float64Array;
  /** The prediction band's half-width. */
  spread: Float64Array;
  /** The value scored. */
  value: Float64Array;
}

/** The band of an anomaly columns frame as its edges, what a chart draws. */
export interface AnomalyBand {
  value: Float64Array;
  expected: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
}

/** Encodes an anomaly outputs frame as the columns message the actor publishes. */
export function encodeAnomalyColumns(frame: AnomalyColumns, meta: FrameMeta): Uint8Array {
  return encodeColumns(anomalyColumnsFrame(frame), meta);
}

/** The generic columns frame of an anomaly outputs frame (the columns are not copied). */
export function anomalyColumnsFrame(frame: AnomalyColumns): ColumnsFrame {
  const { score, expected, spread, value } = frame;
  return {
    channel: frame.channel,
    seq0: frame.seq0,
    t: frame.t,
    columns: { score, expected, spread, value },
  };
}

/** Decodes an anomaly outputs message; throws a ProtocolError naming a missing column. */
export function decodeAnomalyColumns(bytes: Uint8Array): AnomalyColumns {
  const { frame } = decodeColumns(bytes);
  const { score, expected, spread, value } = frame.columns;
  return {
    channel: frame.channel,
    seq0: frame.seq0,
    t: frame.t,
    score: required(score, "score", frame),
    expected: required(expected, "expected", frame),
    spread: required(spread, "spread", frame),
    value: required(value, "value", frame),
  };
}

function required(
  column: Float64Array | undefined,
  name: string,
  frame: ColumnsFrame,
): Float64Array {
  if (column) return column;
  throw new ProtocolError(
    "field",
    `Anomaly columns frame of channel "${frame.channel}" (seq0 ${frame.seq0}) has no column ` +
      `"${name}", got ${JSON.stringify(Object.keys(frame.columns))}`,
    { field: `body.columns.${name}`, value: Object.keys(frame.columns) },
  );
}

/**
 * The band of an anomaly columns frame's columns, from `expected` and `spread` or, in frames
 * of the older form, `lower` and `upper` as they came; undefined when neither form is whole.
 * `value` falls back to `expected` where a frame has none.
 */
export function anomalyBandOf(columns: Record<string, Float64Array>): AnomalyBand | undefined {
  const { expected, spread } = columns;
  const value = columns.value ?? expected;
  if (!value || !expected) return undefined;
  if (spread) {
    const n = expected.length;
    const lower = new Float64Array(n), upper = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      lower[i] = expected[i]! - spread[i]!;
      upper[i] = expected[i]! + spread[i]!;
    }
    return { value, expected, lower, upper };
  }
  const { lower, upper } = columns;
  return lower && upper ? { value, expected, lower, upper } : undefined;
}

/**
 * The bytes a host published for an anomaly columns message in the older form, the band as its
 * edges (`score`, `expected`, `lower`, `upper`, `value`, in that order, the same envelope), when
 * `bytes` is one of today's (with `spread`); undefined for any other message or one that does
 * not decode. `troupe replay --verify` compares a recording made before with what the actor
 * publishes today through this: equal bytes are the same output, bit for bit, in the older form.
 */
export function anomalyEdgesBytes(bytes: Uint8Array): Uint8Array | undefined {
  let decoded: { envelope: Envelope; frame: ColumnsFrame };
  try {
    decoded = decodeColumns(bytes);
  } catch {
    return undefined;
  }
  const { envelope: env, frame } = decoded;
  const { score, expected, spread, value } = frame.columns;
  if (!score || !expected || !spread || !value || Object.keys(frame.columns).length !== 4) {
    return undefined;
  }
  const band = anomalyBandOf(frame.columns)!;
  const meta: FrameMeta = { id: env.id, src: env.src, ts: env.ts };
  if (env.seq !== undefined) meta.seq = env.seq;
  if (env.corr !== undefined) meta.corr = env.corr;
  if (env.cause !== undefined) meta.cause = env.cause;
  const columns = { score, expected, lower: band.lower, upper: band.upper, value };
  return encodeColumns({ channel: frame.channel, seq0: frame.seq0, t: frame.t, columns }, meta);
}

/**
 * The columns of an anomaly frame with the band as its edges: a frame of the current form gets
 * `lower` and `upper` in place of `spread`, one of the old form is as it came. What compares a
 * run's outputs with a recording of the older form reads both through this.
 */
export function anomalyColumnsAsEdges(
  columns: Record<string, Float64Array>,
): Record<string, Float64Array> {
  if (!columns.spread) return columns;
  const band = anomalyBandOf(columns);
  if (!band) return columns;
  const { spread: _, ...rest } = columns;
  return { ...rest, lower: band.lower, upper: band.upper };
}
