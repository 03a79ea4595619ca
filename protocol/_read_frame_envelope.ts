/**
 * A sample frame message's envelope read in one pass, for the layout troupe's frame encoder
 * writes (sample_frame.ts): the general reader makes the message a map, and its body a map, and
 * `decodeEnvelope` then reads both by name, about half of a host's decode of a frame. Any other
 * layout is the general reader's to read, and to say what is
 * wrong with.
 */
import { Reader } from "./_frame_codec.ts";

/** A frame message's envelope as `decodeEnvelope` returns it (an `Envelope` of envelope.ts). */
export interface FrameEnvelopeFields {
  v: number;
  id: string;
  type: string;
  src: string;
  ts: number;
  seq?: number;
  corr?: string;
  cause?: string;
  body: { channel: unknown; seq0: unknown; t: unknown; v: unknown };
}

const keyBytes = (k: string) => new TextEncoder().encode(k);
const K_V = keyBytes("v"), K_ID = keyBytes("id"), K_TYPE = keyBytes("type");
const K_SRC = keyBytes("src"), K_TS = keyBytes("ts"), K_SEQ = keyBytes("seq");
const K_CORR = keyBytes("corr"), K_CAUSE = keyBytes("cause"), K_BODY = keyBytes("body");
const K_CHANNEL = keyBytes("channel"), K_SEQ0 = keyBytes("seq0"), K_T = keyBytes("t");

/**
 * The envelope (protocol `version`) of `bytes` when they are laid out as `v`, `id`, `type`,
 * `src`, `ts`, any of `seq`, `corr` and `cause`, then a `body` of `channel`, `seq0`, `t` and `v`,
 * in that order: checked as `decodeEnvelope` checks an envelope, with the body `readMsgpack`
 * gives (its values unchecked, as there). Undefined for any other layout, a field of another
 * type, bytes left over or bytes that are not msgpack.
 */
export function readFrameEnvelope(
  bytes: Uint8Array,
  version: number,
): FrameEnvelopeFields | undefined {
  try {
    return read(new Reader(bytes), version);
  } catch {
    return undefined; // the general reader says what is wrong
  }
}

function read(r: Reader, version: number): FrameEnvelopeFields | undefined {
  const head = r.b[r.pos++] ?? 0;
  // Five fields, up to three optional ones, and the body.
  if (head < 0x86 || head > 0x89 || !key(r, K_V) || r.value(1) !== version) return undefined;
  const id = key(r, K_ID) ? r.value(1) : undefined;
  const type = key(r, K_TYPE) ? r.value(1) : undefined;
  const src = key(r, K_SRC) ? r.value(1) : undefined;
  const ts = key(r, K_TS) ? r.value(1) : undefined;
  let left = (head & 0x0f) - 5, seq: unknown, corr: unknown, cause: unknown;
  if (left > 1 && key(r, K_SEQ)) {
    seq = r.value(1);
    left--;
  }
  if (left > 1 && key(r, K_CORR)) {
    corr = r.value(1);
    left--;
  }
  if (left > 1 && key(r, K_CAUSE)) {
    cause = r.value(1);
    left--;
  }
  if (left !== 1 || !key(r, K_BODY) || r.b[r.pos++] !== 0x84) return undefined;
  const channel = key(r, K_CHANNEL) ? r.value(2) : undefined;
  const seq0 = key(r, K_SEQ0) ? r.value(2) : undefined;
  const t = key(r, K_T) ? r.value(2) : undefined;
  const v = key(r, K_V) ? r.value(2) : undefined;
  // A value read is never undefined (msgpack has nil): undefined is a field not there.
  if (
    typeof id !== "string" || typeof type !== "string" || typeof src !== "string" ||
    !Number.isSafeInteger(ts) || (seq !== undefined && !Number.isSafeInteger(seq)) ||
    (corr !== undefined && typeof corr !== "string") ||
    (cause !== undefined && typeof cause !== "string") || channel === undefined ||
    seq0 === undefined || t === undefined || v === undefined || r.pos !== r.b.length
  ) return undefined;
  // The fields in the order decodeEnvelope sets them.
  const env: FrameEnvelopeFields = {
    v: version,
    id,
    type,
    src,
    ts: ts as number,
    body: { channel, seq0, t, v },
  };
  if (seq !== undefined) env.seq = seq as number;
  if (corr !== undefined) env.corr = corr;
  if (cause !== undefined) env.cause = cause;
  return env;
}

/** Reads a string that is `k`'s bytes (its header of any width), or reads nothing. */
function key(r: Reader, k: Uint8Array): boolean {
  const b = r.b, t = b[r.pos]!;
  let p = r.pos + 1, n: number;
  if (t >= 0xa0 && t < 0xc0) n = t & 0x1f;
  else if (t === 0xd9) n = b[p++]!;
  else if (t === 0xda) {
    n = (b[p]! << 8) | b[p + 1]!;
    p += 2;
  } else return false;
  if (n !== k.length || p + n > b.length) return false;
  for (let i = 0; i < n; i++) if (b[p + i] !== k[i]) return false;
  r.pos = p + n;
  return true;
}
