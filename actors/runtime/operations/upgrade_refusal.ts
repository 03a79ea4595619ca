/**
 * Refusing a WebSocket upgrade with a plain HTTP answer (status and a one-line reason, its length,
 * and the connection closed), before the socket is a WebSocket: what every upgrade answers to a
 * bad path, name, token or scan (the collab server, the stream gateway, the scan API).
 */
import type { Duplex } from "node:stream";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  503: "Unavailable",
};

/** Answers `status` with `message` as the body and closes the socket. */
export function refuse(socket: Duplex, status: number, message: string): void {
  const body = truncate(message, 500) + "\n";
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${
        new TextEncoder().encode(body).length
      }\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** `text` cut to at most `max` UTF-8 bytes (a WebSocket close reason holds 123). */
export function truncate(text: string, max: number): string {
  let out = text;
  while (new TextEncoder().encode(out).length > max) out = out.slice(0, -2);
  return out;
}
