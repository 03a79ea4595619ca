/**
 * The stream protocol's `batch` frame, `{t: "batch", m: [bin, ...]}`: several server messages in
 * one WebSocket message, each inside as the very bytes it would have been sent as alone, in the
 * order sent. A fleet's round of updates is a message per channel, thousands at once, and a
 * browser handles each WebSocket message as a task of its own: one message per round's turn is
 * one task. Only a socket that asked for batches (`STREAM_BATCH_PARAM` in its URL) is sent them.
 * Written directly and read back in place, as the `msg` frame is (stream_msg.ts); what it writes
 * is plain msgpack, which the generic decoder reads too.
 */
import { Encoder } from "@msgpack/msgpack";

/**
 * The query parameter of `/stream` with which a socket asks for batches (`batch=1`). At the
 * upgrade, so that it holds for the socket from its first message, and a gateway that does not
 * know it ignores it (a client reads single messages either way).
 */
export const STREAM_BATCH_PARAM = "batch";

/** `t: "batch", m:` without the map header, followed by an array 32 header. */
const BATCH_HEAD = new Encoder().encode({ t: "batch", m: 0 }).subarray(1, -1);

/** Encodes `messages` (each a server message's bytes) as one `batch` frame. */
export function encodeStreamBatch(messages: readonly Uint8Array[]): Uint8Array {
  let size = 1 + BATCH_HEAD.length + 5;
  for (const m of messages) size += 5 + m.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = 0x82; // fixmap of 2
  out.set(BATCH_HEAD, 1);
  let at = 1 + BATCH_HEAD.length;
  out[at] = 0xdd; // array 32
  view.setUint32(at + 1, messages.length);
  at += 5;
  for (const m of messages) {
    out[at] = 0xc6; // bin 32
    view.setUint32(at + 1, m.length);
    out.set(m, at + 5);
    at += 5 + m.length;
  }
  return out;
}

/**
 * The messages of a `batch` frame laid out exactly as `encodeStreamBatch` writes it, as views
 * into `b` (no copy); anything else, undefined, for the generic decoder.
 */
export function readStreamBatch(b: Uint8Array): Uint8Array[] | undefined {
  const start = 1 + BATCH_HEAD.length;
  if (b.length < start + 5 || b[0] !== 0x82 || b[start] !== 0xdd) return undefined;
  for (let i = 0; i < BATCH_HEAD.length; i++) if (b[1 + i] !== BATCH_HEAD[i]) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = view.getUint32(start + 1);
  const messages: Uint8Array[] = [];
  let at = start + 5;
  for (let i = 0; i < count; i++) {
    if (at + 5 > b.length || b[at] !== 0xc6) return undefined;
    const len = view.getUint32(at + 1);
    if (at + 5 + len > b.length) return undefined;
    messages.push(b.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return at === b.length ? messages : undefined;
}
