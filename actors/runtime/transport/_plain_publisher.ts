/**
 * A publish (a plain one, or a request's: a reply subject and headers) with its `PUB` or `HPUB`
 * line, and its headers, written into a slab of bytes rather than made as strings and encoded
 * into new buffers of their own, which is what nats.js does for every publish (its headers an
 * object of maps, encoded once a message). A fleet host publishes three outputs a channel's
 * sample, and on JetStream journals each of its inputs as a request with three headers; in a
 * heap of millions of objects a new `ArrayBuffer` is costly to make and to collect
 * (docs/lag_at_fleet_size.md). The lines' views share a 64 KiB slab until it is used up, a fresh
 * one then; the connection's outbound queue holds them only until its next flush packs them into
 * one write.
 *
 * It hands the line and the payload to the connection's own outbound queue
 * (`ProtocolHandler.sendCommand`, the call nats.js's `publish` ends in: it flushes as nats.js
 * does, and what it holds with no server it drops at its next dial, as nats.js's own) and counts
 * them as nats.js does. Where that queue is not there (another nats.js than the one this was
 * written against), or for anything nats.js would refuse (a closed or draining connection, a
 * subject or reply that is empty or holds white space, a payload over the server's
 * `max_payload`, headers to a server without them), or anything not ASCII, it publishes through
 * nats.js, which then says why.
 */
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";

/** A message's headers as name and value pairs, in order (ASCII, as troupe's are). */
export type HeaderPairs = ReadonlyArray<readonly [string, string]>;

/** The part of nats.js's protocol handler (nats-core 3.x) a plain publish uses. */
interface ProtocolHandler {
  sendCommand(cmd: Uint8Array, ...payloads: Uint8Array[]): void;
  noMorePublishing: boolean;
  info?: { max_payload?: number; headers?: boolean };
  outBytes: number;
  outMsgs: number;
}

const SLAB_BYTES = 64 * 1024;
const CRLF = new Uint8Array([13, 10]);
/** "PUB " */
const PUB = [80, 85, 66, 32];
/** "HPUB " */
const HPUB = [72, 80, 85, 66, 32];
/** "NATS/1.0\r\n", a header block's first line. */
const HEADER_VERSION = [78, 65, 84, 83, 47, 49, 46, 48, 13, 10];

