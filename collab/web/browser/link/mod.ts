/**
 * The page's links to the server: the session (its shared document over y-websocket), the stream
 * (the gateway's client), /history, and the token's expiry they all end at.
 */
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
