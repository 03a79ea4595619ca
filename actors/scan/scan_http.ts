/**
 * The scan API over HTTP, WebSocket and Server-Sent Events, as handlers a node:http server mounts
 * (the host's HTTP port, next to /healthz and /metrics):
 *
 *   POST   /scan/stream              start a scan: { scanId, websocketUrl, sseUrl }
 *   WS     /ws/results/{scanId}      results as JSON text messages (?after=N resumes)
 *   GET    /events/results/{scanId}  the same as Server-Sent Events (Last-Event-ID or ?after=N)
 *   GET    /scan/stats/{scanId}      live statistics
 *   POST   /scan/stop/{scanId}       stop early
 *   DELETE /scan/{scanId}            release the scan
 *   GET    /scans/active             the scans not yet ended
 *
 * Each result carries its sequence number (the SSE event id); a client that reconnects with the
 * last one it saw gets what it missed, then the live stream, each result once. A client that goes
 * away releases its subscription.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { encodeScanAnswer, type ScanResult, type ScanStats } from "../../protocol/mod.ts";
import type { ScanService } from "./scan_service.ts";
import { ScanRequestError } from "./scan_request.ts";
import { refuse } from "../runtime/operations/mod.ts";

/** Request bodies larger than this are refused (413). */
export const SCAN_BODY_BYTES_MAX = 4 * 1024 * 1024;

/** The scan API's handlers. */
export interface ScanHttp {
  /** Answers a scan route; false for a path that is not one (the server answers it). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Takes a WebSocket upgrade to /ws/results/{scanId}; false for another path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array): boolean;
  /** Closes the open WebSockets. */
  close(): void;
}

const ID = "([A-Za-z0-9_-]{1,64})";
const ROUTES: [string, RegExp, string][] = [
  ["POST", /^\/scan\/stream$/, "start"],
  ["GET", new RegExp(`^/scan/stats/${ID}$`), "stats"],
  ["POST", new RegExp(`^/scan/stop/${ID}$`), "stop"],
  ["DELETE", new RegExp(`^/scan/${ID}$`), "delete"],
  ["GET", /^\/scans\/active$/, "active"],
  ["GET", new RegExp(`^/events/results/${ID}$`), "sse"],
];
const WS_PATH = new RegExp(`^/ws/results/${ID}$`);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** An answer of protocol/scan_result.ts, as JSON. */
function answerJson(res: ServerResponse, m: Parameters<typeof encodeScanAnswer>[0]): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(encodeScanAnswer(m));
}

/** How long the rest of an oversize body is read (and dropped) for, so the client reads the 413. */
const OVERSIZE_DRAIN_MS = 2_000;
/**
 * How long a request body may take to arrive, from the request's headers: a client that promises
 * more than it sends (its content-length) is answered 408 and its connection closed, not held.
 */
export const SCAN_BODY_READ_MS_MAX = 10_000;

/**
 * The request body, as text; a body over SCAN_BODY_BYTES_MAX is refused with 413, one not whole
 * within SCAN_BODY_READ_MS_MAX with 408. The socket is not destroyed at once (a client still
 * sending would get a reset, never the answer): the 413 or 408 is sent with `connection: close`,
 * and the socket is closed once the client has sent the rest or the response is flushed, or
 * after OVERSIZE_DRAIN_MS at the latest.
 */
function readBody(req: IncomingMessage, res: ServerResponse, readMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const giveUp = (err: ScanRequestError, waitForEnd: boolean) => {
      clearTimeout(slow);
      chunks.length = 0;
      req.off("data", onData);
      req.resume(); // the rest, read and dropped
      res.setHeader("connection", "close");
      const socket = req.socket;
      const timer = setTimeout(() => socket.destroy(), OVERSIZE_DRAIN_MS);
      (timer as { unref?: () => void }).unref?.();
      res.once("finish", () => {
        // Sent: close once the client has sent the rest (or at the timer).
        if (req.complete || !waitForEnd) socket.end();
        else req.once("end", () => socket.end());
      });
      reject(err);
    };
    const onData = (c: Uint8Array) => {
      size += c.length;
      if (size <= SCAN_BODY_BYTES_MAX) {
        chunks.push(c);
        return;
      }
      giveUp(
        new ScanRequestError(413, "", `The request body is over ${SCAN_BODY_BYTES_MAX} bytes`),
        true,
      );
    };
    const slow = setTimeout(() => {
      const promised = req.headers["content-length"];
      giveUp(
        new ScanRequestError(
          408,
          "",
          `The request body did not arrive within ${readMs} ms: ${size} bytes` +
            (promised === undefined ? "" : ` of the ${promised} its content-length promised`),
        ),
        false,
      );
    }, readMs);
    (slow as { unref?: () => void }).unref?.();
    req.on("data", onData);
    req.on("end", () => {
      clearTimeout(slow);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (err) => {
      clearTimeout(slow);
      reject(err);
    });
  });
}

/** The sequence number to resume after: `Last-Event-ID`, else `?after=`, else 0. */
function afterOf(req: IncomingMessage, url: URL): number {
  const raw = (req.headers["last-event-id"] as string | undefined) ??
    url.searchParams.get("after") ?? "0";
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new ScanRequestError(
      400,
      "after",
      `The sequence number to resume after must be a whole number >= 0, got "${raw}"`,
    );
  }
  return n;
}

