/**
 * `/healthz` and `/metrics`, the one HTTP surface every troupe process shows its operators (a host,
 * the collab server): health as JSON, 200 when ok and 503 otherwise, and the Prometheus text.
 * Both answer GET and HEAD, whatever the query string; another method gets 405 naming it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** The paths `answerOps` serves. */
export const OPS_PATHS: readonly string[] = ["/healthz", "/metrics"];

/** What a process shows at /healthz and /metrics. */
export interface OpsEndpoints {
  /** The health as JSON: `ok` decides the status (200 or 503). */
  health(): { ok: boolean };
  /** The metrics in Prometheus text format, its gauges brought up to date first. */
  metrics(): Promise<{ text: string; contentType: string }>;
}

/** Answers `req` when its path is /healthz or /metrics (true), else leaves it (false). */
export async function answerOps(
  req: IncomingMessage,
  res: ServerResponse,
  endpoints: OpsEndpoints,
): Promise<boolean> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (!OPS_PATHS.includes(path)) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" });
    res.end(`Method ${req.method} not allowed on ${path}: use GET\n`);
  } else if (path === "/healthz") {
    const health = endpoints.health();
    res.writeHead(health.ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify(health) + "\n");
  } else {
    const { text, contentType } = await endpoints.metrics();
    res.writeHead(200, { "content-type": contentType });
    res.end(text);
  }
  return true;
}
