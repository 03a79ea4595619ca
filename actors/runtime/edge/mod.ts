/**
 * The host's edge: where feed frames come in (core NATS or a JetStream consumer), the decisions on
 * each frame (gaps, duplicates, limits) and dead letters.
 */
export {
  DEAD_LETTER_TYPE,
  type DeadLetter,
  deadLetterOf,
  decodeDeadLetter,
  publishDeadLetter,
  reasonOf,
} from "./dead_letter.ts";
export {
  EdgeDecisions,
  type EdgeDecisionsOptions,
  edgeStream,
  type FirstFrameTaken,
  journaledThroughOf,
} from "./edge_decisions.ts";
export { type EdgeInput, FeedEdge, type FeedEdgeParts, traceEdge } from "./feed_edge.ts";
export { type InputGap, LOSS_REPORT_S, SequenceGaps } from "./input_gaps.ts";
export { coreInput, type InputSource } from "./input_source.ts";
export {
  ensureFeedStream,
  FEED_STREAM,
  type FeedStreamOptions,
  jetStreamInput,
} from "./jetstream_input.ts";
export { SharedFeed } from "./shared_feed.ts";
