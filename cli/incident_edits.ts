/**
 * `troupe incidents ack|silence|unsilence`: they write the session document through the collab
 * server as any editor does (a y-websocket client with an editor token), then wait for the answer
 * the bridge writes back from the incident stage, and print it. The server and session come from
 * `--url`/`--session` or from `troupe up`'s collab.json; the token from `--token` or minted as an
 * editor's with the data directory's keyring (whoever can read it can mint one with troupe token).
 */
import { userInfo } from "node:os";
import process from "node:process";
import { WebSocket } from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import {
  checkSilence,
  loadKeyring,
  mintToken,
  parseTtl,
  SessionDocError,
  SessionIncidents,
} from "../collab/mod.ts";
import { type ParsedArgs, str, text, UsageError } from "./args.ts";
import { COLLAB_FILE, readCollabFile } from "./collab_file.ts";

/** Where and as whom the edit is made. */
export interface EditTarget {
  /** `ws://HOST:PORT/collab`: the collab server's y-websocket endpoint. */
  url: string;
  session: string;
  token: string;
  by: string;
  timeoutMs: number;
}

/** The collab server, session, token and author from the options or `troupe up`'s files. */
export async function editTarget(args: ParsedArgs, timeoutMs: number): Promise<EditTarget> {
  const dataDir = text(args, "data-dir");
  const file = readCollabFile(dataDir);
  const url = str(args, "url") ?? (file && `${file.dashboard.replace(/^http/, "ws")}collab`);
  if (url === undefined) {
    throw new EditError(
      `no collab server: pass --url ws://HOST:PORT/collab, or run troupe up (it writes ` +
        `${dataDir}/${COLLAB_FILE})`,
    );
  }
  const session = str(args, "session") ?? file?.session ?? "main";
  let token = str(args, "token");
  if (token === undefined && file === undefined && !process.env.TROUPE_SECRET) {
    throw new EditError(
      `no token: pass --token T (an editor's: troupe token --session ${session} --role editor), ` +
        `or run troupe up (its data directory's keyring mints one)`,
    );
  }
  if (token === undefined) {
    const keyring = await loadKeyring({ dataDir });
    token = await mintToken(keyring, { session, role: "editor", ttlS: 600, nowMs: Date.now() });
  }
  return { url, session, token, by: str(args, "by") ?? userInfo().username, timeoutMs };
}

/** A failure to report in one line (exit 1). */
export class EditError extends Error {
  override name = "EditError";
}

/** Acknowledges incident `id`; resolves with the line to print once the stage answered. */
export function ackIncident(t: EditTarget, id: string, note: string): Promise<string> {
  return withDoc(t, (inc) => {
    const at_ms = Date.now();
    try {
      inc.ack({ incident: id, by: t.by, at_ms, note });
    } catch (err) {
      throw usage(err);
    }
    return () => {
      const a = inc.ackOf(id);
      if (a?.at_ms !== at_ms || a.status === "pending" || a.status === undefined) return undefined;
      if (a.status === "error") throw new EditError(`ack of ${id} refused: ${a.detail}`);
      // The stage's answer names the incident again ("acknowledged <id> (firing, 7 member(s))"):
      // the line says it once, with what the stage holds.
      const held = a.detail?.startsWith(`acknowledged ${id} `)
        ? a.detail.slice(`acknowledged ${id} `.length)
        : `: ${a.detail}`;
      return `acknowledged ${id} as ${t.by}${note ? ` ("${note}")` : ""} ${held}`;
    };
  });
}

/**
 * Checks `silence` arguments before anything connects: a bad matcher, duration or reason is a
 * usage error naming the field and value. Returns the duration in seconds.
 */
export function checkSilenceArgs(
  matchers: string,
  options: { for: string; reason: string },
): number {
  let forS: number;
  try {
    forS = parseTtl(options.for);
  } catch (err) {
    throw new UsageError(`Option --for ${(err as Error).message}`);
  }
  const now = Date.now();
  try {
    checkSilence("silence", {
      id: "new",
      matchers,
      starts_ms: now,
      ends_ms: now + Math.round(forS * 1000),
      by: "cli",
      reason: options.reason,
    }, now);
  } catch (err) {
    throw usage(err);
  }
  return forS;
}

