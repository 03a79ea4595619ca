/**
 * The stream protocol's `msg` frame, `{t: "msg", seq, sub, subject, data}`, the gateway's hot
 * path: written directly rather than through @msgpack/msgpack's encoder (one call per message and
 * subscription id), and read back in place by the same layout (a client reads thousands a second,
 * and the generic decoder was the larger part of its time). What it writes is plain msgpack, which
 * the generic decoder of stream_message.ts reads too.
 */
import { Encoder } from "@msgpack/msgpack";

/** `{t: "msg"}`: one NATS message, numbered by the gateway. */
export interface StreamMsg {
  t: "msg";
  seq: number;
  sub: number;
  subject: string;
  data: Uint8Array;
}

const textEncoder = new TextEncoder();
/** `t: "msg"` without its map header. */
const MSG_HEAD = new Encoder().encode({ t: "msg" }).subarray(1);

/**
 * Encodes `{t: "msg", seq, sub, subject, data}` directly (the gateway's hot path: one call per
 * message and subscription id, where @msgpack/msgpack's `encode` allocates an encoder each time).
 * What it writes is plain msgpack; `decodeStreamServerMessage` reads it.
 */
export function encodeStreamMsg(
  seq: number,
  sub: number,
  subject: string,
  data: Uint8Array,
): Uint8Array {
  const subjectBytes = textEncoder.encode(subject);
  const size = 1 + MSG_HEAD.length + 4 + 9 + 4 + 9 + 8 + 5 + subjectBytes.length + 5 + 5 +
    data.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = 0x85; // fixmap of 5
  out.set(MSG_HEAD, at);
  at += MSG_HEAD.length;
  const key = (k: string) => {
    out[at++] = 0xa0 | k.length;
    for (let i = 0; i < k.length; i++) out[at++] = k.charCodeAt(i);
  };
  const uint = (x: number) => {
    if (x < 0x80) out[at++] = x;
    else if (x <= 0xffffffff) {
      out[at++] = 0xce;
      view.setUint32(at, x);
      at += 4;
    } else {
      out[at++] = 0xcf;
      view.setBigUint64(at, BigInt(x));
      at += 8;
    }
  };
  key("seq");
  uint(seq);
  key("sub");
  uint(sub);
  key("subject");
  const n = subjectBytes.length;
  if (n < 32) out[at++] = 0xa0 | n;
  else if (n < 256) (out[at++] = 0xd9), (out[at++] = n);
  else if (n < 0x10000) (out[at++] = 0xda), view.setUint16(at, n), (at += 2);
  else (out[at++] = 0xdb), view.setUint32(at, n), (at += 4); // read by the generic decoder
  out.set(subjectBytes, at);
  at += n;
  key("data");
  out[at++] = 0xc6; // bin 32
  view.setUint32(at, data.length);
  at += 4;
  out.set(data, at);
  at += data.length;
  return out.subarray(0, at);
}

const textDecoder = new TextDecoder();

/**
 * Reads a `msg` frame laid out exactly as `encodeStreamMsg` writes it (a client reads thousands a
 * second, and the generic decoder was the larger part of its time); anything else, undefined,
 * for the generic decoder.
 */
export function readStreamMsg(b: Uint8Array): StreamMsg | undefined {
  if (b.length < 32 || b[0] !== 0x85) return undefined;
  for (let i = 0; i < MSG_HEAD.length; i++) if (b[1 + i] !== MSG_HEAD[i]) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 1 + MSG_HEAD.length;
  const key = (k: string) => {
    if (b[at] !== (0xa0 | k.length)) return false;
    for (let i = 0; i < k.length; i++) if (b[at + 1 + i] !== k.charCodeAt(i)) return false;
    at += 1 + k.length;
    return true;
  };
  const uint = () => {
    const x = b[at]!;
    if (x < 0x80) return (at += 1), x;
    if (x === 0xce && at + 5 <= b.length) return (at += 5), view.getUint32(at - 4);
    if (x === 0xcf && at + 9 <= b.length) return (at += 9), Number(view.getBigUint64(at - 8));
    return -1;
  };
  if (!key("seq")) return undefined;
  const seq = uint();
  if (seq < 0 || !key("sub")) return undefined;
  const sub = uint();
  if (sub < 0 || !key("subject")) return undefined;
  let n = -1;
  const tag = b[at]!;
  if ((tag & 0xe0) === 0xa0) (n = tag & 0x1f), (at += 1);
  else if (tag === 0xd9) (n = b[at + 1]!), (at += 2);
  else if (tag === 0xda && at + 3 <= b.length) (n = view.getUint16(at + 1)), (at += 3);
  if (n < 0 || at + n > b.length) return undefined;
  const subject = textDecoder.decode(b.subarray(at, at + n));
  at += n;
  if (!key("data") || b[at] !== 0xc6 || at + 5 > b.length) return undefined;
  const len = view.getUint32(at + 1);
  at += 5;
  if (at + len !== b.length) return undefined;
  return { t: "msg", seq, sub, subject, data: b.subarray(at, at + len) };
}
