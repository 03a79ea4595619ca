/**
 * Test support for the collab suites: stock y-websocket clients (ws as their WebSocket, no
 * BroadcastChannel, so that clients in one process meet only through the server), raw sockets,
 * token minting for a data directory, and waiting for a condition.
 */
import { WebSocket } from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import {
  loadKeyring,
  mintToken,
  type Role,
  type RootSchema,
  SESSION_SCHEMA,
  SessionDoc,
} from "../../collab/mod.ts";

/** Any content under a key: for the suites about transport, whose documents hold keys of their
 *  own (`log`, `notes`, ...); the session schema's own suite is collab_schema.test.ts. */
function anything(type: RootSchema["type"]): RootSchema {
  return { type, check() {} };
}

/** The session schema plus the keys the transport suites write. */
export const TRANSPORT_SCHEMA: Readonly<Record<string, RootSchema>> = {
  ...SESSION_SCHEMA,
  log: anything("array"),
  notes: anything("array"),
  a: anything("array"),
  fuzz: anything("map"),
  fuzzlist: anything("array"),
  fuzztext: anything("text"),
};

/** A y-websocket client of one session. */
export interface Client {
  doc: Y.Doc;
  sdoc: SessionDoc;
  provider: WebsocketProvider;
  destroy(): void;
}

/** Connects a stock y-websocket client; resolves once it has synced. */
export async function connectClient(
  url: string,
  session: string,
  token: string,
  options: { doc?: Y.Doc; waitSync?: boolean } = {},
): Promise<Client> {
  const doc = options.doc ?? new Y.Doc();
  const provider = new WebsocketProvider(url, session, doc, {
    // deno-lint-ignore no-explicit-any
    WebSocketPolyfill: WebSocket as any,
    params: { token },
    disableBc: true,
    maxBackoffTime: 200,
  });
  if (options.waitSync !== false) {
    await waitFor(() => provider.synced, 10_000, `client of ${session} to sync`);
  }
  return {
    doc,
    sdoc: new SessionDoc(doc),
    provider,
    destroy() {
      provider.destroy();
    },
  };
}

/** Mints a token with the keyring of `dataDir` (TROUPE_SECRET unset). */
export async function tokenFor(
  dataDir: string,
  session: string,
  role: Role,
  ttlS = 3600,
): Promise<string> {
  const ring = await loadKeyring({ dataDir, envSecret: undefined });
  return await mintToken(ring, { session, role, ttlS, nowMs: Date.now() });
}

/** Polls `cond` every 10 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Opens a raw WebSocket; resolves with the upgrade's HTTP status when refused, or the socket. */
export function rawConnect(
  url: string,
): Promise<{ status: number; body: string } | { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "nodebuffer";
    ws.on("open", () => resolve({ ws }));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", reject);
  });
}

/** Reads a metric's value (the sum over its label sets matching `labels`) from /metrics text. */
export function metric(text: string, name: string, labels = ""): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** GETs a URL's text. */
export async function getText(url: string): Promise<string> {
  const res = await fetch(url);
  return await res.text();
}
