/**
 * Columnar sample frames: many samples of one channel, `{ channel, seq0, t, v }`, where `t` (event
 * time, microseconds since the Unix epoch) and `v` are Float64Arrays sent as msgpack `bin` of
 * 8-byte little-endian values. Frames are the unit of throughput; a frame of one sample is the unit
 * of latency. Decoding does not copy per sample: a column is a view over the received bytes when
 * they are 8-byte aligned, and one bulk copy when they are not.
 *
 * A decoded frame's arrays may alias the message bytes. Consumers that keep a frame beyond the
 * call that delivered it must copy it (`copyFrame`).
 */
import {
  decodeEnvelope,
  type DecodeLimits,
  encodeEnvelope,
  type Envelope,
  requireBin,
  requireInteger,
  requireString,
} from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { checkName } from "./subjects.ts";

/** The envelope type of a sample frame. */
export const FRAME_TYPE = "frame";
/** The envelope type of a multi-column output frame. */
export const COLUMNS_TYPE = "columns";
/** The default cap on samples in one frame. */
export const FRAME_SAMPLES_MAX_DEFAULT = 65_536;

/** Samples of one channel in columnar form. */
export interface SampleFrame {
  channel: string;
  /** The per-channel sequence number of the first sample. */
  seq0: number;
  /** Event times in microseconds since the Unix epoch, non-decreasing. */
  t: Float64Array;
  /** Values, finite. */
  v: Float64Array;
}

/** Per-sample outputs of an actor for one channel: several named columns over the same times. */
export interface ColumnsFrame {
  channel: string;
  seq0: number;
  t: Float64Array;
  columns: Record<string, Float64Array>;
}

/** Identity of a message being encoded. */
export interface FrameMeta {
  id: string;
  src: string;
  /** Event time of the message; defaults to the frame's last sample time. */
  ts?: number;
  seq?: number;
  corr?: string;
  cause?: string;
}

/** Limits applied when decoding frames. */
export interface FrameLimits extends DecodeLimits {
  samplesPerFrameMax?: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

function bytesOf(a: Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i]!, true);
  return out;
}

/** Views (or, when misaligned, copies once) a bin of 8-byte little-endian values. */
export function float64Column(bin: Uint8Array, field: string): Float64Array {
  if (bin.byteLength % 8 !== 0) {
    throw new ProtocolError(
      "field",
      `Message field "${field}" must be bin of 8-byte values, got ${bin.byteLength} bytes`,
      { field, value: bin },
    );
  }
  const n = bin.byteLength / 8;
  if (!LITTLE_ENDIAN) {
    const out = new Float64Array(n);
    const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  }
  if (bin.byteOffset % 8 === 0) return new Float64Array(bin.buffer, bin.byteOffset, n);
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(bin);
  return out;
}

function metaOf(meta: FrameMeta, t: Float64Array) {
  const ts = meta.ts ?? (t.length ? Math.round(t[t.length - 1]!) : 0);
  return { ...meta, ts };
}

/** Encodes a sample frame message. The frame is validated first (see `validateFrame`). */
export function encodeFrame(frame: SampleFrame, meta: FrameMeta): Uint8Array {
  validateFrame(frame);
  return encodeEnvelope({
    ...metaOf(meta, frame.t),
    type: FRAME_TYPE,
    body: { channel: frame.channel, seq0: frame.seq0, t: bytesOf(frame.t), v: bytesOf(frame.v) },
  });
}

/** Decodes and validates a sample frame message. */
export function decodeFrame(
  bytes: Uint8Array,
  limits: FrameLimits = {},
): { envelope: Envelope; frame: SampleFrame } {
  const envelope = decodeEnvelope(bytes, limits);
  return { envelope, frame: frameOfEnvelope(envelope, limits) };
}

/** Validates the body of an already decoded envelope of type `frame`. */
export function frameOfEnvelope(envelope: Envelope, limits: FrameLimits = {}): SampleFrame {
  if (envelope.type !== FRAME_TYPE) {
    throw new ProtocolError(
      "field",
      `Message field "type" must be "${FRAME_TYPE}", got ${describeValue(envelope.type)}`,
      { field: "type", value: envelope.type },
    );
  }
  const body = bodyMap(envelope.body);
  const channel = checkName(requireString(body, "channel", "body"), "channel");
  const seq0 = requireInteger(body, "seq0", "body");
  if (seq0 < 0) {
    throw new ProtocolError("value", `Message field "body.seq0" must be >= 0, got ${seq0}`, {
      field: "body.seq0",
      value: seq0,
    });
  }
  const t = float64Column(requireBin(body, "t", "body"), "body.t");
  const v = float64Column(requireBin(body, "v", "body"), "body.v");
  const frame = { channel, seq0, t, v };
  validateFrame(frame, limits);
  return frame;
}

