/**
 * The logged frames as a simulated cluster's hosts meet them: decoded once and journaled where
 * the log holds them. A frame is delivered again and again (to every host's consumer, in
 * redeliveries and refetches) and replayed from journals at every recovery, always the same
 * bytes; the decoding of those bytes is a pure function of them, and a frame record is its head
 * and then those bytes. So the hosts share one decoding per logged frame, and their disks hold
 * the records of logged frames in the room the log left before each (FeedEntry.headroom) instead
 * of a copy each. Both clusters (fixed owners and leased) hand these to their hosts and disks.
 */
import type { DecodedFrame, FrameDecoder } from "../actors/runtime/mod.ts";
import {
  bytesEqual,
  decodeFrame,
  type FrameLimits,
  inputRecordSourcePosition,
  isFrameRecordHead,
} from "../protocol/mod.ts";
import type { SimFeedLog } from "./_sim_feed_log.ts";

/** The logged frames of a run, decoded once and journaled in place. */
export class LogFrames {
  readonly #log: SimFeedLog;
  /** Logged frames decoded by the hosts' decoders, by sequence less one. */
  readonly #decoded: DecodedFrame[] = [];

  constructor(log: SimFeedLog) {
    this.#log = log;
  }

  /**
   * The hosts' frame decoders: a frame whose bytes are those the log holds at its source position
   * is decoded once, and that decoding handed out every time. Anything else (bytes that differ,
   * such as a corrupted journal record's; a position the log does not hold; limits other than
   * the defaults) is decoded as it is.
   */
  readonly decoders = (limits: FrameLimits): FrameDecoder => {
    if (limits.messageBytesMax !== undefined || limits.samplesPerFrameMax !== undefined) {
      return (bytes) => decodeFrame(bytes, limits);
    }
    const entries = this.#log.entries;
    return (bytes, srcPos) => {
      const entry = entries[srcPos - 1];
      if (entry === undefined || !sameBytes(bytes, entry.data)) return decodeFrame(bytes, limits);
      return this.#decoded[srcPos - 1] ??= decodeFrame(entry.data, limits);
    };
  };

  /** The decoders, giving the frames at `seqs` an envelope id of their own (a sabotage). */
  renamingDecoders(seqs: ReadonlySet<number>): (limits: FrameLimits) => FrameDecoder {
    return (limits) => {
      const decode = this.decoders(limits);
      return (bytes, srcPos) => {
        const decoded = decode(bytes, srcPos);
        if (!seqs.has(srcPos)) return decoded;
        return { ...decoded, envelope: { ...decoded.envelope, id: `${decoded.envelope.id}'` } };
      };
    };
  }

  /**
   * A frame record's bytes where the log holds them (see SimDisk.inPlace): the record of a
   * logged frame, as the host writes it (its head, then the frame's bytes as delivered), is the
   * room before the frame with the head written in; undefined for anything else (it is copied).
   */
  readonly inPlace = (parts: readonly Uint8Array[]): Uint8Array | undefined => {
    const [head, payload] = parts;
    if (parts.length !== 2 || !isFrameRecordHead(head!)) return undefined;
    const entry = this.#log.entries[inputRecordSourcePosition(head!) - 1];
    const data = entry?.data;
    const room = head!.byteLength;
    if (
      !data || entry.headroom !== room || payload!.buffer !== data.buffer ||
      payload!.byteOffset !== data.byteOffset || payload!.byteLength !== data.byteLength
    ) return undefined;
    const record = new Uint8Array(data.buffer, data.byteOffset - room, room + data.byteLength);
    // The head of a frame's record is the same every time: written once, then found there.
    if (record[0] === 0) record.set(head!);
    else if (!bytesEqual(record.subarray(0, room), head!)) return undefined;
    return record;
  };
}

/**
 * Whether `a` holds the bytes of `b`: at once when it is `b` or a view of the same memory (a
 * journal record's payload read where the log holds it), else compared.
 */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return a.byteLength === b.byteLength;
  return bytesEqual(a, b);
}
