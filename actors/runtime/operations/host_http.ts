/**
 * A host's HTTP endpoints, on loopback unless told otherwise: `/healthz` (200 while the host is
 * ready, connected and consuming, 503 otherwise, with the reasons and the counts as JSON, and what
 * a service is still warming) and `/metrics` (Prometheus text format), both answered by
 * ops_routes.ts. A service mounted beside the host (the scan API) answers its own paths first, and
 * its WebSocket upgrades. With credentials set, every request and upgrade but `/healthz` must carry
 * them (401 otherwise, with `WWW-Authenticate`): a probe that only asks whether the host lives
 * needs no secret.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import {
  asksCredentials,
  type HttpCredentials,
  refuseAuthorization,
  wwwAuthenticate,
} from "../../../protocol/mod.ts";
import { HostFatalError } from "./fatal_error.ts";
import type { HostMetrics } from "./host_metrics.ts";
import { answerOps, OPS_PATHS, type OpsEndpoints } from "./ops_routes.ts";

/** What the endpoints show of a host. */
export interface HttpHost {
  hostId: string;
  health(): { ok: boolean };
  metrics: Pick<HostMetrics, "text" | "contentType">;
  /** Brings the gauges up to date before /metrics is rendered. */
  refreshGauges(): void;
  /**
   * The partitions a host owns for good (started with them; `troupe status` shows them when no
   * lease says): absent for a host whose partitions move by lease.
   */
  partitions?: { count: number; owned: readonly number[] };
}

/** Routes a service adds to the host's port (the scan API). */
export interface HttpExtension {
  /** Answers a request of its own; false for a path it does not serve. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Takes a WebSocket upgrade of its own; false for another path (the socket is then closed). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array): boolean;
  /** What it is still warming, one line each (empty when warm): /healthz names it, still 200. */
  warming?(): string[];
}

/** Options of `serveHostHttp`. */
export interface HostHttpOptions {
  /** Routes served beside /healthz and /metrics (the scan API). */
  extra?: HttpExtension | undefined;
  /** The address to listen on: 127.0.0.1 by default. */
  bind?: string | undefined;
  /** What a request but /healthz must carry; none asked by default. */
  auth?: HttpCredentials | undefined;
}

/** The realm a host's 401 names. */
const REALM = "troupe host";

/** The path that answers without credentials: whether the host lives says nothing secret. */
const OPEN_PATH = "/healthz";

/**
 * Serves a host's /healthz and /metrics on `port` (0: a free one) of `options.bind` (127.0.0.1),
 * and what `options.extra` serves, asking `options.auth` of every request but /healthz.
 */
export function serveHostHttp(
  port: number,
  host: HttpHost,
  options: HostHttpOptions = {},
): Promise<Server> {
  const { extra, auth } = options;
  const bind = options.bind ?? "127.0.0.1";
  const guarded = asksCredentials(auth);
  const endpoints: OpsEndpoints = {
    // Warming is not a fault: the host serves meanwhile, only slower at first.
    health: () => ({
      host: host.hostId,
      ...host.health(),
      ...(host.partitions ? { partitions: host.partitions } : {}),
      warming: extra?.warming?.() ?? [],
    }),
    async metrics() {
      host.refreshGauges();
      return { text: await host.metrics.text(), contentType: host.metrics.contentType };
    },
  };
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const refused = guarded && path !== OPEN_PATH
        ? refuseAuthorization(req.headers.authorization, auth)
        : undefined;
      if (refused !== undefined) {
        req.resume();
        res.writeHead(401, {
          "content-type": "text/plain; charset=utf-8",
          "www-authenticate": wwwAuthenticate(auth, REALM),
        });
        return void res.end(`${refused}\n`);
      }
      const ops = OPS_PATHS.includes(path);
      if (!ops && extra && await extra.handle(req, res)) return;
      if (!(await answerOps(req, res, endpoints))) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("Not found: try /healthz or /metrics\n");
      }
    } catch (err) {
      if (res.headersSent) return void res.end();
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String((err as Error).message));
    }
  });
  server.on("upgrade", (req, socket, head) => {
    const refused = guarded ? refuseAuthorization(req.headers.authorization, auth) : undefined;
    if (refused !== undefined) return refuseUpgrade(socket, refused, wwwAuthenticate(auth, REALM));
    if (!extra?.upgrade(req, socket, head)) socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err: Error & { code?: string }) => {
      const why = err.code === "EADDRINUSE" ? "the port is in use by another process" : err.message;
      reject(
        new HostFatalError(
          `Cannot serve /healthz and /metrics on ${bind}:${port}: ${why}`,
          { cause: err },
        ),
      );
    });
    server.listen(port, bind, () => resolve(server));
  });
}

/** Answers an upgrade 401 with `text` and `challenge`, and closes the socket. */
function refuseUpgrade(socket: Duplex, text: string, challenge: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `WWW-Authenticate: ${challenge}\r\nContent-Length: ${new TextEncoder().encode(body).length}` +
      `\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The port a server listens on; undefined before it listens, or for none. */
export function serverPort(server: Server | undefined): number | undefined {
  const address = server?.address();
  return typeof address === "object" && address ? address.port : undefined;
}

/**
 * Closes a server (resolves at once for none): no new connections; idle keep-alive connections
 * closed now (Deno's server would otherwise wait minutes for their timeout); a request still
 * being answered (an event stream) gets `graceMs`, then its connection is closed too.
 */
export function closeServer(server: Server | undefined, graceMs = 1000): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections?.(), graceMs);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections?.();
  });
}
