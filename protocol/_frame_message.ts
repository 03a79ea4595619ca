/**
 * The message of a frame (a sample frame or a columns frame): its envelope and its body of
 * columns over the same times, written sized exactly, each column copied once; and the body's map
 * as a reader takes it.
 */
import { type Envelope, PROTOCOL_VERSION, requireInteger, requireString } from "./envelope.ts";
import { checkName } from "./subjects.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import {
  binWidths,
  MsgpackWriter,
  strHeaderBytes,
  strWidths,
  uintWidths,
  utf8Bytes,
  utf8Length,
} from "./_frame_codec.ts";
import { InvariantError } from "./invariant.ts";

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

const K = (s: string) => utf8Bytes(s);
const K_V1 = K("v"), K_ID = K("id"), K_TYPE = K("type"), K_SRC = K("src"), K_TS = K("ts");
const K_SEQ = K("seq"), K_CORR = K("corr"), K_CAUSE = K("cause"), K_BODY = K("body");
/** The key of a sample frame's value column. */
export const VALUES_KEY = K("v");
const K_CHANNEL = K("channel"),
  K_SEQ0 = K("seq0"),
  K_T = K("t"),
  K_COLUMNS = K("columns");

/** Header widths that put a sample frame's `t` and `v` payloads at 8-byte aligned offsets. */
interface AlignedLayout {
  channelWidth: number;
  seq0Width: number;
  tKeyWidth: number;
  tBinWidth: number;
  /** The message's size less the value column's payload. */
  size: number;
}

/**
 * The last layout's inputs and answer: consecutive frames of a channel have the same shape. Kept
 * as numbers, not a key string made for every frame (a message's, each channel's sample at fleet
 * size: four numbers turned to text and joined).
 */
let lastHead = -1, lastL = -1, lastSeq0Width = -1, lastTBytes = -1;
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
  if (
    head === lastHead && L === lastL && seq0Widths[0] === lastSeq0Width && tBytes === lastTBytes
  ) return lastLayout;
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
  lastHead = head;
  lastL = L;
  lastSeq0Width = seq0Widths[0]!;
  lastTBytes = tBytes;
  lastLayout = best;
  return best;
}

const KEY_WIDTHS = [1, 2] as const;

/**
 * A frame's columns: `count` pairs of a name's bytes and its values, the first `count` of `pairs`
 * (which may hold more: a writer's scratch, reused from frame to frame).
 */
export interface FrameColumns {
  pairs: ReadonlyArray<readonly [Uint8Array, Float64Array]>;
  count: number;
}

/** Writes `{ v, id, type, src, ts, seq?, corr?, cause?, body: { channel, seq0, t, ...cols } }`. */
export function writeColumnsMessage(
  type: string,
  channel: string,
  seq0: number,
  t: Float64Array,
  meta: FrameMeta,
  cols: FrameColumns,
  nested: boolean,
): Uint8Array {
  return writeColumns(type, channel, seq0, t, meta, cols, nested).bytes;
}

/**
 * Where a frame message holds its id's and its channel's UTF-8 bytes: what an output answering it
 * copies rather than encode the strings again (writeOutputColumns).
 */
export interface FrameText {
  /** The offset of the id's first byte, and its byte count. */
  idAt: number;
  idBytes: number;
  /** The offset of the channel's first byte, and its byte count. */
  channelAt: number;
  channelBytes: number;
}

/** A frame message written, where its time column's bytes begin in it, and its text. */
export interface WrittenColumns extends FrameText {
  bytes: Uint8Array;
  /** The offset in `bytes` of the first byte of `t`'s values. */
  tAt: number;
}

