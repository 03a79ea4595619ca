/**
 * Sends the same message to many WebSockets at the cost of one: a relayed update goes to every
 * other connection of its room, and through `ws.send` each connection framed it again (a header
 * Buffer, ws's sender, a cork, two writes and an uncork per socket: about a fifth of the server's
 * busy time at 500 clients, beside the `writev` itself). Here the WebSocket frame (header and
 * payload in one Buffer) is built once per message and written to each connection's socket as
 * it is, at once.
 *
 * The sockets are not corked: a relay sends each connection one message (the updates that became
 * durable together are merged, see `_room.ts`), so a cork saves no write, and it held every
 * socket's bytes until the loop over all connections was done: uncorked, a relay's first byte
 * leaves at once and its last no later (docs/performance.md, "Figures behind the code").
 *
 * ws's socket is reached through _ws_raw.ts. Writing a whole frame to it is what ws's sender
 * does for an uncompressed, unfragmented message, and this server turns permessage-deflate off
 * and never fragments, so ws's sender is never busy in between; where the field is missing, the
 * message goes through `ws.send` as before.
 */
import type { WebSocket } from "ws";
import { rawSocket } from "./_ws_raw.ts";

/** A server's WebSocket frame of a binary message: FIN, opcode 2, no mask, then the payload. */
export function binaryFrame(payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = new Uint8Array(head + n);
  frame[0] = 0x82;
  if (n < 126) frame[1] = n;
  else if (n < 65536) {
    frame[1] = 126;
    frame[2] = n >>> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 127;
    // Bytes 2-5 stay 0: a message is far below 2^32 bytes (message_bytes_max bounds what comes
    // in, and a document's state is the largest thing that goes out).
    new DataView(frame.buffer).setUint32(6, n);
  }
  frame.set(payload, head);
  return frame;
}

/** Frames each message once and writes it to each socket. */
export class FrameWriter {
  #lastPayload: Uint8Array | undefined;
  #lastFrame: Uint8Array | undefined;

  /**
   * Sends `payload` to `ws` (open). The frame of the last payload sent is kept until the current
   * task's synchronous work is done, so a loop that sends one message to every connection frames
   * it once.
   */
  send(ws: WebSocket, payload: Uint8Array): void {
    const socket = rawSocket(ws);
    if (!socket) return ws.send(payload);
    if (socket.destroyed) return;
    if (payload !== this.#lastPayload) {
      if (this.#lastPayload === undefined) queueMicrotask(() => this.#forget());
      this.#lastPayload = payload;
      this.#lastFrame = binaryFrame(payload);
    }
    socket.write(this.#lastFrame!);
  }

  #forget(): void {
    // The frame is not kept past the burst: it may be large (a document's whole state).
    this.#lastPayload = this.#lastFrame = undefined;
  }
}
