/// <reference lib="dom" />
/**
 * What the page does once its token has expired. Both servers close a socket whose token expires
 * with 4401 (the collab server's `COLLAB_CLOSE_EXPIRED`, the stream gateway's
 * `STREAM_CLOSE.token_expired`) and refuse a reconnect with 401, which a browser cannot see, so the
 * page stops both links, says in both statuses when the token expired and how to get a new one,
 * and disables the controls that write to the session (the document is offline: an edit would stay
 * in this tab) or act with the token (the scan, through the `/api` proxy, which checks it too).
 */
import { el, setStatus } from "../dom.ts";
import type { StreamClient } from "../../../stream/mod.ts";

/** The close code of a socket whose token expired, on `/collab` and on `/stream`. */
export const TOKEN_EXPIRED_CLOSE = 4401;

/** The panels whose controls write to the session or act with the page's token. */
export const WRITING_PANELS = ["thresholds", "checklist", "annotations", "scan"] as const;

/** Who the page was opened as, for the command that mints a new token. */
export interface TokenHolder {
  session: string;
  role: "viewer" | "editor" | "owner";
}

/**
 * What the page says once its token has expired: `token expired at <ISO time>: open the page with
 * a new token (troupe token --session S --role R)`; `reason` (the server's close reason) stands in
 * when the token does not say when it expires.
 */
export function expiredMessage(
  expiresAtMs: number | undefined,
  holder: TokenHolder & { reason?: string },
): string {
  const when = expiresAtMs === undefined
    ? holder.reason || "token expired"
    : `token expired at ${new Date(expiresAtMs).toISOString()}`;
  return `${when}: open the page with a new token ` +
    `(troupe token --session ${holder.session} --role ${holder.role})`;
}

/**
 * Disables every input, select and button of the writing panels under `root` and says in each
 * that the session is offline. A panel that re-renders its rows later reads `canWrite`, which the
 * caller sets to false.
 */
export function freezeEditing(root: ParentNode): void {
  for (const id of WRITING_PANELS) {
    const panel = root.querySelector(`#${id}`);
    if (!panel) continue;
    for (const c of panel.querySelectorAll("input, select, button")) {
      (c as HTMLInputElement).disabled = true;
    }
    const note = "offline, the token expired: changes here are not saved";
    if (!panel.querySelector(".offline-note")) {
      (panel.querySelector(".editor") ?? panel).append(
        el("div", { class: "readonly-note offline-note" }, note),
      );
    }
  }
}

/** What the expiry reads of, and does to, the page's session link (session_link.ts). */
export interface ExpiringLink {
  expiresAtMs: number | undefined;
  me: { role: TokenHolder["role"] };
  canWrite: boolean;
  provider: { disconnect(): void };
}

/**
 * Takes the page offline for good once its token has expired: both links stopped, both statuses
 * saying when and how to get a new token, the writing panels frozen, and the body marked
 * `data-token-expired` (the tests wait for it). Once only; `offline` tells the links' status
 * handlers to leave the statuses alone after. `link` and `stream` are set as they are opened.
 */
export class PageExpiry {
  link: ExpiringLink | undefined;
  stream: StreamClient | undefined;
  #text: string | undefined;

  constructor(readonly session: string) {}

  get offline(): boolean {
    return this.#text !== undefined;
  }

  expire(reason?: string): void {
    if (this.#text !== undefined) return;
    const link = this.link;
    if (!link) throw new Error("The page's token expired before its session link was opened");
    this.#text = expiredMessage(link.expiresAtMs, {
      session: this.session,
      role: link.me.role,
      ...(reason ? { reason } : {}),
    });
    link.canWrite = false;
    link.provider.disconnect();
    this.stream?.close();
    setStatus("collab-status", false, this.#text);
    setStatus("stream-status", false, this.#text);
    freezeEditing(document);
    document.body.setAttribute("data-token-expired", "1");
  }
}
