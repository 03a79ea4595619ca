/**
 * The stream gateway: `/stream` on the collab server's port relays what the actors publish
 * (`troupe.out.>`, `troupe.finding.>`, `troupe.dlq.>`, `troupe.sys.>`, `troupe.scan.*.results`) to
 * WebSocket clients as msgpack frames (the protocol is protocol/stream_message.ts). It holds one
 * NATS subscription per prefix, numbers every message with one monotonic seq, and keeps a bounded
 * ring of recent messages (`stream_ring.ts`) for resume and backfill.
 *
 * Every subscription is either live (new messages are sent as they arrive) or catching up (it is
 * fed from the ring as its socket drains, by a pump on a short timer: `_stream_catch_up.ts`). A
 * subscription that asked for a backfill starts catching up; a live one whose socket has
 * `client_buffered_bytes_max` queued falls back to catching up under `slow: "gap"`, or is closed
 * with 4008 under `"close"`. Catching up, if the ring evicts what a subscription has not yet been
 * sent, those seqs are counted as dropped and one `gap` notice is sent when the socket has room. So
 * a stalled client costs at most its socket's bound: the ring is shared and bounded on its own.
 *
 * What one socket can make the gateway do is bounded: `subs_per_socket_max` subscriptions (more are
 * refused with the reason), `client_messages_per_s_max` messages a second in (one more closes it
 * with 4029), and `client_buffered_bytes_max` bytes queued out (above, as above). Each close is
 * counted (`closed_slow`, `closed_rate`, `closed_malformed`).
 *
 * A message matching several subscriptions of one socket is sent once, under the first (by
 * subscription order) that covers its seq (`from < seq`).
 *
 * What a socket is sent waits for the end of the turn and goes out at once: as one `batch` to a
 * socket that asked for batches at its upgrade (`?batch=1`), one by one to any other
 * (`_stream_outbox.ts`). Waiting, it counts against the socket's bound as if queued.
 *
 * A subscription that asks for protocol version 2 is also told `live` (with the latest seq) when it
 * goes live, and `lag` (with the last seq it was handled up to) when it falls back to catching up,
 * so its client can keep a cursor per subscription that moves with every frame while it is live:
 * resumed from those cursors, each subscription gets what it missed and a quiet one is not sent a
 * gap for messages it never matched. Version 1 subscriptions get neither notice.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Registry } from "prom-client";
import { type WebSocket, WebSocketServer } from "ws";
import {
  type Bus,
  type BusSubscription,
  decodeStreamClientMessage,
  encodeStreamMsg,
  encodeStreamServerMessage,
  type HistoryRequest,
  STREAM_BATCH_PARAM,
  STREAM_CLOSE,
  STREAM_LIMITS,
  type StreamClientMessage,
  StreamProtocolError,
  type StreamSingleMessage,
  type StreamSubRequest,
} from "../../protocol/mod.ts";
import { binaryFrame, cutWhenStalled, SLOW_CLOSE_CHECK_MS } from "../socket/mod.ts";
import { refuse, truncate } from "../../actors/runtime/operations/mod.ts";
import { StreamCatchUp } from "./_stream_catch_up.ts";
import { queuedBytes, queuedWeight, StreamOutbox } from "./_stream_outbox.ts";
import { type Client, ownerOf, type Sub, type Tally } from "./_stream_state.ts";
import { StreamRing } from "./stream_ring.ts";
import { registerStreamMetrics, type StreamStats } from "./stream_metrics.ts";
import { admitToken, type Keyring, type TokenClaims } from "../session/mod.ts";
import {
  checkStreamPattern,
  compileChannelGlobs,
  filterMatches,
  STREAM_PREFIXES,
  type StreamFilter,
} from "../stream/mod.ts";

/** The gateway's bounds. */
export interface StreamGatewayLimits {
  /** Messages the ring keeps for resume and backfill: 65,536. */
  buffer_messages_max: number;
  /** ... and bytes: 64 MiB, whichever is reached first. */
  buffer_bytes_max: number;
  /** Bytes queued on one socket before its subscriptions fall back (or it is closed): 8 MiB. */
  client_buffered_bytes_max: number;
  /** A larger client message closes its socket (1009): 64 KiB. */
  message_bytes_max: number;
  /**
   * Messages one socket may send a second (subscribe, unsubscribe, ping), and as many at once:
   * 100 (a reconnect resubscribes up to 64 at once). One more closes it (4029), so that a client
   * cannot make the gateway do unbounded work.
   */
  client_messages_per_s_max: number;
  /** Open sockets: 1,000; more are refused with 503. */
  clients_max: number;
  /** Messages under this size are sent uncompressed: 1 KiB. */
  deflate_threshold_bytes: number;
  /**
   * Bytes of messages one batch holds, at most (more go in the next): 1 MiB, the bus's own bound
   * of a frame (DESIGN.md, "Validation"), so that a batch is no larger than what one message of
   * the cluster may be, and a page decodes no more in one task than a frame's worth.
   */
  batch_bytes_max: number;
  /** How often lagging subscriptions are fed from the ring: 20 ms. */
  pump_ms: number;
}

