/**
 * Runs a piece of work on a session's incidents once the collab server has synced the document to
 * a y-websocket client of its own, then disconnects: the way a program (not a page) reads or edits
 * what the session holds.
 */
import { WebSocket } from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { SessionIncidents } from "../session/mod.ts";
import { pollUntil } from "./_poll_until.ts";

/** Where and with which token the session is reached. */
export interface SessionTarget {
  /** `ws://HOST:PORT/collab`: the collab server's y-websocket endpoint. */
  url: string;
  session: string;
  token: string;
  timeoutMs: number;
}

/** No collab server synced the session in time: reported in one line, never a stack. */
export class SessionUnreachableError extends Error {
  override name = "SessionUnreachableError";
}

/**
 * Runs `use` on the session's acks and silences once the collab server has synced the document,
 * then disconnects. Throws a SessionUnreachableError naming the server when it does not sync in
 * time.
 */
export async function withSession<T>(
  target: SessionTarget,
  use: (inc: SessionIncidents) => Promise<T> | T,
): Promise<T> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(target.url, target.session, doc, {
    // deno-lint-ignore no-explicit-any
    WebSocketPolyfill: WebSocket as any,
    params: { token: target.token },
    disableBc: true,
    maxBackoffTime: 500,
  });
  try {
    const synced = await pollUntil(() => provider.synced || undefined, target.timeoutMs);
    if (!synced) {
      throw new SessionUnreachableError(
        `no collab server at ${target.url} synced session "${target.session}" within ` +
          `${target.timeoutMs} ms (is troupe up running, and is the token one of its?)`,
      );
    }
    return await use(new SessionIncidents(doc));
  } finally {
    provider.destroy();
    doc.destroy();
  }
}