/** One call of the scan API: its route's kind, the scan id in its path, and the exchange. */
interface ScanCall {
  kind: string;
  id: string;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  bodyReadMs: number;
}

/** Answers `call`, a route of `ROUTES`; a ScanRequestError thrown is the caller's to answer. */
async function answer(service: ScanService, call: ScanCall): Promise<void> {
  const { id, res } = call;
  switch (call.kind) {
    case "start":
      return await startScan(service, call);
    case "stop":
      if (!(await service.stopScan(id))) return notFound(res, id);
    // falls through: a stopped scan's answer is its statistics
    case "stats": {
      const stats = service.stats(id);
      return stats ? answerJson(res, stats) : notFound(res, id);
    }
    case "delete":
      return (await service.deleteScan(id)) ? json(res, 200, { deleted: id }) : notFound(res, id);
    case "active":
      return json(res, 200, service.active());
    case "sse":
      return streamEvents(service, call);
  }
}

/** POST /scan/stream: starts the scan its body asks for and says where its results are. */
async function startScan(service: ScanService, { req, res, bodyReadMs }: ScanCall): Promise<void> {
  const text = await readBody(req, res, bodyReadMs);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ScanRequestError(400, "", `The request body is not JSON: ${(e as Error).message}`);
  }
  const { scanId, partitions_missing } = await service.startScan(body);
  const host = req.headers.host ?? "127.0.0.1";
  answerJson(res, {
    scanId,
    websocketUrl: `ws://${host}/ws/results/${scanId}`,
    sseUrl: `http://${host}/events/results/${scanId}`,
    // A partitioned cluster's partitions whose symbols are not in the scan (no answer).
    ...(partitions_missing?.length ? { partitions_missing } : {}),
  });
}

function notFound(res: ServerResponse, id: string): void {
  json(res, 404, { error: `No scan "${id}"` });
}

/** GET /events/results/{scanId}: the scan's results as Server-Sent Events, then its end. */
function streamEvents(service: ScanService, { id, req, res, url }: ScanCall): void {
  const after = afterOf(req, url);
  if (!service.stats(id)) return notFound(res, id);
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  // A comment line: the headers go out now, so the client knows it is subscribed.
  res.write(": subscribed\n\n");
  let unsubscribe: (() => void) | undefined;
  let ended = false;
  const finish = (stats: ScanStats) => {
    res.write(`event: end\ndata: ${encodeScanAnswer(stats)}\n\n`);
    ended = true;
    res.end();
  };
  unsubscribe = service.subscribe(id, after, {
    result: (r: ScanResult) =>
      res.write(`id: ${r.seq}\nevent: result\ndata: ${encodeScanAnswer(r)}\n\n`),
    end: finish,
  });
  if (ended) unsubscribe = undefined;
  res.on("close", () => unsubscribe?.());
}

/** Options of scanHttp. */
export interface ScanHttpOptions {
  /** How long a request body may take to arrive (default SCAN_BODY_READ_MS_MAX). */
  bodyReadMs?: number;
}

/** The scan API over `service`. */
export function scanHttp(service: ScanService, options: ScanHttpOptions = {}): ScanHttp {
  const bodyReadMs = options.bodyReadMs ?? SCAN_BODY_READ_MS_MAX;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  return {
    async handle(req, res) {
      const url = new URL(req.url ?? "/", "http://localhost");
      const path = url.pathname;
      const hit = ROUTES.find(([, re]) => re.test(path));
      if (!hit) return false;
      const [method, re, kind] = hit;
      if (req.method !== method) {
        json(res, 405, { error: `${req.method} ${path}: use ${method}` });
        return true;
      }
      const id = re.exec(path)?.[1] ?? "";
      try {
        await answer(service, { kind, id, req, res, url, bodyReadMs });
      } catch (e) {
        if (res.headersSent) {
          res.end();
        } else if (e instanceof ScanRequestError) {
          json(res, e.status, { error: e.message, field: e.field });
        } else {
          json(res, 500, { error: (e as Error).message });
        }
      }
      return true;
    },

    upgrade(req, socket, head) {
      const url = new URL(req.url ?? "/", "http://localhost");
      const m = WS_PATH.exec(url.pathname);
      if (!m) return false;
      const id = m[1]!;
      let after: number;
      try {
        after = afterOf(req, url);
      } catch (e) {
        refuse(socket, 400, (e as Error).message);
        return true;
      }
      if (!service.stats(id)) {
        refuse(socket, 404, `No scan "${id}"`);
        return true;
      }
      wss.handleUpgrade(req, socket, Buffer.from(head), (ws) => {
        let unsubscribe: (() => void) | undefined;
        let ended = false;
        unsubscribe = service.subscribe(id, after, {
          result: (r) => ws.send(encodeScanAnswer({ type: "result", ...r })),
          end: (stats) => {
            ended = true;
            ws.send(encodeScanAnswer({ type: "end", stats }));
            ws.close(1000, "scan ended");
          },
        });
        if (ended) unsubscribe = undefined;
        ws.on("close", () => unsubscribe?.());
      });
      return true;
    },

    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
