/**
 * Columns frames: the per-sample outputs of an actor for one channel, several named float64
 * columns over the same times (`{ channel, seq0, t, columns }`), at most 15 columns a frame.
 */
import { decodeEnvelope, type Envelope, requireBin } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { utf8Bytes } from "./_frame_codec.ts";
import { float64Column } from "./float64_column.ts";
import {
  frameBodyOf,
  type FrameMeta,
  type FrameText,
  type OutputText,
  writeColumnsMessage,
  writeOutputColumns,
} from "./_frame_message.ts";
import type { FrameLimits } from "./sample_frame.ts";

/** The envelope type of a multi-column output frame. */
export const COLUMNS_TYPE = "columns";
/** Per-sample outputs of an actor for one channel: several named columns over the same times. */
export interface ColumnsFrame {
  channel: string;
  seq0: number;
  t: Float64Array;
  columns: Record<string, Float64Array>;
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

/** Most columns a frame holds. */
const COLUMNS_MAX = 15;
const NO_VALUES = new Float64Array(0);
/**
 * The pairs of name and values `encodeColumns` hands the writer, filled anew for each frame
 * rather than made for it: every instance encodes a frame at every input.
 */
const PAIRS: Array<[Uint8Array, Float64Array]> = Array.from(
  { length: COLUMNS_MAX },
  () => [new Uint8Array(0), NO_VALUES],
);
const COLS = { pairs: PAIRS, count: 0 };

/** Encodes a multi-column output frame message, sized exactly, each column copied once. */
export function encodeColumns(frame: ColumnsFrame, meta: FrameMeta): Uint8Array {
  try {
    COLS.count = framePairs(frame);
    return writeColumnsMessage(COLUMNS_TYPE, frame.channel, frame.seq0, frame.t, meta, COLS, true);
  } finally {
    releasePairs();
  }
}

/** The UTF-8 parts of each kind's outputs' ids and sources (output_id.ts's short form). */
const outputTexts = new Map<string, OutputText>();

/**
 * The columns message that kind `kind`'s instance of the input's channel publishes for `frame`
 * in answer to the frame message `input`, which holds its id's and its channel's bytes where
 * `text` says (as the feed edge wrote it): the same bytes as `encodeColumns(frame, { id:
 * outputId(<input id>, kind, <channel>, "c"), src: "<kind>/<channel>", cause: <input id> })` when
 * the input's id ends in `/<channel>` and `frame.channel` is the input's channel, which the
 * caller sees to, but its strings copied from the input's bytes, not measured and encoded again.
 */
export function encodeOutputColumns(
  kind: string,
  frame: ColumnsFrame,
  input: Uint8Array,
  text: FrameText,
): Uint8Array {
  let around = outputTexts.get(kind);
  if (around === undefined) {
    around = { idTail: utf8Bytes(`:${kind}:c`), srcHead: utf8Bytes(`${kind}/`) };
    outputTexts.set(kind, around);
  }
  try {
    COLS.count = framePairs(frame);
    return writeOutputColumns(COLUMNS_TYPE, frame, input, text, around, COLS);
  } finally {
    releasePairs();
  }
}

/** Fills PAIRS with `frame`'s columns and returns their count; throws for a frame out of shape. */
function framePairs(frame: ColumnsFrame): number {
  let count = 0;
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
    if (count < COLUMNS_MAX) {
      const pair = PAIRS[count]!;
      pair[0] = columnName(name);
      pair[1] = col;
    }
    count++;
  }
  if (count > COLUMNS_MAX) {
    throw new ProtocolError(
      "oversize",
      `A columns frame holds at most ${COLUMNS_MAX} columns, got ${count}`,
      { field: "body.columns", value: count },
    );
  }
  return count;
}

/** The frame's values are not held past its encoding. */
function releasePairs(): void {
  for (let c = 0; c < COLUMNS_MAX; c++) PAIRS[c]![1] = NO_VALUES;
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
  const { body, channel, seq0 } = frameBodyOf(envelope, COLUMNS_TYPE);
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
