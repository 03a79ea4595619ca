/**
 * Writing to a WebSocket without waiting on it: frames written straight to the socket, and the
 * cut of a connection whose reader stalls. The collaboration server and the stream gateway share
 * them.
 */
export { binaryFrame, FrameWriter } from "./_frame_writer.ts";
export { cutWhenStalled, SLOW_CLOSE_CHECK_MS } from "./_slow_close.ts";
export { rawSocket, senderIdle } from "./_ws_raw.ts";
