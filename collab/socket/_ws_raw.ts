/**
 * The one place troupe reaches into the `ws` package's private fields, for the two fast paths that
 * write a prebuilt frame to a socket (the collab server's relay, _frame_writer.ts, and the stream
 * gateway's fan-out): `_socket`, ws's net.Socket, and `_sender._state` and `_sender._queue`, which
 * say whether ws's sender is idle (not compressing a message, nothing queued), so that a frame
 * written beside it cannot overtake one of its own. Where a field is not there, each caller goes
 * through `ws.send`; `wsRawAvailable` tells a test whether the package still has them (ws 8's
 * `DEFAULT` sender state is 0).
 */
import type { WebSocket } from "ws";

/** What the fast paths need of ws's socket. */
export interface RawSocket {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
}

/** ws 8's sender fields read here. */
interface RawSender {
  _state?: unknown;
  _queue?: unknown;
}

/** ws 8's `DEFAULT` state of its sender: neither compressing nor reading a Blob. */
const SENDER_IDLE_STATE = 0;

interface WsFields {
  _socket?: Partial<RawSocket>;
  _sender?: RawSender;
}

/** ws's socket of `ws`, when ws has one as expected (under Node and Deno's node:net). */
export function rawSocket(ws: WebSocket): RawSocket | undefined {
  const socket = (ws as unknown as WsFields)._socket;
  return typeof socket?.write === "function" && typeof socket.cork === "function"
    ? socket as RawSocket
    : undefined;
}

/**
 * Whether ws's sender of `ws` is idle, so that a frame written to its socket now goes out after
 * everything ws was given before; false when it is busy or its fields are not as expected.
 */
export function senderIdle(ws: WebSocket): boolean {
  const sender = (ws as unknown as WsFields)._sender;
  return sender?._state === SENDER_IDLE_STATE && Array.isArray(sender._queue) &&
    sender._queue.length === 0;
}

/** Whether `ws` (open) has the private fields this module reads, of the shapes it expects. */
export function wsRawAvailable(ws: WebSocket): boolean {
  const sender = (ws as unknown as WsFields)._sender;
  return rawSocket(ws) !== undefined && typeof sender?._state === "number" &&
    Array.isArray(sender._queue);
}
