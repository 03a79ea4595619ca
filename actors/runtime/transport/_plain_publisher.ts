/**
 * A plain publish (no reply, no headers) with its `PUB` line written into a slab of bytes rather
 * than made as a string and encoded into a new buffer of its own, which is what nats.js does for
 * every publish. A fleet host publishes three outputs a channel's sample, and in a heap of millions
 * of objects a new `ArrayBuffer` is costly to make and to collect (docs/lag_at_fleet_size.md). The
 * line's views share a 64 KiB slab until it is used up, a fresh one then; the connection's
 * outbound queue holds them only until its next flush packs them into one write.
 *
 * It hands the line and the payload to the connection's own outbound queue
 * (`ProtocolHandler.sendCommand`, the call nats.js's `publish` ends in: it flushes as nats.js
 * does, and what it holds with no server it drops at its next dial, as nats.js's own) and counts
 * them as nats.js does. Where that queue
 * is not there (another nats.js than the one this was written against), or for anything nats.js
 * would refuse (a closed or draining connection, a subject that is empty or holds white space, a
 * payload over the server's `max_payload`), it publishes through nats.js, which then says why.
 */
import type { NatsConnection } from "@nats-io/transport-node";

/** The part of nats.js's protocol handler (nats-core 3.x) a plain publish uses. */
interface ProtocolHandler {
  sendCommand(cmd: Uint8Array, ...payloads: Uint8Array[]): void;
  noMorePublishing: boolean;
  info?: { max_payload?: number };
  outBytes: number;
  outMsgs: number;
}

const SLAB_BYTES = 64 * 1024;
const CRLF = new Uint8Array([13, 10]);
/** "PUB " */
const PUB = [80, 85, 66, 32];

/** Publishes plain messages on one connection. */
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

  publish(subject: string, data: Uint8Array): void {
    const p = this.#protocol;
    const max = p?.info?.max_payload;
    if (
      p === undefined || p.noMorePublishing || this.#nc.isClosed() ||
      (max !== undefined && data.length > max)
    ) {
      this.#nc.publish(subject, data);
      return;
    }
    const line = this.#line(subject, data.length);
    if (line === undefined) {
      this.#nc.publish(subject, data);
      return;
    }
    p.outBytes += data.length;
    p.outMsgs++;
    p.sendCommand(line, data, CRLF);
  }

  /**
   * `PUB <subject> <length>\r\n` in the slab, or undefined for a subject nats.js refuses (empty,
   * white space in it), which this leaves to nats.js to say, or one not in ASCII (nats.js encodes
   * it; troupe's subjects are ASCII).
   */
  #line(subject: string, length: number): Uint8Array | undefined {
    const n = subject.length;
    if (n === 0) return undefined;
    // A length of up to 16 digits.
    const need = 4 + n + 1 + 16 + 2;
    if (this.#at + need > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(SLAB_BYTES, need));
      this.#at = 0;
    }
    const slab = this.#slab, start = this.#at;
    let at = start;
    for (let i = 0; i < 4; i++) slab[at++] = PUB[i]!;
    for (let i = 0; i < n; i++) {
      const c = subject.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9 || c >= 0x80) return undefined;
      slab[at++] = c;
    }
    slab[at++] = 32;
    const digits = String(length);
    for (let i = 0; i < digits.length; i++) slab[at++] = digits.charCodeAt(i);
    slab[at++] = 13;
    slab[at++] = 10;
    this.#at = at;
    return slab.subarray(start, at);
  }
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
