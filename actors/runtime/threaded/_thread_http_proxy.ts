/**
 * The routes a threaded host's service serves (the scan API), on the main thread's port: a host
 * on several threads runs its scan service in thread 0, which listens on a loopback port of its
 * own; the main thread forwards every request that is not its own /healthz or /metrics there,
 * as it came (method, path, headers, body streamed both ways), and its WebSocket upgrades as a
 * byte pipe. So a client sees one port, as with a host on one thread.
 */
import { type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import type { HttpExtension } from "../operations/mod.ts";

/** Forwards a request and its upgrades to the port `port()` gives (undefined: not yet, 503). */
export function threadHttpProxy(port: () => number | undefined): HttpExtension {
  return {
    handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const to = port();
      if (to === undefined) {
        res.writeHead(503, { "content-type": "text/plain" });
        res.end("Not ready: the host's thread 0 has not started its service yet\n");
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        const out = request(
          { host: "127.0.0.1", port: to, method: req.method, path: req.url, headers: req.headers },
          (back) => {
            res.writeHead(back.statusCode ?? 502, back.headers);
            back.pipe(res);
            back.on("end", () => resolve(true));
            back.on("error", () => resolve(true));
          },
        );
        out.on("error", (err) => {
          if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
          res.end(`Cannot reach the host's thread 0 on port ${to}: ${err.message}\n`);
          resolve(true);
        });
        // A client gone mid-answer (an event stream closed) ends the forwarded request too.
        res.on("close", () => out.destroy());
        req.pipe(out);
      });
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array): boolean {
      const to = port();
      if (to === undefined) return false;
      const upstream = connect(to, "127.0.0.1", () => {
        const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        }
        upstream.write(lines.join("\r\n") + "\r\n\r\n");
        if (head.byteLength > 0) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      const end = () => {
        upstream.destroy();
        socket.destroy();
      };
      upstream.on("error", end);
      socket.on("error", end);
      socket.on("close", () => upstream.destroy());
      upstream.on("close", () => socket.destroy());
      return true;
    },
  };
}
