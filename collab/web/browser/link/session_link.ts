/// <reference lib="dom" />
/**
 * The page's side of the session: the Yjs document through the stock y-websocket client
 * (`/collab/<session>?token=...`, BroadcastChannel off so that tabs meet only through the server,
 * which enforces roles), the typed SessionDoc over it, and who this user is: the role read from the
 * token (for the controls only; the server is what refuses a viewer's write), a name and a colour.
 *
 * A write the server refuses (a viewer's, or an editor's that does not fit the session schema:
 * collab/session/session_schema.ts) is rolled back here: the server says why (a permission-denied
 * message, and for an editor a close with 4422), and the link drops its document for a fresh one
 * synced from the server's state, which never held the refused change. Yjs cannot take a change
 * back, and the writer's later changes would depend on it; panels watch the document through
 * `onDoc`, so they follow the new one.
 */
import { WebsocketProvider } from "y-websocket";
import { readAuthMessage } from "y-protocols/auth";
import * as Y from "yjs";
import { MESSAGE_AUTH } from "../../../../protocol/mod.ts";
import { SessionDoc } from "../../../session/mod.ts";
import { TOKEN_EXPIRED_CLOSE } from "./token_expiry.ts";

/** Who this page's user is. */
export interface Me {
  name: string;
  color: string;
  role: "viewer" | "editor" | "owner";
}

/** What the page connects with, from its address. */
export interface PageParams {
  session: string;
  token: string;
  name: string;
  /** Naive redraws (the bench's baseline). */
  mode: "batched" | "naive";
  /** Where the live charts are drawn: on the page (default) or in a worker (`&render=worker`,
   *  where the browser can; see live_worker.ts for what the bench measured of each). */
  render: "worker" | "main";
  /** Whether to start from the gateway's buffer (default) or from now (`&backfill=0`). */
  backfill: boolean;
  /** How long a history read waits for its answer (`&history_timeout_ms=`; the tests shorten
   *  it), when the address says. */
  historyTimeoutMs: number | undefined;
}

/** Where the page keeps the last token it was opened with, per session. */
function tokenKey(session: string): string {
  return `troupe.token.${session}`;
}

/**
 * Reads `?session=S&token=T[&name=N]` (a missing one is an error naming it). A link without a
 * token (an alert's, which must not carry a secret) uses the one this browser last opened the
 * session with.
 */
export function pageParams(search: string): PageParams {
  const q = new URLSearchParams(search);
  const session = q.get("session");
  if (!session) throw new Error("The dashboard's address lacks ?session=NAME");
  const token = q.get("token") ?? localStorage.getItem(tokenKey(session));
  if (!token) {
    throw new Error(
      "The dashboard's address lacks &token=TOKEN (troupe token prints one); once this browser " +
        "has opened the session with a token, links without one use it",
    );
  }
  localStorage.setItem(tokenKey(session), token);
  const saved = localStorage.getItem("troupe.name");
  const name = q.get("name") ?? saved ?? `guest-${Math.floor(Math.random() * 1e4)}`;
  localStorage.setItem("troupe.name", name);
  return {
    session,
    token,
    name,
    mode: q.get("mode") === "naive" ? "naive" : "batched",
    render: q.get("render") === "worker" ? "worker" : "main",
    backfill: q.get("backfill") !== "0",
    historyTimeoutMs: historyTimeout(q.get("history_timeout_ms")),
  };
}

/** `&history_timeout_ms=` read (absent: undefined); anything but a positive number is an error
 *  naming it. */
function historyTimeout(text: string | null): number | undefined {
  if (text === null) return undefined;
  const ms = Number(text);
  if (text.trim() === "" || !(ms > 0) || !Number.isFinite(ms)) {
    throw new Error(
      `The dashboard's address has history_timeout_ms=${text}: a positive number of ms is needed`,
    );
  }
  return ms;
}

