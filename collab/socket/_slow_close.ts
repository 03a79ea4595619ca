/**
 * The end of a connection closed as a slow consumer. Its close frame is queued behind what it had
 * not read, so a client that reads again gets it (and the reason) once it has read its backlog; a
 * client that does not is cut. Whether it reads is judged by the socket's unsent bytes, checked
 * every `checkMs`: the socket is cut when they have not shrunk over `stalledChecks` checks in a
 * row. One check is not enough: a stall of this process (a collection, a loaded machine) holds
 * back its writes as it holds back a reader in it, so a check that comes after one finds nothing
 * written whether the client reads or not. Once every byte has gone to the kernel, ws's closing
 * handshake bounds the rest (its close timeout, 30 s from the close).
 */
import type { WebSocket } from "ws";

/** How often a connection closed as a slow consumer is checked for reading; it is cut after two
 *  checks in a row found its unsent bytes no fewer. */
export const SLOW_CLOSE_CHECK_MS = 1_000;

/** Cuts `ws` (already closing) once its unsent bytes stop shrinking. */
export function cutWhenStalled(ws: WebSocket, checkMs: number, stalledChecks = 2): void {
  let last = ws.bufferedAmount;
  let stalled = 0;
  const check = () => {
    const unsent = ws.bufferedAmount;
    if (ws.readyState === ws.CLOSED || unsent === 0) return;
    stalled = unsent < last ? 0 : stalled + 1;
    last = unsent;
    if (stalled >= stalledChecks) return ws.terminate();
    setTimeout(check, checkMs).unref?.();
  };
  setTimeout(check, checkMs).unref?.();
}
