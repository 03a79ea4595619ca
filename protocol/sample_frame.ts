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
  type Envelope,
  PROTOCOL_VERSION,
  requireBin,
  requireInteger,
  requireString,
} from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import {
  binWidths,
  float64Copy,
  MsgpackWriter,
  strWidths,
  uintWidths,
  utf8Bytes,
  utf8Length,
} from "./_frame_codec.ts";
import { checkName } from "./subjects.ts";
import {
  checkFrameSeq,
  FRAME_TIME_US_MAX,
  FRAME_TIME_US_MIN,
  frameTimeError,
  inFrameTimeRange,
} from "./frame_bounds.ts";

export { FRAME_TIME_US_MAX, FRAME_TIME_US_MIN } from "./frame_bounds.ts";
import { invariant } from "./invariant.ts";

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

/** The 8-byte little-endian values of `a` as bytes (a view of it on a little-endian machine). */
export function float64Bytes(a: Float64Array): Uint8Array {
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
  return float64Copy(bin);
}

/**
 * Encodes a sample frame message, sized exactly, each column copied once. Frames are validated
 * where bytes become values (`decodeFrame`), not here; only the column lengths are checked.
 */
export function encodeFrame(frame: SampleFrame, meta: FrameMeta): Uint8Array {
  if (frame.t.length !== frame.v.length) {
    throw new ProtocolError(
      "field",
      `Frame of channel "${frame.channel}" has ${frame.t.length} times but ${frame.v.length} ` +
        `values`,
      { field: "body.v", value: frame.v.length },
    );
  }
  return writeColumnsMessage(FRAME_TYPE, frame.channel, frame.seq0, frame.t, meta, [
    [K_V, frame.v],
  ], false);
}

const K = (s: string) => utf8Bytes(s);
const K_V1 = K("v"), K_ID = K("id"), K_TYPE = K("type"), K_SRC = K("src"), K_TS = K("ts");
const K_SEQ = K("seq"), K_CORR = K("corr"), K_CAUSE = K("cause"), K_BODY = K("body");
const K_CHANNEL = K("channel"),
  K_SEQ0 = K("seq0"),
  K_T = K("t"),
  K_V = K("v"),
  K_COLUMNS = K("columns");

const utf8d = new TextDecoder();

/** Header widths that put a sample frame's `t` and `v` payloads at 8-byte aligned offsets. */
interface AlignedLayout {
  channelWidth: number;
  seq0Width: number;
  tKeyWidth: number;
  tBinWidth: number;
  /** The message's size less the value column's payload. */
  size: number;
}

let lastLayoutKey = "";
let lastLayout: AlignedLayout | undefined;

function alignedLayout(
  head: number,
  channel: string,
  seq0: number,
  tBytes: number,
): AlignedLayout | undefined {
  const L = channel.length;
  if (tBytes < 8 || utf8Length(channel) !== L) return undefined;
  const seq0Widths = uintWidths(seq0);
  // Consecutive frames of a channel have the same shape: reuse the last answer.
  const key = `${head}|${L}|${seq0Widths[0]}|${tBytes}`;
  if (key === lastLayoutKey) return lastLayout;
  let best: AlignedLayout | undefined;
  for (const channelWidth of strWidths(L)) {
    for (const seq0Width of seq0Widths) {
      for (const tKeyWidth of KEY_WIDTHS) {
        for (const tBinWidth of binWidths(tBytes)) {
          // channel key (8) + channel + seq0 key (5) + seq0 + t key (header + 1) + t header
          const tAt = head + 8 + channelWidth + L + 5 + seq0Width + tKeyWidth + 1 + tBinWidth;
          if (tAt % 8 !== 0) continue;
          // then t's payload, the v key as str8 (3) and a bin32 header (5): v lands aligned too
          const size = tAt + tBytes + 3 + 5;
          if (!best || size < best.size) {
            best = { channelWidth, seq0Width, tKeyWidth, tBinWidth, size };
          }
        }
      }
    }
  }
  lastLayoutKey = key;
  lastLayout = best;
  return best;
}

const KEY_WIDTHS = [1, 2] as const;