/** A token's payload, read without checking its signature (the page only decides what to show). */
function payloadOf(token: string): Record<string, unknown> | undefined {
  try {
    const payload = token.slice(0, token.indexOf("."));
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    return json !== null && typeof json === "object" ? json as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** The role a token claims (unverified: it only decides which controls are enabled). */
export function roleOf(token: string): Me["role"] {
  const role = payloadOf(token)?.role;
  return role === "editor" || role === "owner" ? role : "viewer";
}

/** When a token says it expires, in milliseconds since the epoch (unverified), if it says. */
export function expiryOf(token: string): number | undefined {
  const exp = payloadOf(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
}

/** A colour of its own for each name. */
export function colorOf(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 75% 62%)`;
}

/** The close code of a socket whose write the server refused (collab_limits.ts's
 *  COLLAB_CLOSE_REFUSED). */
export const WRITE_REFUSED_CLOSE = 4422;

/** The session as this page sees it. */
export interface SessionLink {
  /** The session's document (a new one after a refused write: see `onDoc`). */
  doc: Y.Doc;
  sdoc: SessionDoc;
  provider: WebsocketProvider;
  /**
   * Calls `fn` with the session document now, and with the new one each time the link rebuilds
   * it after a refused write (`rebuilt` true: the panel redraws, as the new document may never
   * change where the refused write had).
   */
  onDoc(fn: (sdoc: SessionDoc, rebuilt: boolean) => void): void;
  me: Me;
  /**
   * Whether the page's edits reach the session: an editor's or owner's, until the token expires.
   */
  canWrite: boolean;
  /** When the token expires (ms since the epoch), as it says. */
  expiresAtMs: number | undefined;
}

/** What `connectSession` tells its page. */
export interface SessionLinkOptions {
  /** The provider's status: `connecting`, `connected`, `disconnected`. */
  onStatus(status: string): void;
  /**
   * The token expired while the link was open or away: the server closed with 4401, or a close
   * came after the token's expiry (a reconnect would be refused with 401, which a browser cannot
   * tell from a network failure). The link stays offline. Not called for a token expired already
   * at the start, which connects nothing (the page checks `expired` itself).
   */
  onExpired(): void;
  /** The server refused a write of this page, for `reason`; the link is rebuilding its document. */
  onRefused?(reason: string): void;
}

/** Whether a token expiring at `expiresAtMs` has expired by now (the page's clock). */
export function expired(expiresAtMs: number | undefined): boolean {
  return expiresAtMs !== undefined && expiresAtMs <= Date.now();
}

/**
 * Connects to the session of `params` on this page's server, unless the token has expired already
 * (then the link is offline from the start). After a close, the provider reconnects unless the
 * token has expired, or the server closed with another code of 4400-4499 (y-websocket's default:
 * the server's decision, which a reconnect cannot change).
 */
export function connectSession(params: PageParams, options: SessionLinkOptions): SessionLink {
  const expiresAtMs = expiryOf(params.token);
  const offline = expired(expiresAtMs);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const first = new Y.Doc();
  const watchers: Array<(sdoc: SessionDoc, rebuilt: boolean) => void> = [];
  let rebuilding = false;
  const open = (doc: Y.Doc): WebsocketProvider => {
    const provider = new WebsocketProvider(
      `${scheme}://${location.host}/collab`,
      params.session,
      doc,
      {
        params: { token: params.token },
        disableBc: true,
        maxBackoffTime: 2000,
        connect: !offline,
        // 4401 (token expired) and 4422 (a write refused: the link rebuilds) lie in 4400-4499.
        shouldReconnect: (ev: CloseEvent) =>
          !(ev.code >= 4400 && ev.code < 4500) && !expired(expiresAtMs),
      },
    );
    provider.on("status", (e: { status: string }) => options.onStatus(e.status));
    provider.on("closed", (e: { code: number; reason: string }) => {
      if (e.code === WRITE_REFUSED_CLOSE) return refused(e.reason);
      if (e.code === TOKEN_EXPIRED_CLOSE || expired(expiresAtMs)) options.onExpired();
    });
    // y-protocols' permission-denied message: the server's reason, before any close.
    provider.messageHandlers[MESSAGE_AUTH] = (_encoder, decoder) =>
      readAuthMessage(decoder, doc, (_doc, reason) => refused(reason));
    // Who this user is, and what they look at, outlives a rebuild (the stock provider's awareness
    // is its document's: a new document, a new awareness).
    provider.awareness.setLocalState(state);
    return provider;
  };
  /** Drops the document for a fresh one from the server (once per refusal: the message and the
   *  close of one refusal rebuild once). */
  const refused = (reason: string) => {
    if (rebuilding) return;
    rebuilding = true;
    options.onRefused?.(reason);
    // Not inside the provider's own message or close handler, which go on using it.
    setTimeout(() => {
      const old = link.provider;
      state = old.awareness.getLocalState() ?? state;
      old.destroy();
      const doc = new Y.Doc();
      link.doc = doc;
      link.sdoc = new SessionDoc(doc);
      link.provider = open(doc);
      old.awareness.destroy();
      rebuilding = false;
      for (const fn of watchers) fn(link.sdoc, true);
    }, 0);
  };
  const role = roleOf(params.token);
  const me: Me = { name: params.name, color: colorOf(params.name), role };
  let state: Record<string, unknown> = { user: { name: me.name, color: me.color, role } };
  const link: SessionLink = {
    doc: first,
    sdoc: new SessionDoc(first),
    provider: open(first),
    me,
    canWrite: role !== "viewer" && !offline,
    expiresAtMs,
    onDoc(fn) {
      watchers.push(fn);
      fn(link.sdoc, false);
    },
  };
  return link;
}

/** A fresh id for a document entry (a valid subject token). */
export function newId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
