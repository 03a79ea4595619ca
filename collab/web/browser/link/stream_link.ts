/// <reference lib="dom" />
/**
 * The page's stream socket to the gateway (`/stream`): a StreamClient whose status shows in
 * `#stream-status`, and the marks on the body the bench and the tests wait for (subscribed, live).
 * Once the token has expired, a close takes the page offline for good (token_expiry.ts).
 */
import { byId, setStatus } from "../dom.ts";
import { expired } from "./session_link.ts";
import { TOKEN_EXPIRED_CLOSE } from "./token_expiry.ts";
import { StreamClient, type StreamSocketConstructor } from "../../../stream/mod.ts";
import type { StreamMsg } from "../../../../protocol/mod.ts";

/** Options of `connectStream`. */
export interface StreamLinkOptions {
  token: string;
  onMessage(m: StreamMsg): void;
  /** When the session's token expires (it may be renewed, so read at each close). */
  expiresAtMs(): number | undefined;
  /** Takes both links offline for good, once the token has expired. */
  expire(reason?: string): void;
  /**
   * After the socket opens again (not the first time): what the gateway could not resume (a
   * restarted gateway's buffer starts empty) is fetched again here.
   */
  onReopen?(): void;
}

/** Opens the page's stream socket (not yet subscribed to anything). */
export function connectStream(o: StreamLinkOptions): StreamClient {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let caughtUp = false, opened = false;
  return new StreamClient({
    url: `${scheme}://${location.host}/stream`,
    token: o.token,
    // The DOM's send() is typed for ArrayBuffer-backed views only; the client sends exactly those.
    WebSocket: WebSocket as unknown as StreamSocketConstructor,
    onMessage: o.onMessage,
    // The bench and the tests wait for this before publishing what the page must see live.
    onSubscribed: () => document.body.setAttribute("data-stream-subscribed", "1"),
    // Before the page first caught up, a gap is the buffer's horizon, not something this page
    // missed: it starts from what the gateway holds (a fresh page is not told "23991 missed").
    onGap: (g) => {
      if (caughtUp) return setStatus("stream-status", true, `live (${g.missed} missed)`);
      byId("stream-status").title = `started from the gateway's buffer: ` +
        `${g.missed} older messages are no longer kept`;
    },
    onLive: () => {
      caughtUp = true;
      // Everything the page started from is drawn from here on (the tests wait for it).
      document.body.setAttribute("data-stream-live", "1");
    },
    onRefused: (_id, reason) => setStatus("stream-status", false, `refused: ${reason}`),
    onStatus: (status, detail) => {
      // Closed for an expired token, or refused (1006 here) after it expired: offline for good
      // (expire() closes the client, so that it does not reconnect).
      if (
        status === "closed" &&
        (detail?.code === TOKEN_EXPIRED_CLOSE || expired(o.expiresAtMs()))
      ) {
        return o.expire(detail?.reason);
      }
      if (status === "open") {
        if (opened) o.onReopen?.();
        opened = true;
      }
      setStatus(
        "stream-status",
        status === "open",
        status === "open" ? "live" : `${status}${detail ? ` ${detail.code} ${detail.reason}` : ""}`,
      );
    },
  });
}