/** Adds a silence for `forS` seconds from now; resolves with the line to print once answered. */
export function addSilence(
  t: EditTarget,
  matchers: string,
  options: { forS: number; reason: string },
): Promise<string> {
  const forS = options.forS;
  return withDoc(t, (inc) => {
    const now = Date.now();
    let id: string;
    try {
      id = inc.addSilence({
        matchers,
        ends_ms: now + Math.round(forS * 1000),
        by: t.by,
        reason: options.reason,
      }, now).id;
    } catch (err) {
      throw usage(err);
    }
    return () =>
      answered(
        inc,
        id,
        (s) =>
          `silence ${id}: ${s.matchers} until ${new Date(s.ends_ms).toISOString()} by ${s.by} ` +
          `("${s.reason}"); unsilence with: troupe incidents unsilence ${id}`,
      );
  });
}

/** Ends silence `id` now; resolves with the line to print once the stage answered. */
export function endSilence(t: EditTarget, id: string): Promise<string> {
  return withDoc(t, (inc) => {
    try {
      inc.endSilence(id, t.by, Date.now());
    } catch (err) {
      if (err instanceof SessionDocError) throw new EditError(err.message);
      throw err;
    }
    return () =>
      answered(
        inc,
        id,
        (s) =>
          `silence ${id} (${s.matchers}) ended by ${
            s.by === t.by ? t.by : `${t.by} (set by ${s.by})`
          }`,
      );
  });
}

function answered(
  inc: SessionIncidents,
  id: string,
  line: (s: NonNullable<ReturnType<SessionIncidents["silences"]["get"]>>) => string,
): string | undefined {
  const s = inc.silences.get(id);
  if (s === undefined || s.status === "pending" || s.status === undefined) return undefined;
  if (s.status === "error") throw new EditError(`silence ${id} refused by the stage: ${s.detail}`);
  return `${line(s)}; the stage: ${s.detail}`;
}

function usage(err: unknown): unknown {
  return err instanceof SessionDocError ? new UsageError(err.message) : err;
}

/**
 * Connects to the session, makes the edit `write` makes once synced, then polls the check it
 * returns until it gives the line to print (the bridge's answer) or the time runs out.
 */
async function withDoc(
  t: EditTarget,
  write: (inc: SessionIncidents) => () => string | undefined,
): Promise<string> {
  if (claimedRole(t.token) === "viewer") {
    // The collab server drops a viewer's writes (and is the authority on the signature): said
    // here at once, instead of "written" and a wait for an answer that cannot come.
    throw new EditError(
      `a viewer's token may not acknowledge or silence (the collab server drops a viewer's ` +
        `writes): pass an editor's, troupe token --session ${t.session} --role editor`,
    );
  }
  return await inSession(t, async (inc) => {
    const check = write(inc);
    const line = await until(check, t.timeoutMs);
    if (line === undefined) {
      throw new EditError(
        `written to session "${t.session}", but no answer from the incident stage within ` +
          `${t.timeoutMs} ms (the document keeps the entry)`,
      );
    }
    return line;
  });
}

/**
 * Runs `use` on the session's acks and silences once the collab server has synced the document,
 * then disconnects. Throws an EditError naming the server when it does not sync in time.
 */
export async function inSession<T>(
  t: Omit<EditTarget, "by">,
  use: (inc: SessionIncidents) => Promise<T> | T,
): Promise<T> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(t.url, t.session, doc, {
    // deno-lint-ignore no-explicit-any
    WebSocketPolyfill: WebSocket as any,
    params: { token: t.token },
    disableBc: true,
    maxBackoffTime: 500,
  });
  try {
    const synced = await until(() => provider.synced || undefined, t.timeoutMs);
    if (!synced) {
      throw new EditError(
        `no collab server at ${t.url} synced session "${t.session}" within ${t.timeoutMs} ms ` +
          `(is troupe up running, and is the token one of its?)`,
      );
    }
    return await use(new SessionIncidents(doc));
  } finally {
    provider.destroy();
    doc.destroy();
  }
}

/** The role a token's payload claims, unverified (the server verifies it); undefined if none. */
function claimedRole(token: string): string | undefined {
  try {
    const b64 = token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/");
    const claims: unknown = JSON.parse(atob(b64));
    const role = (claims as { role?: unknown } | null)?.role;
    return typeof role === "string" ? role : undefined;
  } catch {
    return undefined;
  }
}

async function until<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}
