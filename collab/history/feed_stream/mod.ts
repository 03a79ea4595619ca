/**
 * History read from the cluster's feed stream (JetStream) and the cache of its channels' samples a
 * server on NATS answers from. A room of its own so that a server without NATS never loads it.
 */
export {
  FeedStreamHistory,
  type FeedStreamHistoryOptions,
  type FrameHandler,
  type HistoryRange,
  HistoryReadError,
  type HistorySource,
  type ReadFramesOptions,
} from "./feed_stream_history.ts";
export { type FrameReader, HistoryCache, type HistoryCacheOptions } from "./history_cache.ts";