/** Writes `{ v, id, type, src, ts, seq?, corr?, cause?, body: { channel, seq0, t, ...cols } }`. */
function writeColumnsMessage(
  type: string,
  channel: string,
  seq0: number,
  t: Float64Array,
  meta: FrameMeta,
  cols: ReadonlyArray<readonly [Uint8Array, Float64Array]>,
  nested: boolean,
): Uint8Array {
  const ts = meta.ts ?? (t.length ? Math.round(t[t.length - 1]!) : 0);
  checkSafeIntegers(ts, seq0, meta.seq ?? 0);
  const { corr, cause } = meta;
  const S = MsgpackWriter.strSize, X = MsgpackWriter.textSize, I = MsgpackWriter.intSize;
  const B = MsgpackWriter.binSize;
  let size = 1 + S(K_V1) + 1 + S(K_ID) + X(meta.id) + S(K_TYPE) + X(type) + S(K_SRC) + X(meta.src) +
    S(K_TS) + I(ts) + S(K_BODY);
  if (meta.seq !== undefined) size += S(K_SEQ) + I(meta.seq);
  if (corr !== undefined) size += S(K_CORR) + X(corr);
  if (cause !== undefined) size += S(K_CAUSE) + X(cause);
  const head = size + 1; // everything before the body's first key
  // A sample frame's columns are laid out 8-byte aligned from the message's start (msgpack allows
  // wider headers than the smallest), so a receiver whose buffer is aligned views them in place.
  const layout = nested ? undefined : alignedLayout(head, channel, seq0, t.byteLength);
  if (layout) {
    size = layout.size + cols[0]![1].byteLength;
  } else {
    size += 1 + S(K_CHANNEL) + X(channel) + S(K_SEQ0) + I(seq0) + S(K_T) + B(t.byteLength);
    if (nested) size += S(K_COLUMNS) + 1;
    // Indexed, not destructured: no iterator or pair per column of every frame.
    for (let c = 0; c < cols.length; c++) size += S(cols[c]![0]) + B(cols[c]![1].byteLength);
  }
  const w = new MsgpackWriter(size);
  writeEnvelope(w, type, meta, ts);
  w.mapHeader(nested ? 4 : 3 + cols.length);
  w.str(K_CHANNEL);
  if (layout) {
    w.textWidth(channel, layout.channelWidth);
    w.str(K_SEQ0);
    w.uintWidth(seq0, layout.seq0Width);
    w.textWidth("t", layout.tKeyWidth);
    w.float64Width(t, layout.tBinWidth);
    const [name, col] = cols[0]!;
    w.textWidth(utf8d.decode(name), 2);
    w.float64Width(col, 5);
  } else {
    w.text(channel);
    w.str(K_SEQ0);
    w.int(seq0);
    w.str(K_T);
    w.float64(t);
    if (nested) {
      w.str(K_COLUMNS);
      w.mapHeader(cols.length);
    }
    for (let c = 0; c < cols.length; c++) {
      w.str(cols[c]![0]);
      w.float64(cols[c]![1]);
    }
  }
  invariant(w.pos === size, () => `frame writer: wrote ${w.pos} of ${size} bytes`);
  return w.bytes;
}

/** Throws ProtocolError unless the frame's ts, seq0 and seq are safe integers (msgpack ints). */
function checkSafeIntegers(ts: number, seq0: number, seq: number): void {
  // Tested before naming them: a frame's encoding makes no arrays when all is well.
  if (Number.isSafeInteger(ts) && Number.isSafeInteger(seq0) && Number.isSafeInteger(seq)) return;
  for (const [name, x] of [["ts", ts], ["seq0", seq0], ["seq", seq]] as const) {
    if (!Number.isSafeInteger(x)) {
      throw new ProtocolError(
        "value",
        `Cannot encode field "${name}": ${x} is not a safe integer`,
        {
          field: name,
          value: x,
        },
      );
    }
  }
}

/**
 * Writes the message's envelope (v, id, type, src, ts, seq?, corr?, cause?) up to the body's key.
 */
function writeEnvelope(w: MsgpackWriter, type: string, meta: FrameMeta, ts: number): void {
  w.mapHeader(
    6 + (meta.seq !== undefined ? 1 : 0) + (meta.corr !== undefined ? 1 : 0) +
      (meta.cause !== undefined ? 1 : 0),
  );
  w.str(K_V1);
  w.int(PROTOCOL_VERSION);
  w.str(K_ID);
  w.text(meta.id);
  w.str(K_TYPE);
  w.text(type);
  w.str(K_SRC);
  w.text(meta.src);
  w.str(K_TS);
  w.int(ts);
  if (meta.seq !== undefined) {
    w.str(K_SEQ);
    w.int(meta.seq);
  }
  if (meta.corr !== undefined) {
    w.str(K_CORR);
    w.text(meta.corr);
  }
  if (meta.cause !== undefined) {
    w.str(K_CAUSE);
    w.text(meta.cause);
  }
  w.str(K_BODY);
}

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

const columnNames = new Map<string, Uint8Array>();

/** The UTF-8 bytes of a column name: a kind's few names are encoded once. */
function columnName(name: string): Uint8Array {
  let bytes = columnNames.get(name);
  if (bytes === undefined) {
    bytes = utf8Bytes(name);
    if (columnNames.size < 1024) columnNames.set(name, bytes);
  }
  return bytes;
}

/** Encodes a multi-column output frame message, sized exactly, each column copied once. */
export function encodeColumns(frame: ColumnsFrame, meta: FrameMeta): Uint8Array {
  const cols: Array<readonly [Uint8Array, Float64Array]> = [];
  const columns = frame.columns;
  for (const name in columns) {
    const col = columns[name]!;
    if (col.length !== frame.t.length) {
      throw new ProtocolError(
        "field",
        `Column "${name}" of channel "${frame.channel}" has ${col.length} values for ` +
          `${frame.t.length} times`,
        { field: `body.columns.${name}`, value: col.length },
      );
    }
    cols.push([columnName(name), col]);
  }
  if (cols.length > 15) {
    throw new ProtocolError(
      "oversize",
      `A columns frame holds at most 15 columns, got ${cols.length}`,
      {
        field: "body.columns",
        value: cols.length,
      },
    );
  }
  return writeColumnsMessage(COLUMNS_TYPE, frame.channel, frame.seq0, frame.t, meta, cols, true);
}

/** Decodes a multi-column output frame message. */
export function decodeColumns(
  bytes: Uint8Array,
  limits: FrameLimits = {},
): { envelope: Envelope; frame: ColumnsFrame } {
  const envelope = decodeEnvelope(bytes, limits);
  return { envelope, frame: columnsFrameOf(envelope) };
}

/**
 * The columns frame of an envelope already decoded (a reader that routes on the type first, as
 * the page does), checked as decodeColumns checks it: every column as long as `t`.
 */
export function columnsFrameOf(envelope: Envelope): ColumnsFrame {
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
  return { channel, seq0, t, columns };
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
