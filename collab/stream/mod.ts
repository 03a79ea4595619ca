/**
 * The live stream as its clients see it: the client of the gateway (the page's and the benches'),
 * the patterns and filters a subscription names, and the sequence numbers already seen. Nothing
 * here needs Node: the page's code imports this room too.
 */
export {
  HISTORY_TIMEOUT_MS,
  StreamClient,
  type StreamClientOptions,
  type StreamSocket,
  type StreamSocketConstructor,
  type StreamStatus,
  type StreamSubscription,
} from "./stream_client.ts";
export {
  compileChannelGlobs,
  filterMatches,
  type StreamFilter,
  subjectChannel,
} from "./stream_filter.ts";
export { checkStreamPattern, STREAM_PREFIXES } from "./stream_pattern.ts";
export { SeenSeqs } from "./stream_seen.ts";
