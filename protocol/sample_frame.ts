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
import { decodeEnvelope, type DecodeLimits, type Envelope, requireBin } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import {
  checkFrameSeq,
  FRAME_TIME_US_MAX,
  FRAME_TIME_US_MIN,
  frameTimeError,
  inFrameTimeRange,
} from "./frame_bounds.ts";
import { float64Column, LITTLE_ENDIAN } from "./float64_column.ts";
import {
  frameBodyOf,
  type FrameMeta,
  VALUES_KEY,
  writeColumns,
  type WrittenColumns,
} from "./_frame_message.ts";

export { FRAME_TIME_US_MAX, FRAME_TIME_US_MIN } from "./frame_bounds.ts";
export type { FrameMeta, FrameText } from "./_frame_message.ts";

/** The envelope type of a sample frame. */
export const FRAME_TYPE = "frame";
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

/** Limits applied when decoding frames. */
export interface FrameLimits extends DecodeLimits {
  samplesPerFrameMax?: number;
}

/**
 * Encodes a sample frame message, sized exactly, each column copied once. Frames are validated
 * where bytes become values (`decodeFrame`), not here; only the column lengths are checked.
 */
export function encodeFrame(frame: SampleFrame, meta: FrameMeta): Uint8Array {
  return encodeFramePlaced(frame, meta).bytes;
}

export type { WrittenColumns };

/**
 * encodeFrame, also saying where the time column's bytes begin in the message (`tAt`): what a
 * journal record of the frame leaves out when its times are evenly spaced, known here without
 * decoding the message again.
 */
export function encodeFramePlaced(frame: SampleFrame, meta: FrameMeta): WrittenColumns {
  if (frame.t.length !== frame.v.length) {
    throw new ProtocolError(
      "field",
      `Frame of channel "${frame.channel}" has ${frame.t.length} times but ${frame.v.length} ` +
        `values`,
      { field: "body.v", value: frame.v.length },
    );
  }
  VALUE_PAIR[1] = frame.v;
  try {
    return writeColumns(FRAME_TYPE, frame.channel, frame.seq0, frame.t, meta, VALUE_COLUMN, false);
  } finally {
    VALUE_PAIR[1] = NO_VALUES; // the frame's values are not held past its encoding
  }
}

const NO_VALUES = new Float64Array(0);
/** A sample frame's one column, its values set for each frame written (not made for each). */
const VALUE_PAIR: [Uint8Array, Float64Array] = [VALUES_KEY, NO_VALUES];
const VALUE_COLUMN = { pairs: [VALUE_PAIR], count: 1 };

/** Decodes and validates a sample frame message. */
export function decodeFrame(
  bytes: Uint8Array,
  limits: FrameLimits = {},
): { envelope: Envelope; frame: SampleFrame } {
  const envelope = decodeEnvelope(bytes, limits);
  return { envelope, frame: frameOfEnvelope(envelope, limits) };
}

/**
 * The bytes of a decoded frame envelope's time column as they came (a view of the message, from
 * which `frame.t` was read), or undefined when its body has none.
 */
export function frameTimeBytes(envelope: Envelope): Uint8Array | undefined {
  const body = envelope.body;
  if (body === null || typeof body !== "object") return undefined;
  const t = (body as { t?: unknown }).t;
  return t instanceof Uint8Array ? t : undefined;
}

/** Room for a frame's samples in columns a reader keeps: its columns, as values and as bytes,
 *  and the index its first sample goes to. */
export interface FrameRoom {
  t: Float64Array;
  v: Float64Array;
  t_bytes: Uint8Array;
  v_bytes: Uint8Array;
  at: number;
}

/** Options of decodeFrameInto. */
export interface DecodeFrameIntoOptions extends FrameLimits {
  /** Room for the frame's `n` samples, or undefined for columns of the frame's own. */
  room(n: number): FrameRoom | undefined;
}

/**
 * Decodes and validates a sample frame message as `decodeFrame` does, its columns written
 * straight into the room `options.room` gives (the frame's `t` and `v` are views of it), so a
 * reader keeping many frames in columns of its own copies each sample once and makes no
 * column of its own per frame. A frame that fails validation throws as `decodeFrame` would,
 * having written into the room past what its caller counts as held.
 */
export function decodeFrameInto(bytes: Uint8Array, options: DecodeFrameIntoOptions): SampleFrame {
  return frameOf(decodeEnvelope(bytes, options), options, options.room);
}

