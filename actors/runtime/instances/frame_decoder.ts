/**
 * How a host turns a feed message into a validated frame. The host decodes with `decodeFrame` by
 * default; the simulator, whose hosts see the same frames again and again (redeliveries,
 * recoveries), passes decoders that decode each once.
 */
import {
  bytesEqual,
  decodeFrame,
  type Envelope,
  type FrameText,
  frameTimeBytes,
  type InputRecord,
  type SampleFrame,
  type TimeColumn,
} from "../../../protocol/mod.ts";

/**
 * A frame message decoded: its envelope and its validated frame (what `decodeFrame` returns), and
 * where the message holds its id's and channel's bytes when the edge wrote it (`text`).
 */
export interface DecodedFrame {
  envelope: Envelope;
  frame: SampleFrame;
  text?: FrameText;
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
 * A journaled frame decoded by the replay decoder; undefined for a record that is no frame, or
 * when decoding fails, so that the instance decodes it itself and fails on it as it would have.
 */
export function replayDecoded(decode: FrameDecoder, r: InputRecord): DecodedFrame | undefined {
  if (r.kind !== "frame") return undefined;
  try {
    return decode(r.payload, r.srcPos);
  } catch {
    return undefined;
  }
}

/**
 * A replay's decoder when the host has none of its own: `decodeFrame` as an instance would call
 * it, once for a run of records that carry the same message. A channel's kinds each journal the
 * channel's frame, so a recovery meets each message once per kind, one after another, and the
 * instances after the first share its decoding, as they shared it live (the feed edge decodes a
 * frame once for all its targets). The bytes it was decoded from are copied (a journal read's
 * records are views of a chunk it reuses), and a record is the same message only when its bytes
 * are equal to them, every one; a message that fails to decode is not kept, so each instance
 * fails on it as before.
 */
export function lastFrameDecoder(): FrameDecoder {
  let bytes: Uint8Array | undefined;
  let decoded: DecodedFrame | undefined;
  return (payload) => {
    if (bytes === undefined || decoded === undefined || !bytesEqual(bytes, payload)) {
      decoded = undefined;
      bytes = payload.slice();
      decoded = decodeFrame(bytes);
    }
    return decoded;
  };
}