/** writeColumnsMessage, saying where the time column's bytes lie. */
export function writeColumns(
  type: string,
  channel: string,
  seq0: number,
  t: Float64Array,
  meta: FrameMeta,
  { pairs: cols, count }: FrameColumns,
  nested: boolean,
): WrittenColumns {
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
    for (let c = 0; c < count; c++) size += S(cols[c]![0]) + B(cols[c]![1].byteLength);
  }
  const w = new MsgpackWriter(size);
  let tAt: number;
  const idStart = writeEnvelope(w, type, meta, ts);
  w.mapHeader(nested ? 4 : 3 + count);
  w.str(K_CHANNEL);
  const channelStart = w.pos;
  if (layout) {
    w.textWidth(channel, layout.channelWidth);
    w.str(K_SEQ0);
    w.uintWidth(seq0, layout.seq0Width);
    w.textWidth("t", layout.tKeyWidth);
    w.float64Width(t, layout.tBinWidth);
    tAt = w.pos - t.byteLength;
    const pair = cols[0]!;
    w.str(pair[0], 2);
    w.float64Width(pair[1], 5);
  } else {
    w.text(channel);
    w.str(K_SEQ0);
    w.int(seq0);
    w.str(K_T);
    w.float64(t);
    tAt = w.pos - t.byteLength;
    if (nested) {
      w.str(K_COLUMNS);
      w.mapHeader(count);
    }
    writePairs(w, cols, count);
  }
  if (w.pos !== size) wroteOtherSize(w.pos, size);
  const bytes = w.bytes;
  const idAt = idStart + strHeaderWidth(bytes[idStart]!);
  const channelAt = channelStart + strHeaderWidth(bytes[channelStart]!);
  return {
    bytes,
    tAt,
    idAt,
    idBytes: strEnd(bytes, idStart) - idAt,
    channelAt,
    channelBytes: strEnd(bytes, channelStart) - channelAt,
  };
}

/** The width of the str header whose first byte is `first` (one troupe's writer wrote). */
function strHeaderWidth(first: number): number {
  return first === 0xd9 ? 2 : first === 0xda ? 3 : first === 0xdb ? 5 : 1;
}