/** Publishes messages on one connection, each one's line written in a slab. */
export class PlainPublisher {
  readonly #nc: NatsConnection;
  readonly #protocol: ProtocolHandler | undefined;
  #slab = new Uint8Array(SLAB_BYTES);
  #at = 0;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#protocol = protocolOf(nc);
  }

  /** Whether publishes take the slab's path (nats.js's own queue was found), for the tests. */
  get direct(): boolean {
    return this.#protocol !== undefined;
  }

  /** Publishes `data` on `subject`, with `reply` and `headers` when given. */
  publish(subject: string, data: Uint8Array, reply?: string, headers?: HeaderPairs): void {
    const p = this.#protocol;
    const max = p?.info?.max_payload;
    const hlen = headers === undefined ? 0 : headerBlockLength(headers);
    if (
      p === undefined || p.noMorePublishing || this.#nc.isClosed() || Number.isNaN(hlen) ||
      (max !== undefined && hlen + data.length > max) ||
      (headers !== undefined && p.info?.headers !== true)
    ) {
      this.#viaNats(subject, data, reply, headers);
      return;
    }
    const line = this.#line(subject, reply, headers, hlen, data.length);
    if (line === undefined) {
      this.#viaNats(subject, data, reply, headers);
      return;
    }
    p.outBytes += data.length;
    p.outMsgs++;
    p.sendCommand(line, data, CRLF);
  }

  #viaNats(subject: string, data: Uint8Array, reply?: string, pairs?: HeaderPairs): void {
    if (reply === undefined && pairs === undefined) return this.#nc.publish(subject, data);
    let headers;
    if (pairs !== undefined) {
      headers = natsHeaders();
      for (const [name, value] of pairs) headers.set(name, value);
    }
    this.#nc.publish(subject, data, {
      ...(reply === undefined ? {} : { reply }),
      ...(headers === undefined ? {} : { headers }),
    });
  }

  /**
   * `PUB <subject> [<reply>] <length>\r\n`, or `HPUB <subject> [<reply>] <hlen> <total>\r\n`
   * and the header block, in the slab; undefined for a subject or reply nats.js refuses (empty,
   * white space in it), which this leaves to nats.js to say, or one not in ASCII (nats.js
   * encodes it; troupe's subjects are ASCII).
   */
  #line(
    subject: string,
    reply: string | undefined,
    headers: HeaderPairs | undefined,
    hlen: number,
    length: number,
  ): Uint8Array | undefined {
    if (subject.length === 0 || reply?.length === 0) return undefined;
    // Two lengths of up to 16 digits each, and the header block.
    const need = 5 + subject.length + 1 + (reply?.length ?? 0) + 1 + 34 + 2 + hlen;
    if (this.#at + need > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(SLAB_BYTES, need));
      this.#at = 0;
    }
    const slab = this.#slab, start = this.#at;
    let at = headers === undefined ? putAll(slab, start, PUB) : putAll(slab, start, HPUB);
    at = putToken(slab, at, subject);
    if (at < 0) return undefined;
    slab[at++] = 32;
    if (reply !== undefined) {
      at = putToken(slab, at, reply);
      if (at < 0) return undefined;
      slab[at++] = 32;
    }
    if (headers !== undefined) {
      at = putAscii(slab, at, String(hlen));
      slab[at++] = 32;
    }
    at = putAscii(slab, at, String(hlen + length));
    slab[at++] = 13;
    slab[at++] = 10;
    if (headers !== undefined) at = putHeaderBlock(slab, at, headers);
    this.#at = at;
    return slab.subarray(start, at);
  }
}

/**
 * The bytes of `headers`' block (`NATS/1.0`, a line a header, an empty line), or NaN when a name
 * or value is not printable ASCII, a name holds a colon, or a value starts or ends with a space.
 */
function headerBlockLength(headers: HeaderPairs): number {
  let n = HEADER_VERSION.length + 2;
  for (const [name, value] of headers) {
    if (!printable(name, true) || !printable(value, false)) return NaN;
    n += name.length + 2 + value.length + 2;
  }
  return n;
}

function printable(s: string, name: boolean): boolean {
  if (name && s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || (name && (c === 58 || c === 32))) return false;
  }
  return !(s.charCodeAt(0) === 32 || s.charCodeAt(s.length - 1) === 32);
}

function putHeaderBlock(slab: Uint8Array, at: number, headers: HeaderPairs): number {
  at = putAll(slab, at, HEADER_VERSION);
  for (const [name, value] of headers) {
    at = putAscii(slab, at, name);
    slab[at++] = 58;
    slab[at++] = 32;
    at = putAscii(slab, at, value);
    slab[at++] = 13;
    slab[at++] = 10;
  }
  slab[at++] = 13;
  slab[at++] = 10;
  return at;
}

function putAll(slab: Uint8Array, at: number, bytes: readonly number[]): number {
  for (let i = 0; i < bytes.length; i++) slab[at++] = bytes[i]!;
  return at;
}

function putAscii(slab: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) slab[at++] = s.charCodeAt(i);
  return at;
}

/** A subject or reply put in the slab; -1 for white space or a character not in ASCII. */
function putToken(slab: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9 || c >= 0x80) return -1;
    slab[at++] = c;
  }
  return at;
}

/** nats.js's protocol handler of `nc`, when it has the members a plain publish needs. */
function protocolOf(nc: NatsConnection): ProtocolHandler | undefined {
  const p = (nc as unknown as { protocol?: Partial<ProtocolHandler> }).protocol;
  if (
    p === undefined || p === null || typeof p.sendCommand !== "function" ||
    typeof p.noMorePublishing !== "boolean" || typeof p.outBytes !== "number" ||
    typeof p.outMsgs !== "number"
  ) {
    return undefined;
  }
  return p as ProtocolHandler;
}
