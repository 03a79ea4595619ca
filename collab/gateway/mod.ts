/**
 * The stream gateway: the WebSocket endpoint that carries the cluster's feed and findings to the
 * page, with each subscription's catch-up from a ring of recent messages, its limits and metrics.
 */
export {
  DEFAULT_STREAM_LIMITS,
  StreamGateway,
  type StreamGatewayLimits,
  type StreamGatewayOptions,
} from "./stream_gateway.ts";
export type { StreamStats } from "./stream_metrics.ts";
export { type RingEntry, StreamRing, type StreamRingLimits } from "./stream_ring.ts";
