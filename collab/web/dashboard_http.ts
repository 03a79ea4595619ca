/**
 * The collab server's web pages: the dashboard at `/` (its HTML shell, `/dashboard.js`, the
 * live-plot worker's `/dashboard_worker.js` and `/dashboard.css` from the in-memory bundle), the
 * channels' labels it groups its cards by (`/channels`) and the `/api/*` proxy to the scan
 * service. One function the server calls for each plain HTTP request it does not answer itself.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Keyring } from "../session/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import { API_PREFIX, proxyApi } from "./api_proxy.ts";
import { CHANNEL_LIST_PATH, ChannelList } from "./channel_list.ts";
import { dashboardBundle } from "./bundle.ts";
import { declaredFindings, declaredFindingsTag } from "./declared_findings.ts";
import { dashboardHtml } from "./page_html.ts";

/** Options of `dashboardHttp`. */
export interface DashboardHttpOptions {
  keyring: Keyring;
  /** The host's HTTP base URL, where the scan API is mounted (`troupe up` sets it). */
  scanUrl?: string | undefined;
  /** Where the channels' labels are read from (`/channels`); absent: it answers 503. */
  bus?: Bus | undefined;
  /** Milliseconds since the epoch (token expiry). */
  now?(): number;
}

/** Answers a request; resolves false when the path is not one of the dashboard's. `close` stops
 *  what it follows (the channel record, once a page asked for it). */
export type DashboardHandler =
  & ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>)
  & { close(): Promise<void> };

/** The bundle's files by path, with their content types. */
const ASSETS = {
  "/dashboard.js": { part: "js", type: "text/javascript; charset=utf-8" },
  "/dashboard_worker.js": { part: "worker", type: "text/javascript; charset=utf-8" },
  "/dashboard.css": { part: "css", type: "text/css; charset=utf-8" },
} as const;

/** The handler of `/`, the bundle's files (ASSETS) and `/api/*`. */
export function dashboardHttp(options: DashboardHttpOptions): DashboardHandler {
  const now = options.now ?? Date.now;
  const channels = new ChannelList({ keyring: options.keyring, bus: options.bus, now });
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (path.startsWith(API_PREFIX)) {
      await proxyApi(req, res, { keyring: options.keyring, scanUrl: options.scanUrl, now });
      return true;
    }
    if (path === CHANNEL_LIST_PATH) {
      await channels.handle(req, res);
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (path === "/" || path === "/index.html") {
      // The kinds of finding known now: a user's kinds are loaded before the server starts.
      const html = dashboardHtml(declaredFindingsTag(declaredFindings()));
      send(res, 200, "text/html; charset=utf-8", html, req.method);
      return true;
    }
    if (path === "/favicon.ico") {
      res.writeHead(204);
      res.end();
      return true;
    }
    const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path as keyof typeof ASSETS] : undefined;
    if (!asset) return false;
    let bundle;
    try {
      bundle = await dashboardBundle();
    } catch (err) {
      send(res, 500, "text/plain; charset=utf-8", (err as Error).message + "\n", req.method);
      return true;
    }
    if (req.headers["if-none-match"] === bundle.etag) {
      res.writeHead(304, { etag: bundle.etag });
      res.end();
      return true;
    }
    res.setHeader("etag", bundle.etag);
    res.setHeader("cache-control", "no-cache");
    send(res, 200, asset.type, bundle[asset.part], req.method);
    return true;
  };
  return Object.assign(handler, { close: () => channels.close() });
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Uint8Array,
  method: string,
): void {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  res.writeHead(status, { "content-type": type, "content-length": String(bytes.length) });
  res.end(method === "HEAD" ? undefined : bytes);
}