/** The offset just past the str whose header begins at `at`. */
function strEnd(b: Uint8Array, at: number): number {
  const first = b[at]!;
  if (first === 0xd9) return at + 2 + b[at + 1]!;
  if (first === 0xda) return at + 3 + ((b[at + 1]! << 8) | b[at + 2]!);
  if (first === 0xdb) {
    return at + 5 + b[at + 1]! * 0x100_0000 + ((b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!);
  }
  return at + 1 + (first & 0x1f);
}

/**
 * The UTF-8 bytes an output's id and source put around its input's id and channel:
 * `<input id><idTail>` and `<srcHead><channel>`.
 */
export interface OutputText {
  idTail: Uint8Array;
  srcHead: Uint8Array;
}

/**
 * A columns message answering the frame message `from` (its id's and channel's bytes where `text`
 * says), its strings copied from those bytes rather than measured and encoded again: the message
 * writeColumnsMessage writes for `type`, the input's channel, `seq0`, `t`, meta
 * `{ id: <input id><idTail>, src: <srcHead><channel>, cause: <input id> }` and `cols`, nested.
 */
export function writeOutputColumns(
  type: string,
  frame: { seq0: number; t: Float64Array },
  from: Uint8Array,
  text: FrameText,
  around: OutputText,
  { pairs: cols, count }: FrameColumns,
): Uint8Array {
  const { seq0, t } = frame;
  const ts = t.length ? Math.round(t[t.length - 1]!) : 0;
  checkSafeIntegers(ts, seq0, 0);
  const idN = text.idBytes, chN = text.channelBytes;
  const outIdN = idN + around.idTail.length, srcN = around.srcHead.length + chN;
  const S = MsgpackWriter.strSize, I = MsgpackWriter.intSize, B = MsgpackWriter.binSize;
  const N = strSizeOf;
  let size = 1 + S(K_V1) + 1 + S(K_ID) + N(outIdN) + S(K_TYPE) + MsgpackWriter.textSize(type) +
    S(K_SRC) + N(srcN) + S(K_TS) + I(ts) + S(K_CAUSE) + N(idN) + S(K_BODY);
  size += 1 + S(K_CHANNEL) + N(chN) + S(K_SEQ0) + I(seq0) + S(K_T) + B(t.byteLength) +
    S(K_COLUMNS) + 1;
  for (let c = 0; c < count; c++) size += S(cols[c]![0]) + B(cols[c]![1].byteLength);
  const w = new MsgpackWriter(size);
  w.mapHeader(7);
  w.str(K_V1);
  w.int(PROTOCOL_VERSION);
  w.str(K_ID);
  w.strHeader(outIdN);
  const idAt = w.pos;
  copyIn(w, from, text.idAt, idN);
  copyIn(w, around.idTail, 0, around.idTail.length);
  w.str(K_TYPE);
  w.text(type);
  w.str(K_SRC);
  w.strHeader(srcN);
  copyIn(w, around.srcHead, 0, around.srcHead.length);
  const channelAt = w.pos;
  copyIn(w, from, text.channelAt, chN);
  w.str(K_TS);
  w.int(ts);
  w.str(K_CAUSE);
  w.strHeader(idN);
  copyOwn(w, idAt, idN);
  w.str(K_BODY);
  w.mapHeader(4);
  w.str(K_CHANNEL);
  w.strHeader(chN);
  copyOwn(w, channelAt, chN);
  w.str(K_SEQ0);
  w.int(seq0);
  w.str(K_T);
  w.float64(t);
  w.str(K_COLUMNS);
  w.mapHeader(count);
  writePairs(w, cols, count);
  if (w.pos !== size) wroteOtherSize(w.pos, size);
  return w.bytes;
}

/** Writes the first `count` of `cols`, each its name and its values. */
function writePairs(w: MsgpackWriter, cols: FrameColumns["pairs"], count: number): void {
  for (let c = 0; c < count; c++) {
    w.str(cols[c]![0]);
    w.float64(cols[c]![1]);
  }
}

/** The encoded size of a str of `n` bytes. */
function strSizeOf(n: number): number {
  return strHeaderBytes(n) + n;
}

/** Copies `n` bytes of `from` at `at` to the writer's position. */
function copyIn(w: MsgpackWriter, from: Uint8Array, at: number, n: number): void {
  const b = w.bytes;
  let p = w.pos;
  if (n > COPIED_MAX) {
    b.set(from.subarray(at, at + n), p);
    w.pos = p + n;
    return;
  }
  for (let i = at, end = at + n; i < end; i++) b[p++] = from[i]!;
  w.pos = p;
}

/** Copies the `n` bytes the writer wrote at `at` to its position. */
function copyOwn(w: MsgpackWriter, at: number, n: number): void {
  w.bytes.copyWithin(w.pos, at, at + n);
  w.pos += n;
}

/** Bytes up to this many are copied one by one: cheaper than a view made to `set` them from. */
const COPIED_MAX = 16;

/**
 * Throws: the writer wrote other than the size it was made for. Apart from the writer, so that
 * its numbers are not captured by a message's closure made (with its context) at every write.
 */
function wroteOtherSize(wrote: number, size: number): never {
  throw new InvariantError(`frame writer: wrote ${wrote} of ${size} bytes`);
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
 * Writes the message's envelope (v, id, type, src, ts, seq?, corr?, cause?) up to the body's key;
 * returns where the id's str begins.
 */
function writeEnvelope(w: MsgpackWriter, type: string, meta: FrameMeta, ts: number): number {
  w.mapHeader(
    6 + (meta.seq !== undefined ? 1 : 0) + (meta.corr !== undefined ? 1 : 0) +
      (meta.cause !== undefined ? 1 : 0),
  );
  w.str(K_V1);
  w.int(PROTOCOL_VERSION);
  w.str(K_ID);
  const idStart = w.pos;
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
  return idStart;
}

/**
 * The body of a frame message of type `type` as a map, with its channel and first sequence
 * number; a ProtocolError says what the message holds instead.
 */
export function frameBodyOf(
  envelope: Envelope,
  type: string,
): { body: Record<string, unknown>; channel: string; seq0: number } {
  if (envelope.type !== type) {
    throw new ProtocolError(
      "field",
      `Message field "type" must be "${type}", got ${describeValue(envelope.type)}`,
      { field: "type", value: envelope.type },
    );
  }
  const body = bodyMap(envelope.body);
  const channel = checkName(requireString(body, "channel", "body"), "channel");
  return { body, channel, seq0: requireInteger(body, "seq0", "body") };
}

/** The body of a frame message as a map, or a ProtocolError saying what it is instead. */
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