/** The defaults of StreamGatewayLimits. */
export const DEFAULT_STREAM_LIMITS: StreamGatewayLimits = {
  buffer_messages_max: 65_536,
  buffer_bytes_max: 64 << 20,
  client_buffered_bytes_max: 8 << 20,
  message_bytes_max: 64 << 10,
  client_messages_per_s_max: 100,
  clients_max: 1_000,
  deflate_threshold_bytes: 1 << 10,
  batch_bytes_max: 1 << 20,
  pump_ms: 20,
};

/** Options of `StreamGateway.start`. */
export interface StreamGatewayOptions {
  bus: Bus;
  keyring: Keyring;
  limits?: Partial<StreamGatewayLimits>;
  /** Milliseconds since the epoch (token expiry). */
  now?(): number;
}

/** The `/stream` endpoint: hand it the upgrades of that path. */
export class StreamGateway {
  readonly limits: StreamGatewayLimits;
  #options: StreamGatewayOptions;
  #now: () => number;
  #ring: StreamRing;
  #wss: WebSocketServer;
  #clients = new Set<Client>();
  #catchUp: StreamCatchUp;
  #outbox: StreamOutbox;
  /** Retired subscriptions so far (their keys in a socket's map are -1, -2, ...). */
  #retired = 0;
  #subs: BusSubscription[] = [];
  #pump: ReturnType<typeof setInterval>;
  #closed = false;
  #readHistory: ((request: HistoryRequest) => Promise<Uint8Array>) | undefined;
  #tally: Tally = {
    received: 0,
    relayed: 0,
    bytesOut: 0,
    droppedSlow: 0,
    gapsSent: 0,
    closedSlow: 0,
    closedMalformed: 0,
    closedRate: 0,
    batchesSent: 0,
    refused: {},
  };

  private constructor(options: StreamGatewayOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...options.limits };
    this.#ring = new StreamRing({
      messages_max: this.limits.buffer_messages_max,
      bytes_max: this.limits.buffer_bytes_max,
    });
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.limits.message_bytes_max,
      // Without context takeover, so that the threshold applies (ws compresses every message,
      // however small, when the window is kept) and no socket keeps a compression window.
      perMessageDeflate: {
        threshold: this.limits.deflate_threshold_bytes,
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
      },
    });
    this.#outbox = new StreamOutbox({
      tally: this.#tally,
      deflate_threshold_bytes: this.limits.deflate_threshold_bytes,
      batch_bytes_max: this.limits.batch_bytes_max,
    });
    this.#catchUp = new StreamCatchUp({
      ring: this.#ring,
      tally: this.#tally,
      client_buffered_bytes_max: this.limits.client_buffered_bytes_max,
      sender: {
        sendFrame: (client, frame) => this.#sendFrame(client, frame),
        send: (client, m) => this.#send(client, m),
        closeSlow: (client, buffered) => this.#closeSlow(client, buffered),
      },
    });
    this.#pump = setInterval(() => this.#catchUp.pumpAll(), this.limits.pump_ms);
    (this.#pump as { unref?: () => void }).unref?.();
  }

  /** Subscribes to the relayed prefixes on `options.bus` and returns the gateway. */
  static start(options: StreamGatewayOptions): StreamGateway {
    const gw = new StreamGateway(options);
    for (const prefix of STREAM_PREFIXES) {
      gw.#subs.push(options.bus.subscribe(prefix, (m) => gw.#onBus(m.subject, m.data)));
    }
    return gw;
  }

  /** What the gateway holds and has done (the numbers `/metrics` shows). */
  stats(): StreamStats {
    let subscriptions = 0;
    let buffered = 0;
    for (const c of this.#clients) {
      for (const s of c.subs.values()) if (s.retiredTo === undefined) subscriptions++;
      buffered = Math.max(buffered, queuedBytes(c));
    }
    const t = this.#tally;
    return {
      clients: this.#clients.size,
      subscriptions,
      lagging_clients: this.#catchUp.lagging.size,
      seq: this.#ring.latest,
      oldest: this.#ring.oldest,
      buffer_messages: this.#ring.size,
      buffer_bytes: this.#ring.bytes,
      client_buffered_bytes_max: buffered,
      received: t.received,
      relayed: t.relayed,
      bytes_out: t.bytesOut,
      dropped_slow: t.droppedSlow,
      gaps_sent: t.gapsSent,
      closed_slow: t.closedSlow,
      closed_malformed: t.closedMalformed,
      closed_rate: t.closedRate,
      batches_sent: t.batchesSent,
      refused: { ...t.refused },
    };
  }

  /** Adds the gateway's metrics (`troupe_stream_*`) to `registry` (the collab server's). */
  registerMetrics(registry: Registry): void {
    registerStreamMetrics(registry, () => this.stats());
  }

  /** Takes over an upgrade of `/stream`: checks the token (401 with the reason) and connects. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stream");
    if (this.#closed) return refuse(socket, 503, "Stream gateway shutting down");
    const claims = await admitToken(url, {
      keyring: this.#options.keyring,
      session: null,
      nowMs: this.#now(),
      onRefused: (reason) => {
        this.#tally.refused[reason] = (this.#tally.refused[reason] ?? 0) + 1;
      },
    }, (status, message) => refuse(socket, status, message));
    if (!claims) return;
    if (this.#clients.size >= this.limits.clients_max) {
      this.#tally.refused.full = (this.#tally.refused.full ?? 0) + 1;
      return refuse(socket, 503, `Stream gateway full: ${this.#clients.size} clients connected`);
    }
    const batches = url.searchParams.get(STREAM_BATCH_PARAM) === "1";
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, claims, batches));
  }

  /** Closes every socket (1001) and leaves the bus. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pump);
    for (const s of this.#subs) s.unsubscribe();
    for (const c of this.#clients) this.#close(c, 1001, "server shutting down");
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #onConnection(ws: WebSocket, claims: TokenClaims, batches: boolean): void {
    const client: Client = {
      ws,
      claims,
      subs: new Map(),
      closing: false,
      expiry: undefined,
      batches,
      outbox: [],
      outboxBytes: 0,
      allowance: this.limits.client_messages_per_s_max,
      allowanceAt: this.#now(),
    };
    this.#clients.add(client);
    this.#armExpiry(client);
    ws.on("message", (data, isBinary) => this.#onClientMessage(client, data, isBinary));
    ws.on("close", () => this.#forget(client));
    // ws closes the socket itself on a frame it cannot take (over maxPayload: 1009).
    ws.on("error", () => (client.closing = true));
  }

  /** Closes `client` with 4401 when its token expires (timers hold at most ~24.8 days). */
  #armExpiry(client: Client): void {
    const leftMs = client.claims.exp * 1000 - this.#now();
    client.expiry = setTimeout(() => {
      if (client.claims.exp * 1000 > this.#now()) return this.#armExpiry(client);
      const at = new Date(client.claims.exp * 1000).toISOString();
      this.#close(client, STREAM_CLOSE.token_expired, `token expired at ${at}`);
    }, Math.min(Math.max(0, leftMs), 2 ** 31 - 1));
  }

  #forget(client: Client): void {
    client.closing = true;
    clearTimeout(client.expiry);
    this.#clients.delete(client);
    this.#catchUp.lagging.delete(client);
  }

  #onClientMessage(client: Client, data: unknown, isBinary: boolean): void {
    if (client.closing) return;
    if (!this.#allow(client)) return;
    if (!isBinary) {
      this.#tally.closedMalformed++;
      return this.#close(client, STREAM_CLOSE.unsupported, "text frames are not taken");
    }
    let m: StreamClientMessage;
    try {
      m = decodeStreamClientMessage(toBytes(data));
    } catch (err) {
      if (!(err instanceof StreamProtocolError)) throw err;
      this.#tally.closedMalformed++;
      return this.#close(client, STREAM_CLOSE.malformed, err.message);
    }
    if (m.op === "ping") this.#send(client, { t: "pong", id: m.id });
    else if (m.op === "unsub") this.#unsubscribe(client, m.id);
    else if (m.op === "history") this.#history(client, m.id, m.request);
    else this.#subscribe(client, m);
  }

  /** Serves `{op: "history"}` with `read` (the collab server's history service) from now on. */
  serveHistory(read: (request: HistoryRequest) => Promise<Uint8Array>): void {
    this.#readHistory = read;
  }

  /** Answers a history request on the socket: the encoded response, or why not. */
  #history(client: Client, id: number, request: HistoryRequest): void {
    const read = this.#readHistory;
    if (!read) {
      return this.#send(client, {
        t: "history",
        id,
        error: "No history here: this collab server runs without NATS",
      });
    }
    read(request).then(
      (data) => this.#send(client, { t: "history", id, data }),
      (err) => this.#send(client, { t: "history", id, error: (err as Error).message }),
    );
  }

  /** Takes one message from `client`'s allowance; closes it (4029) when there is none left. */
  #allow(client: Client): boolean {
    const rate = this.limits.client_messages_per_s_max;
    const now = this.#now();
    client.allowance = Math.min(
      rate,
      client.allowance + ((now - client.allowanceAt) * rate) / 1000,
    );
    client.allowanceAt = now;
    if (client.allowance >= 1) {
      client.allowance--;
      return true;
    }
    this.#tally.closedRate++;
    this.#close(
      client,
      STREAM_CLOSE.rate_limited,
      `too many messages: more than ${rate} a second from this socket`,
    );
    return false;
  }

  /**
   * Ends subscription `id`. One still catching up may own messages it has not sent (the later
   * subscriptions of the socket that match them left them to it, and a live one's client cursor
   * has moved past them): it is retired instead, and the pump hands each such message to the
   * subscription that owns it without it (or tells them of what the ring evicted meanwhile).
   */
  #unsubscribe(client: Client, id: number): void {
    const sub = client.subs.get(id);
    if (!sub) {
      return this.#send(client, { t: "err", id, reason: `No subscription ${id} to end` });
    }
    const latest = this.#ring.latest;
    if (sub.live || sub.cursor >= latest) return void client.subs.delete(id);
    sub.retiredTo = latest;
    // Its place in the order stays (ownership goes by it); its id is free for a new subscription.
    const key = -++this.#retired;
    client.subs = new Map([...client.subs].map(([k, s]) => [s === sub ? key : k, s]));
  }

  #subscribe(client: Client, m: StreamSubRequest): void {
    if (client.subs.has(m.id)) {
      return this.#send(client, {
        t: "err",
        id: m.id,
        reason: `Subscription id ${m.id} is in use`,
      });
    }
    let taken = 0;
    for (const s of client.subs.values()) if (s.retiredTo === undefined) taken++;
    if (taken >= STREAM_LIMITS.subs_per_socket_max) {
      const reason = `At most ${STREAM_LIMITS.subs_per_socket_max} subscriptions per socket`;
      return this.#send(client, { t: "err", id: m.id, reason });
    }
    try {
      m.subjects.forEach((p) => checkStreamPattern(p));
    } catch (err) {
      if (!(err instanceof StreamProtocolError)) throw err;
      return this.#send(client, { t: "err", id: m.id, reason: err.message });
    }
    const latest = this.#ring.latest;
    const filter: StreamFilter = m.channels
      ? { subjects: m.subjects, channels: compileChannelGlobs(m.channels) }
      : { subjects: m.subjects };
    // A `since` past the latest seq comes from before this gateway restarted: all of it is new.
    let from = m.since === undefined ? latest : m.since > latest ? 0 : m.since;
    if (m.last !== undefined) from = Math.max(from, this.#lastStart(filter, m.last));
    const sub: Sub = {
      id: m.id,
      filter,
      key: JSON.stringify([m.subjects, m.channels ?? null]),
      slow: m.slow ?? "gap",
      notices: (m.v ?? 1) >= 2,
      from,
      live: from === latest,
      cursor: from,
      gap: undefined,
      retiredTo: undefined,
    };
    client.subs.set(m.id, sub);
    this.#send(client, { t: "ok", id: m.id, seq: latest, oldest: this.#ring.oldest });
    if (sub.live && sub.notices) this.#send(client, { t: "live", sub: m.id, seq: latest });
    if (!sub.live) {
      this.#catchUp.lagging.add(client);
      this.#catchUp.pumpClient(client);
    }
  }

  /** The seq after which at most `last` held messages match `filter` (a snapshot's start). */
  #lastStart(filter: StreamFilter, last: number): number {
    const oldest = this.#ring.oldest;
    let n = 0;
    for (let seq = this.#ring.latest; seq >= oldest; seq--) {
      const e = this.#ring.get(seq);
      if (e !== undefined && filterMatches(filter, e.subject) && ++n > last) return seq;
    }
    return oldest - 1;
  }

  /**
   * A message from the bus: numbered, kept, and sent to every live subscription it is for.
   * Requests (the incident stage's list, a collab node's catch-up) are not news and do not come
   * here: they live under `troupe.req.`, which no prefix covers, so that NATS can tell an asker at
   * once that nobody answers.
   */
  #onBus(subject: string, data: Uint8Array): void {
    if (this.#closed) return;
    const entry = this.#ring.push(subject, data);
    this.#tally.received++;
    const matches = new Map<string, boolean>();
    // One payload and one WebSocket frame per subscription id, shared by every socket (the frame
    // only once a socket sent messages one by one wants it).
    const frames = new Map<number, { payload: Uint8Array; wire: Uint8Array | undefined }>();
    const bound = this.limits.client_buffered_bytes_max;
    for (const c of this.#clients) {
      if (c.closing || c.subs.size === 0) continue;
      const owner = ownerOf(c, entry, matches);
      if (!owner?.live) continue;
      let frame = frames.get(owner.id);
      if (!frame) {
        const payload = encodeStreamMsg(entry.seq, owner.id, subject, entry.data);
        frames.set(owner.id, frame = { payload, wire: undefined });
      }
      const buffered = queuedBytes(c);
      if (buffered + queuedWeight(frame.payload) <= bound) {
        if (!c.batches) frame.wire ??= binaryFrame(frame.payload);
        this.#sendFrame(c, frame.payload, frame.wire);
      } else if (owner.slow === "close") {
        this.#closeSlow(c, buffered);
      } else {
        owner.live = false;
        owner.cursor = entry.seq - 1;
        this.#catchUp.lagging.add(c);
        // Past the bound on purpose (a few bytes, once per fall): the client must know before
        // any later frame moves this subscription's cursor.
        if (owner.notices) {
          const lag = encodeStreamServerMessage({ t: "lag", sub: owner.id, seq: owner.cursor });
          this.#outbox.queue(c, lag);
        }
      }
    }
  }

  /** Sends one `msg` (with its WebSocket frame, `wire`, when built once for every socket). */
  #sendFrame(client: Client, frame: Uint8Array, wire?: Uint8Array): void {
    this.#outbox.queue(client, frame, wire);
    this.#tally.relayed++;
    this.#tally.bytesOut += frame.length;
  }

  #send(client: Client, m: StreamSingleMessage): void {
    if (client.closing) return;
    // Replies count against the bound too: a client that pings and never reads is a slow one.
    const buffered = queuedBytes(client);
    if (buffered > this.limits.client_buffered_bytes_max) return this.#closeSlow(client, buffered);
    this.#outbox.queue(client, encodeStreamServerMessage(m));
  }

  #closeSlow(client: Client, buffered: number): void {
    this.#tally.closedSlow++;
    const bound = this.limits.client_buffered_bytes_max;
    const why = `slow consumer: ${buffered} bytes buffered, bound ${bound}`;
    // Its close frame waits behind what it has not read: cut it only once it stops reading, so
    // that a client that reads again, however late, gets the 4008 and why.
    if (this.#closeOnly(client, STREAM_CLOSE.slow_consumer, why)) {
      cutWhenStalled(client.ws, SLOW_CLOSE_CHECK_MS);
    }
  }

  #close(client: Client, code: number, reason: string): void {
    if (!this.#closeOnly(client, code, reason)) return;
    // A client that does not read may never complete the closing handshake.
    setTimeout(() => client.ws.terminate(), 2_000).unref?.();
  }

  /** Starts closing `client`; false when it was closing already. */
  #closeOnly(client: Client, code: number, reason: string): boolean {
    if (client.closing) return false;
    // What it was sent this turn goes before its close frame.
    this.#outbox.flush(client);
    client.closing = true;
    this.#catchUp.lagging.delete(client);
    client.ws.close(code, truncate(reason, 120));
    return true;
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data as Buffer[]));
  return new Uint8Array(data as ArrayBuffer);
}
