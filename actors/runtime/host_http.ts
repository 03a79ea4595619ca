/**
 * A host's HTTP endpoints: `/healthz` (200 while the host is ready, connected and consuming, 503
 * otherwise, with the reasons and the counts as JSON) and `/metrics` (Prometheus text format), on
 * loopback. Both answer GET and HEAD, whatever the query string; other methods get 405.
 */
import { createServer, type Server } from "node:http";
import { HostFatalError } from "./fatal_error.ts";
import type { HostMetrics } from "./host_metrics.ts";

/** What the endpoints show of a host. */
export interface HttpHost {
  hostId: string;
  health(): { ok: boolean };
  metrics: HostMetrics;
  /** Brings the gauges up to date before /metrics is rendered. */
  refreshGauges(): void;
}

const PATHS = new Set(["/healthz", "/metrics"]);

/** Serves a host's /healthz and /metrics on `port` (0: a free one) of 127.0.0.1. */
export function serveHostHttp(port: number, host: HttpHost): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (!PATHS.has(path)) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("Not found: try /healthz or /metrics\n");
      } else if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" });
        res.end(`Method ${req.method} not allowed on ${path}: use GET\n`);
      } else if (path === "/healthz") {
        const h = host.health();
        res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify({ host: host.hostId, ...h }));
      } else {
        host.refreshGauges();
        const text = await host.metrics.text();
        res.writeHead(200, { "content-type": host.metrics.contentType });
        res.end(text);
      }
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String((err as Error).message));
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err: Error & { code?: string }) => {
      const why = err.code === "EADDRINUSE" ? "the port is in use by another process" : err.message;
      reject(
        new HostFatalError(
          `Cannot serve /healthz and /metrics on 127.0.0.1:${port}: ${why}`,
          { cause: err },
        ),
      );
    });
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
