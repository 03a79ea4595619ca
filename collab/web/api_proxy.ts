/**
 * `/api/*` of the collab server: the page's way to the scan API of the host (`POST
 * /api/scan/stream`, `/api/scan/stats/{id}`, `/api/scan/stop/{id}`, `/api/events/results/{id}`),
 * forwarded to `scanUrl` with the `/api` prefix taken off. The browser reaches one origin only,
 * and the session token guards the door: `?session=S&token=T` on every call (EventSource cannot
 * set headers), any role may read and start or stop a scan (it writes nothing shared), and only
 * editors and owners may release one. Bodies and answers stream through unbuffered, so
 * Server-Sent Events pass as they come.
 */
import { type IncomingMessage, request, type ServerResponse } from "node:http";
import { admitToken, canWrite, type Keyring } from "../session/mod.ts";

/** Options of `proxyApi`. */
export interface ApiProxyOptions {
  keyring: Keyring;
  /** The host's HTTP base URL (`http://127.0.0.1:8080`); absent: every call answers 503. */
  scanUrl?: string | undefined;
  now(): number;
}

/**
 * What a viewer may do beyond reading: start a scan and stop one (a scan writes nothing shared,
 * its results go to whoever asked). Releasing one (DELETE) stays an editor's.
 */
const VIEWER_MAY = /^\/api\/scan\/(stream|stop\/[^/]+)$/;

/** The path prefix the proxy answers. */
export const API_PREFIX = "/api/";

/** Answers one `/api/*` request: checks the token, then forwards it to `scanUrl`. */
export async function proxyApi(
  req: IncomingMessage,
  res: ServerResponse,
  options: ApiProxyOptions,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://collab");
  if (options.scanUrl === undefined) {
    return plain(
      res,
      503,
      "No scan service: scans read the bars kind's bars, and this dashboard's cluster runs no " +
        "bars (a host fed service metrics runs them only where its config asks) or gave this " +
        "collab server no scan URL (scanUrl)",
    );
  }
  const session = url.searchParams.get("session") ?? "";
  const claims = await admitToken(
    url,
    { keyring: options.keyring, session, nowMs: options.now() },
    (status, message) => plain(res, status, message),
  );
  if (!claims) return;
  if (req.method !== "GET" && !canWrite(claims.role) && !VIEWER_MAY.test(url.pathname)) {
    return plain(res, 403, `A ${claims.role} may not ${req.method} ${url.pathname}`);
  }
  url.searchParams.delete("token");
  url.searchParams.delete("session");
  const target = new URL(url.pathname.slice(API_PREFIX.length - 1) + url.search, options.scanUrl);
  const headers: Record<string, string> = {};
  for (const name of ["content-type", "content-length", "accept", "last-event-id"]) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  const upstream = request(target, { method: req.method ?? "GET", headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, {
      "content-type": up.headers["content-type"] ?? "application/octet-stream",
      "cache-control": "no-cache",
    });
    up.pipe(res);
  });
  upstream.on("error", (err) => {
    if (!res.headersSent) plain(res, 502, `Scan service at ${options.scanUrl}: ${err.message}`);
    else res.end();
  });
  // The page went away (an EventSource closed): stop the upstream request too.
  res.on("close", () => upstream.destroy());
  req.pipe(upstream);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(text + "\n");
}
