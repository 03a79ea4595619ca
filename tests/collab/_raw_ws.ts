/**
 * Test support: a WebSocket client over a bare TCP socket, for the one thing a WebSocket library
 * will not do on request: stop reading. It sends the upgrade, masked binary frames and, when told,
 * a close frame, and parses the server's frames (no extensions negotiated) only when told to read.
 */
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

/** A server frame: binary data, a close with its code and reason, or a ping (never answered). */
export type RawFrame = { op: "binary"; data: Uint8Array } | { op: "ping" } | {
  op: "close";
  code: number;
  reason: string;
};

/** A raw WebSocket client. */
export interface RawWs {
  socket: Socket;
  send(data: Uint8Array): void;
  /**
   * Sends a close frame with `code`: the answer a WebSocket client gives the server's close, after
   * which the server ends the connection at once (unanswered, it waits 30 s first).
   */
  sendClose(code: number): void;
  /** Stops reading: the kernel buffers fill, then the server's socket queue grows. */
  stall(): void;
  /** Reads again; frames go to `onFrame`. */
  resume(onFrame: (f: RawFrame) => void): void;
  ended: Promise<void>;
}

/** Opens `ws://host:port/path` and resolves once the server has switched protocols. */
export function rawWebSocket(port: number, path: string): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let pending: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let onFrame: (f: RawFrame) => void = () => {};
    const ended = new Promise<void>((r) => socket.on("close", () => r()));
    socket.on("error", reject);
    socket.on("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
          `Sec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!upgraded) {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = pending.subarray(0, end).toString();
        if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(`Upgrade refused: ${head}`));
        upgraded = true;
        pending = pending.subarray(end + 4);
        resolve({
          socket,
          send: (data) => socket.write(maskedFrame(OP_BINARY, data)),
          sendClose: (code) =>
            socket.write(maskedFrame(OP_CLOSE, new Uint8Array([code >> 8, code]))),
          stall: () => socket.pause(),
          resume(fn) {
            onFrame = fn;
            socket.resume();
          },
          ended,
        });
      }
      pending = drainFrames(pending, (f) => onFrame(f));
    });
  });
}

function drainFrames(buf: Buffer, emit: (f: RawFrame) => void): Buffer {
  for (;;) {
    if (buf.length < 2) return buf;
    const op = buf[0]! & 0x0f;
    let len = buf[1]! & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buf.length < 4) return buf;
      len = buf.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buf.length < 10) return buf;
      len = Number(buf.readBigUInt64BE(2));
      at = 10;
    }
    if (buf.length < at + len) return buf;
    const payload = new Uint8Array(buf.subarray(at, at + len));
    buf = buf.subarray(at + len);
    if (op === 2) emit({ op: "binary", data: payload });
    else if (op === 9) emit({ op: "ping" });
    else if (op === 8) {
      const view = Buffer.from(payload);
      emit({
        op: "close",
        code: view.length >= 2 ? view.readUInt16BE(0) : 1005,
        reason: view.subarray(2).toString(),
      });
    }
  }
}

const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;

/** A final frame of `op` carrying `data`, masked as a client's must be. */
function maskedFrame(op: number, data: Uint8Array): Buffer {
  const mask = randomBytes(4);
  const n = data.length;
  const head = n < 126
    ? Buffer.from([0x80 | op, 0x80 | n])
    : Buffer.from([0x80 | op, 0x80 | 126, n >> 8, n & 0xff]);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = data[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}
