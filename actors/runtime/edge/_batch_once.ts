/**
 * A feed batch decoded once for every edge handed the same message. A leased process runs a host
 * per partition it holds, and the process's one read of the feed hands each the same message
 * (shared_feed.ts): each would decode it, splitting and checking its thousands of channel names,
 * and then route each name, a lookup that hashes a string made by that decoding. Decoded once,
 * the names are the same strings for every partition's lookups, their hashes kept in them.
 *
 * The last message decoded is kept (its bytes compared by identity, the limit it was decoded
 * under by value) with what its decoding gave, a batch or the error: pure, so any edge may take
 * it. Private to the edge folder.
 */
import { decodeFeedBatch, type DecodeLimits } from "../../../protocol/mod.ts";

type Decoded = ReturnType<typeof decodeFeedBatch>;

let last:
  | { bytes: Uint8Array; max: number | undefined; decoded: Decoded | undefined; error: unknown }
  | undefined;

/** decodeFeedBatch(bytes, limits), or what it gave for these very bytes just before. */
export function decodeFeedBatchOnce(bytes: Uint8Array, limits: DecodeLimits): Decoded {
  const max = limits.messageBytesMax;
  if (last === undefined || last.bytes !== bytes || last.max !== max) {
    last = { bytes, max, decoded: undefined, error: undefined };
    try {
      last.decoded = decodeFeedBatch(bytes, limits);
    } catch (err) {
      last.error = err;
    }
  }
  if (last.decoded === undefined) throw last.error;
  return last.decoded;
}