/** Checks a frame's invariants: equal lengths, finite values, non-decreasing finite times. */
export function validateFrame(frame: SampleFrame, limits: FrameLimits = {}): void {
  const { t, v } = frame;
  if (t.length !== v.length) {
    throw new ProtocolError(
      "field",
      `Frame of channel "${frame.channel}" has ${t.length} times but ${v.length} values`,
      { field: "body.v", value: v.length },
    );
  }
  const max = limits.samplesPerFrameMax ?? FRAME_SAMPLES_MAX_DEFAULT;
  if (t.length > max) {
    throw new ProtocolError(
      "oversize",
      `Frame of channel "${frame.channel}" has ${t.length} samples, over the limit of ${max}`,
      { field: "body.t", value: t.length },
    );
  }
  // One branch per sample on the fast path; the slow path below says exactly what is wrong.
  const n = t.length;
  let prev = -Infinity;
  let i = 0;
  for (; i < n; i++) {
    const ti = t[i]!, vi = v[i]!;
    if (!(ti >= prev) || ti - ti !== 0 || vi - vi !== 0) break;
    prev = ti;
  }
  if (i === n) return;
  const ti = t[i]!, vi = v[i]!;
  if (!Number.isFinite(ti)) {
    throw new ProtocolError(
      "value",
      `Frame of channel "${frame.channel}": body.t[${i}] must be finite, got ${describeValue(ti)}`,
      { field: `body.t[${i}]`, value: ti },
    );
  }
  if (ti < prev) {
    throw new ProtocolError(
      "order",
      `Frame of channel "${frame.channel}": body.t[${i}] = ${ti} is before body.t[${
        i - 1
      }] = ${prev}`,
      { field: `body.t[${i}]`, value: ti },
    );
  }
  throw new ProtocolError(
    "value",
    `Frame of channel "${frame.channel}": body.v[${i}] must be finite, got ${describeValue(vi)}`,
    { field: `body.v[${i}]`, value: vi },
  );
}

/** Encodes a multi-column output frame message. */
export function encodeColumns(frame: ColumnsFrame, meta: FrameMeta): Uint8Array {
  const columns: Record<string, Uint8Array> = {};
  for (const [name, col] of Object.entries(frame.columns)) {
    if (col.length !== frame.t.length) {
      throw new ProtocolError(
        "field",
        `Column "${name}" of channel "${frame.channel}" has ${col.length} values for ${frame.t.length} times`,
        { field: `body.columns.${name}`, value: col.length },
      );
    }
    columns[name] = bytesOf(col);
  }
  return encodeEnvelope({
    ...metaOf(meta, frame.t),
    type: COLUMNS_TYPE,
    body: { channel: frame.channel, seq0: frame.seq0, t: bytesOf(frame.t), columns },
  });
}

/** Decodes a multi-column output frame message. */
export function decodeColumns(
  bytes: Uint8Array,
  limits: FrameLimits = {},
): { envelope: Envelope; frame: ColumnsFrame } {
  const envelope = decodeEnvelope(bytes, limits);
  if (envelope.type !== COLUMNS_TYPE) {
    throw new ProtocolError(
      "field",
      `Message field "type" must be "${COLUMNS_TYPE}", got ${describeValue(envelope.type)}`,
      { field: "type", value: envelope.type },
    );
  }
  const body = bodyMap(envelope.body);
  const channel = checkName(requireString(body, "channel", "body"), "channel");
  const seq0 = requireInteger(body, "seq0", "body");
  const t = float64Column(requireBin(body, "t", "body"), "body.t");
  const rawColumns = body.columns;
  if (rawColumns === null || typeof rawColumns !== "object" || Array.isArray(rawColumns)) {
    throw new ProtocolError(
      "field",
      `Message field "body.columns" must be a map, got ${describeValue(rawColumns)}`,
      { field: "body.columns", value: rawColumns },
    );
  }
  const columns: Record<string, Float64Array> = {};
  for (const [name, bin] of Object.entries(rawColumns as Record<string, unknown>)) {
    if (!(bin instanceof Uint8Array)) {
      throw new ProtocolError(
        "field",
        `Message field "body.columns.${name}" must be bin, got ${describeValue(bin)}`,
        { field: `body.columns.${name}`, value: bin },
      );
    }
    const col = float64Column(bin, `body.columns.${name}`);
    if (col.length !== t.length) {
      throw new ProtocolError(
        "field",
        `Column "${name}" has ${col.length} values for ${t.length} times`,
        { field: `body.columns.${name}`, value: col.length },
      );
    }
    columns[name] = col;
  }
  return { envelope, frame: { channel, seq0, t, columns } };
}

/** A deep copy of a frame, detached from any message buffer. */
export function copyFrame(frame: SampleFrame): SampleFrame {
  return { channel: frame.channel, seq0: frame.seq0, t: frame.t.slice(), v: frame.v.slice() };
}

function bodyMap(body: unknown): Record<string, unknown> {
  if (
    body === null || typeof body !== "object" || Array.isArray(body) || body instanceof Uint8Array
  ) {
    throw new ProtocolError(
      "field",
      `Message field "body" must be a map, got ${describeValue(body)}`,
      {
        field: "body",
        value: body,
      },
    );
  }
  return body as Record<string, unknown>;
}