/** Validates the body of an already decoded envelope of type `frame`. */
export function frameOfEnvelope(envelope: Envelope, limits: FrameLimits = {}): SampleFrame {
  return frameOf(envelope, limits, undefined);
}

/** `frameOfEnvelope`, its columns decoded into the room `room` gives where it gives one. */
function frameOf(
  envelope: Envelope,
  limits: FrameLimits,
  room: ((n: number) => FrameRoom | undefined) | undefined,
): SampleFrame {
  const { body, channel, seq0 } = frameBodyOf(envelope, FRAME_TYPE);
  if (seq0 < 0) {
    throw new ProtocolError("value", `Message field "body.seq0" must be >= 0, got ${seq0}`, {
      field: "body.seq0",
      value: seq0,
    });
  }
  const tBin = requireBin(body, "t", "body"), vBin = requireBin(body, "v", "body");
  const n = tBin.byteLength / 8;
  // Only columns of the room's shape (8-byte values, as many of each, within the limit) are
  // written into it; any others are read as decodeFrame reads them, to fail with its error.
  const r = room && LITTLE_ENDIAN && Number.isInteger(n) && vBin.byteLength === tBin.byteLength &&
      n <= (limits.samplesPerFrameMax ?? FRAME_SAMPLES_MAX_DEFAULT)
    ? room(n)
    : undefined;
  let frame: SampleFrame;
  if (r) {
    r.t_bytes.set(tBin, r.at * 8);
    r.v_bytes.set(vBin, r.at * 8);
    frame = { channel, seq0, t: r.t.subarray(r.at, r.at + n), v: r.v.subarray(r.at, r.at + n) };
  } else {
    const t = float64Column(tBin, "body.t");
    frame = { channel, seq0, t, v: float64Column(vBin, "body.v") };
  }
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
  const n = t.length;
  checkFrameSeq(frame.channel, frame.seq0, n);
  if (n === 0) return;
  // Times non-decreasing, so the ends in range put every time in range (NaN fails both tests).
  if (framePasses(t, v) && t[0]! >= FRAME_TIME_US_MIN && t[n - 1]! <= FRAME_TIME_US_MAX) return;
  // The slow path says exactly what is wrong.
  let prev = -Infinity;
  let i = 0;
  for (; i < n; i++) {
    const ti = t[i]!, vi = v[i]!;
    if (!(ti >= prev) || !inFrameTimeRange(ti) || vi - vi !== 0) break;
    prev = ti;
  }
  if (i === n) return;
  const ti = t[i]!, vi = v[i]!;
  if (!inFrameTimeRange(ti)) throw frameTimeError(frame.channel, i, ti);
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

/**
 * Whether a frame's times never decrease and its values are all finite (its times' ends are
 * checked apart): one branch per four samples. Times: non-decreasing catches NaN and disorder.
 * Values: x * 0 is 0 for finite x and NaN for NaN and infinities, so sums of them test them all.
 * Four sums, not one: a single sum is a chain of dependent additions, which would set this
 * loop's speed; four independent chains run side by side.
 */
function framePasses(t: Float64Array, v: Float64Array): boolean {
  const n = t.length;
  let ordered = true;
  let a0 = v[0]! * 0, a1 = 0, a2 = 0, a3 = 0;
  let prev = t[0]!;
  let j = 1;
  for (; j + 3 < n; j += 4) {
    const t0 = t[j]!, t1 = t[j + 1]!, t2 = t[j + 2]!, t3 = t[j + 3]!;
    if (!(t0 >= prev && t1 >= t0 && t2 >= t1 && t3 >= t2)) ordered = false;
    prev = t3;
    a0 += v[j]! * 0;
    a1 += v[j + 1]! * 0;
    a2 += v[j + 2]! * 0;
    a3 += v[j + 3]! * 0;
  }
  for (; j < n; j++) {
    const tj = t[j]!;
    if (!(tj >= prev)) ordered = false;
    prev = tj;
    a0 += v[j]! * 0;
  }
  return ordered && (a0 + a1) + (a2 + a3) === 0;
}

/** A deep copy of a frame, detached from any message buffer. */
export function copyFrame(frame: SampleFrame): SampleFrame {
  return { channel: frame.channel, seq0: frame.seq0, t: frame.t.slice(), v: frame.v.slice() };
}
