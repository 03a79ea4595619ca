/**
 * A host's HTTP endpoints: `/healthz` (200 while the host is ready and no instance is stopped,
 * 503 otherwise, with the counts as JSON) and `/metrics` (Prometheus text format), on loopback.
 */
import { createServer, type Server } from "node:http";
import type { HostMetrics } from "./host_metrics.ts";

/** What the endpoints show of a host. */
export interface HttpHost {
  hostId: string;
  health(): { ok: boolean };
  metrics: HostMetrics;
  /** Brings the gauges up to date before /metrics is rendered. */
  refreshGauges(): void;
}

/** Serves a host's /healthz and /metrics on `port` (0: a free one) of 127.0.0.1. */
export function serveHostHttp(port: number, host: HttpHost): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      if (req.url === "/healthz") {
        const h = host.health();
        res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify({ host: host.hostId, ...h }));
      } else if (req.url === "/metrics") {
        host.refreshGauges();
        const text = await host.metrics.text();
        res.writeHead(200, { "content-type": host.metrics.contentType });
        res.end(text);
      } else {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("Not found: try /healthz or /metrics\n");
      }
    } catch (err) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String((err as Error).message));
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
