/**
 * The host's side of `troupe bench scan`'s scans, marked: when a `POST /scan/stream` reaches the
 * scan API's handler, and when the host hands a scan's first result (or its end, for a scan
 * without any) to the scan's WebSocket. The bench's client runs in the same process as the host,
 * so its own costs (a cold HTTP client took ~50 ms before its first request reached the handler)
 * would otherwise be counted as the host's.
 */
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import type { HostService, HostServiceParts } from "../actors/runtime/mod.ts";

/** What the host did when (performance.now()). */
export interface ScanMarks {
  /** When the latest POST /scan/stream reached the scan API's handler. */
  posted: number;
  /** When the host wrote each scan's first result (or its end) to a WebSocket, by scan id. */
  firstWritten: Map<string, number>;
}

const WS_RESULTS = /^\/ws\/results\/([A-Za-z0-9_-]{1,64})/;
const RESULT = '"type":"result"', END = '"type":"end"';

/**
 * Whether a write holds a result or an end message (ws writes a text message's payload as given).
 */
function isResultOrEnd(chunk: unknown): boolean {
  const b = typeof chunk === "string"
    ? chunk
    : chunk instanceof Uint8Array
    ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    : undefined;
  return b !== undefined && (b.includes(RESULT) || b.includes(END));
}

/** The host service `make` builds, with its scan API's requests and WebSocket writes marked. */
export function markedService(
  make: (parts: HostServiceParts) => Promise<HostService>,
  marks: ScanMarks,
): (parts: HostServiceParts) => Promise<HostService> {
  return async (parts) => {
    const service = await make(parts);
    const http = service.http;
    if (http === undefined) return service;
    return {
      close: () => service.close(),
      http: {
        handle(req, res) {
          if (req.method === "POST" && req.url === "/scan/stream") marks.posted = performance.now();
          return http.handle(req, res);
        },
        upgrade(req, socket, head) {
          const id = WS_RESULTS.exec(req.url ?? "")?.[1];
          if (id !== undefined) markWrites(socket, id, marks);
          return http.upgrade(req, socket, head);
        },
      },
    };
  };
}

/** Marks the first write of a result or end message to `socket` for scan `id`. */
function markWrites(socket: Duplex, id: string, marks: ScanMarks): void {
  const write = socket.write;
  socket.write = function (this: Duplex, ...args: unknown[]) {
    if (!marks.firstWritten.has(id) && isResultOrEnd(args[0])) {
      marks.firstWritten.set(id, performance.now());
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Duplex["write"];
}
