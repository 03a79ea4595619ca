/**
 * How a host turns a feed message into a validated frame. The host decodes with `decodeFrame` by
 * default; the simulator, whose hosts see the same frames again and again (redeliveries,
 * recoveries), passes decoders that decode each once.
 */
import {
  type Envelope,
  frameTimeBytes,
  type InputRecord,
  type SampleFrame,
  type TimeColumn,
} from "../../../protocol/mod.ts";

/** A frame message decoded: its envelope and its validated frame (what `decodeFrame` returns). */
export interface DecodedFrame {
  envelope: Envelope;
  frame: SampleFrame;
}

/**
 * Decodes the frame message `bytes`, which has source position `srcPos` (0 for sources without
 * positions), under the limits it was made for.
 */
export type FrameDecoder = (bytes: Uint8Array, srcPos: number) => DecodedFrame;

/**
 * Where the decoded frame's time column lies in `payload`, the message it was decoded from, when
 * the column is a view of it (what `encodeInputRecordParts` needs to leave it out).
 */
export function timeColumnIn(payload: Uint8Array, decoded: DecodedFrame): TimeColumn | undefined {
  const bin = frameTimeBytes(decoded.envelope);
  if (!bin || bin.buffer !== payload.buffer) return undefined;
  const at = bin.byteOffset - payload.byteOffset;
  const t = decoded.frame.t;
  return at >= 0 && bin.byteLength === t.length * 8 ? { at, t } : undefined;
}

/**
 * A journaled frame decoded by the replay decoder, if there is one (else the instance decodes it);
 * undefined too when it fails, so that the instance fails on it as it would have.
 */
export function replayDecoded(
  decode: FrameDecoder | undefined,
  r: InputRecord,
): DecodedFrame | undefined {
  if (decode === undefined || r.kind !== "frame") return undefined;
  try {
    return decode(r.payload, r.srcPos);
  } catch {
    return undefined;
  }
}
