/**
 * The server side of `troupe bench collab`, in a process of its own so that its memory is its own:
 * `troupe` (this repository's collab server, journal in a temporary directory, every write
 * checked against the session schema plus the clients' `sent` list), `ywss`
 * (`@y/websocket-server` 0.1.1's connection handler on a plain http server, as its bin runs it) or
 * `hocuspocus` (`@hocuspocus/server`). Prints `{ "port": N }` once listening; a `stop` line on
 * stdin closes it and exits.
 */
import { createServer } from "node:http";
import process from "node:process";
import { createInterface } from "node:readline";
import { devPackage } from "./_dev_package.ts";

const [kind, dataDir] = process.argv.slice(2);

async function start(): Promise<{ port: number; close(): Promise<void> }> {
  if (kind === "troupe") {
    const { fieldError, launchCollab, SESSION_SCHEMA } = await import("../collab/mod.ts");
    // The clients write send times to a list of their own: checked as the session's keys are, so
    // that every update takes the schema's path (a copy, a check) as a real one does.
    const sent = {
      type: "array" as const,
      check(_root: unknown, _changes: unknown, key: string, added: readonly unknown[]) {
        for (const v of added) {
          if (typeof v !== "number" || !Number.isFinite(v)) {
            throw fieldError(`${key}[]`, "a finite number", v);
          }
        }
      },
    };
    const c = await launchCollab({
      dataDir: dataDir!,
      port: 0,
      schema: { ...SESSION_SCHEMA, sent },
    });
    return { port: c.server.port, close: () => c.close() };
  }
  if (kind === "ywss") {
    const { WebSocketServer } = await import("ws");
    // deno-lint-ignore no-explicit-any
    const utils: any = await devPackage(
      "@y/websocket-server",
      () => import("@y/websocket-server/utils"),
      "bench collab's ywss server",
    );
    const wss = new WebSocketServer({ noServer: true });
    const http = createServer((_req, res) => res.end("okay"));
    wss.on("connection", (ws, req) => utils.setupWSConnection(ws, req));
    http.on("upgrade", (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
    const address = http.address();
    return {
      port: typeof address === "object" && address ? address.port : 0,
      close: () => new Promise<void>((resolve) => http.close(() => resolve())),
    };
  }
  if (kind === "hocuspocus") {
    const { Server } = await devPackage(
      "@hocuspocus/server",
      () => import("@hocuspocus/server"),
      "bench collab's hocuspocus server",
    );
    const server = new Server({ port: 0, address: "127.0.0.1", quiet: true, stopOnSignals: false });
    await server.listen();
    return { port: server.address.port, close: () => server.destroy() };
  }
  throw new Error(`Unknown server kind "${kind}": troupe, ywss or hocuspocus`);
}

const server = await start();
console.log(JSON.stringify({ port: server.port }));
createInterface({ input: process.stdin }).on("line", async (line) => {
  if (line.trim() !== "stop") return;
  await server.close().catch(() => {});
  console.log(JSON.stringify({ stopped: true }));
  process.exit(0);
});
