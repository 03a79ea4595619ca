/**
 * The page's links to the server: the session (its shared document over y-websocket), the stream
 * (the gateway's client), /history, the channel record (/channels), and the token's expiry
 * they all end at.
 */
export {
  followChannelLabels,
  LABELS_REFRESH_MS,
  loadChannelLabels,
} from "./channel_labels_client.ts";
export { HistoryClient } from "./history_client.ts";
export { HistoryRefusal } from "./history_refusal.ts";
export {
  colorOf,
  connectSession,
  expired,
  newId,
  type PageParams,
  pageParams,
  type SessionLink,
} from "./session_link.ts";
export { connectStream } from "./stream_link.ts";
export { PageExpiry } from "./token_expiry.ts";
