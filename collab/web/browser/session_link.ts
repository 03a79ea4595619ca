/// <reference lib="dom" />
/**
 * The page's side of the session: the Yjs document through the stock y-websocket client
 * (`/collab/<session>?token=...`, BroadcastChannel off so that tabs meet only through the server,
 * which enforces roles), the typed SessionDoc over it, and who this user is: the role read from the
 * token (for the controls only; the server is what refuses a viewer's write), a name and a colour.
 */
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { SessionDoc } from "../../session_doc.ts";

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
}

/** Reads `?session=S&token=T[&name=N]` (a missing one is an error naming it). */
export function pageParams(search: string): PageParams {
  const q = new URLSearchParams(search);
  const session = q.get("session"), token = q.get("token");
  if (!session) throw new Error("The dashboard's address lacks ?session=NAME");
  if (!token) {
    throw new Error("The dashboard's address lacks &token=TOKEN (troupe token prints one)");
  }
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
  };
}

/** The role a token claims (unverified: it only decides which controls are enabled). */
export function roleOf(token: string): Me["role"] {
  try {
    const payload = token.slice(0, token.indexOf("."));
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const role = (JSON.parse(json) as { role?: unknown }).role;
    return role === "editor" || role === "owner" ? role : "viewer";
  } catch {
    return "viewer";
  }
}

/** A colour of its own for each name. */
export function colorOf(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 75% 62%)`;
}

/** The session as this page sees it. */
export interface SessionLink {
  doc: Y.Doc;
  sdoc: SessionDoc;
  provider: WebsocketProvider;
  me: Me;
  canWrite: boolean;
}

/** Connects to the session of `params` on this page's server. */
export function connectSession(params: PageParams, onStatus: (s: string) => void): SessionLink {
  const doc = new Y.Doc();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const provider = new WebsocketProvider(
    `${scheme}://${location.host}/collab`,
    params.session,
    doc,
    {
      params: { token: params.token },
      disableBc: true,
      maxBackoffTime: 2000,
    },
  );
  provider.on("status", (e: { status: string }) => onStatus(e.status));
  const role = roleOf(params.token);
  const me: Me = { name: params.name, color: colorOf(params.name), role };
  provider.awareness.setLocalStateField("user", { name: me.name, color: me.color, role });
  return { doc, sdoc: new SessionDoc(doc), provider, me, canWrite: role !== "viewer" };
}

/** A fresh id for a document entry (a valid subject token). */
export function newId(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
