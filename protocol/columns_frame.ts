/**
 * Columns frames: the per-sample outputs of an actor for one channel, several named float64
 * columns over the same times (`{ channel, seq0, t, columns }`), at most 15 columns a frame.
 */
import {
  decodeEnvelope,
  type Envelope,
  requireBin,
  requireInteger,
  requireString,
} from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { utf8Bytes } from "./_frame_codec.ts";
import { checkName } from "./subjects.ts";
import { float64Column } from "./float64_column.ts";
import { bodyMap, type FrameMeta, writeColumnsMessage } from "./_frame_message.ts";
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
