/**
 * A client of the stream gateway (`ws://HOST:PORT/stream?token=T`) for the browser, Node and Deno:
 * it takes a WebSocket constructor (the global one in browsers and Deno, `ws`'s on Node 20),
 * subscribes, remembers the last seq it handed over, reconnects with backoff and resumes every
 * subscription with `since`, and hands decoded `msg` and `gap` to callbacks. No `node:` import, so
 * esbuild bundles it for the browser.
 *
 * Resume is exact with several subscriptions (protocol version 2): each keeps its own cursor, the
 * seq up to which the gateway has handled it. It moves with the subscription's own frames and gap
 * notices, and, between the gateway's `live` and `lag` notices for it, with every frame the socket
 * receives (a live subscription has been handled up to whatever the socket was last sent). Each
 * subscription resumes from its cursor, so a quiet live one resumes from near the latest seq and is
 * sent no false gap. A message can then come again under another subscription (the one that now
 * owns it on the gateway); the client drops it by its seq (`stream_seen.ts`).
 *
 * It asks for batches (protocol/stream_batch.ts): what the gateway sends in one turn comes as one
 * WebSocket message, whose messages are handed over one by one, in order, as if each had come
 * alone (a gateway that does not know batches sends them alone).
 */
import type { HistoryRequest } from "../../protocol/mod.ts";
import { SeenSeqs } from "./stream_seen.ts";
import {
  decodeStreamServerMessage,
  encodeStreamClientMessage,
  type SlowPolicy,
  STREAM_BATCH_PARAM,
  STREAM_PROTOCOL_VERSION,
  type StreamGap,
  type StreamHistory,
  type StreamMsg,
  StreamProtocolError,
  type StreamServerMessage,
  type StreamSingleMessage,
  type StreamSubRequest,
} from "../../protocol/mod.ts";
import { checkStreamPattern } from "./stream_pattern.ts";

/** How long the page waits for a history answer, on the stream socket or over HTTP
 *  (collab/web/browser/link/history_client.ts): 10 s. */
export const HISTORY_TIMEOUT_MS = 10_000;

/** The part of a WebSocket this client uses (the WHATWG one, which `ws` also implements). */
export interface StreamSocket {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from the `ws` package. */
export type StreamSocketConstructor = new (url: string) => StreamSocket;

/** What to subscribe to. */
export interface StreamSubscription {
  /**
   * NATS subject patterns inside `troupe.out.>`, `troupe.finding.>`, `troupe.dlq.>`,
   * `troupe.sys.>`, `troupe.scan.*.results`.
   */
  subjects: string[];
  /** Channel globs (`*` = any run of characters) matched against the subject's last token. */
  channels?: string[];
  /** Falling behind: `"gap"` (default) drops and sends a gap notice, `"close"` closes (4008). */
  slow?: SlowPolicy;
  /** Resume after this seq on the first connection (0: the whole buffer that matches). */
  since?: number;
  /** On the first connection, at most the newest `last` held messages that match (a snapshot). */
  last?: number;
}

/** The state a client reports through `onStatus`. */
export type StreamStatus = "connecting" | "open" | "closed";

/** Options of `StreamClient`. */
export interface StreamClientOptions {
  /** `ws://HOST:PORT/stream` (the token is added as a query parameter). */
  url: string;
  token: string;
  WebSocket: StreamSocketConstructor;
  onMessage?(m: StreamMsg): void;
  onGap?(g: StreamGap): void;
  /**
   * A subscription taken by the server: `seq` its latest seq then, `oldest` the oldest it holds.
   */
  onSubscribed?(id: number, seq: number, oldest: number): void;
  /** A subscription caught up and live: everything it matched up to `seq` has been handed over. */
  onLive?(id: number, seq: number): void;
  /** A subscription refused by the server (the socket stays open). */
  onRefused?(id: number, reason: string): void;
  onStatus?(status: StreamStatus, detail?: { code: number; reason: string }): void;
  /** Reconnect after a close (default true); the delay doubles from min to max. */
  reconnect?: boolean;
  backoff_ms_min?: number;
  backoff_ms_max?: number;
  /**
   * Whether a close code ends the client instead of reconnecting. Default: 1003/1007/1008/1009
   * and 4029 (this client's own fault: a bad or too large message, too many messages a second),
   * 4008 under `slow: "close"` and 4401 (token expired).
   */
  isFinal?(code: number): boolean;
}

const FINAL_CODES = new Set([1003, 1007, 1008, 1009, 4008, 4029, 4401]);

interface Sub {
  request: StreamSubRequest;
  /** The `since` to send on the first connection (later ones resume from the cursor). */
  initialSince: number | undefined;
  /** The `last` of the first connection (a resume wants everything after its cursor). */
  initialLast: number | undefined;
  /** The `since` sent on this connection. */
  sentSince: number | undefined;
  /** The seq up to which the gateway has handled it (while live, see #cursorOf). */
  cursor: number | undefined;
  /** Between the gateway's `live` and `lag` (or the socket's close). */
  live: boolean;
}

/** A reconnecting, resuming client of the stream gateway. */
export class StreamClient {
  #options: StreamClientOptions;
  #subs = new Map<number, Sub>();
  #nextId = 1;
  #ws: StreamSocket | undefined;
  #lastSeq: number | undefined;
  /** The highest seq of a frame received on this connection (0: none). */
  #frameHigh = 0;
  #seen = new SeenSeqs();
  #duplicates = 0;
  /** A restarted gateway was noticed on this connection (its seqs start from 1 again). */
  #restartSeen = false;
  #closed = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pings = new Map<number, () => void>();
  #nextHistory = 1;
  /** History requests waiting for their answer, by id. */
  #histories = new Map<number, (m: StreamHistory) => void>();
  #nextPing = 1;

  constructor(options: StreamClientOptions) {
    if (!options.url || typeof options.url !== "string") {
      throw new TypeError(`StreamClient needs a url, got ${JSON.stringify(options.url)}`);
    }
    this.#options = options;
    this.#connect();
  }

  /** The highest seq handed to `onMessage` (or named by a gap), if any. */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /**
   * Messages dropped because their seq had been handed over already (under another subscription).
   */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** The seq up to which subscription `id` has been handled (what it resumes after). */
  cursorOf(id: number): number | undefined {
    const sub = this.#subs.get(id);
    return sub && this.#cursorOf(sub);
  }

  /** Whether the socket is open now. */
  get open(): boolean {
    return this.#ws !== undefined && this.#ws.readyState === 1;
  }

  /** Subscribes (now if open, else on connecting) and returns the subscription's id. */
  subscribe(sub: StreamSubscription): number {
    if (!Array.isArray(sub.subjects)) {
      throw new StreamProtocolError(
        "subjects",
        sub.subjects,
        "subscribe() needs subjects: an array of patterns",
      );
    }
    sub.subjects.forEach((p) => checkStreamPattern(p));
    const id = this.#nextId++;
    const request: StreamSubRequest = { op: "sub", id, subjects: [...sub.subjects] };
    if (sub.channels) request.channels = [...sub.channels];
    if (sub.slow) request.slow = sub.slow;
    this.#subs.set(id, {
      request,
      initialSince: sub.since,
      initialLast: sub.last,
      sentSince: undefined,
      cursor: undefined,
      live: false,
    });
    if (this.open) this.#sendSub(id);
    return id;
  }

  /** Ends a subscription. */
  unsubscribe(id: number): void {
    if (!this.#subs.delete(id)) return;
    if (this.open) this.#ws!.send(encodeStreamClientMessage({ op: "unsub", id }));
  }

  /** Resolves with the round trip in milliseconds; rejects if the socket closes first. */
  ping(): Promise<number> {
    if (!this.open) {
      return Promise.reject(new Error("Cannot ping the stream gateway: not connected"));
    }
    const id = this.#nextPing++;
    const started = Date.now();
    return new Promise((resolve) => {
      this.#pings.set(id, () => resolve(Date.now() - started));
      this.#ws!.send(encodeStreamClientMessage({ op: "ping", id }));
    });
  }

  /**
   * The WebSocket form of `GET /history` on this socket: resolves with the encoded
   * HistoryResponse (`decodeHistoryResponse` reads it), rejects with the gateway's reason, or
   * when the socket closes or `timeoutMs` (10 s) passes first.
   */
  history(request: HistoryRequest, timeoutMs = HISTORY_TIMEOUT_MS): Promise<Uint8Array> {
    if (!this.open) {
      return Promise.reject(new Error("Cannot ask the stream gateway for history: not connected"));
    }
    const id = this.#nextHistory++;
    let message: Uint8Array;
    try {
      message = encodeStreamClientMessage({ op: "history", id, request });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#histories.delete(id);
        reject(new Error(`No history answer from the stream gateway within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#histories.set(id, (m) => {
        clearTimeout(timer);
        if ("data" in m) resolve(m.data);
        else reject(new Error(m.error));
      });
      this.#ws!.send(message);
    });
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#ws?.close(1000, "client closed");
    this.#ws = undefined;
  }

  #connect(): void {
    if (this.#closed) return;
    const { url, token } = this.#options;
    const sep = url.includes("?") ? "&" : "?";
    this.#options.onStatus?.("connecting");
    const ws = new this.#options.WebSocket(
      `${url}${sep}token=${encodeURIComponent(token)}&${STREAM_BATCH_PARAM}=1`,
    );
    // Browsers and Deno hand over Blobs by default; ws hands over Buffers, which need no copy.
    if (ws.binaryType === "blob") ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => {
      this.#attempt = 0;
      this.#endConnection();
      this.#restartSeen = false;
      this.#options.onStatus?.("open");
      for (const id of this.#subs.keys()) this.#sendSub(id);
    };
    // ws (Node) builds a MessageEvent per message for `onmessage`; its own emitter does not.
    const emitter = ws as unknown as { on?: (e: string, f: (d: unknown) => void) => void };
    if (typeof emitter.on === "function") emitter.on("message", (data) => this.#onData(data));
    else ws.onmessage = (ev) => this.#onData(ev.data);
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      this.#pings.clear();
      const gone: StreamHistory = { t: "history", id: 0, error: "the stream socket closed" };
      for (const answer of this.#histories.values()) answer(gone);
      this.#histories.clear();
      this.#endConnection();
      this.#options.onStatus?.("closed", { code: ev.code, reason: ev.reason });
      const final = (this.#options.isFinal ?? ((c: number) => FINAL_CODES.has(c)))(ev.code);
      if (this.#closed || final || this.#options.reconnect === false) {
        this.#closed = true;
        return;
      }
      const min = this.#options.backoff_ms_min ?? 250;
      const max = this.#options.backoff_ms_max ?? 10_000;
      const delay = Math.min(max, min * 2 ** this.#attempt++);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }

  /** Folds the connection's frames into the live subscriptions' cursors; none is live now. */
  #endConnection(): void {
    for (const sub of this.#subs.values()) {
      sub.cursor = this.#cursorOf(sub);
      sub.live = false;
    }
    this.#frameHigh = 0;
  }

  #cursorOf(sub: Sub): number | undefined {
    if (!sub.live) return sub.cursor;
    return sub.cursor === undefined ? this.#frameHigh : Math.max(sub.cursor, this.#frameHigh);
  }

  #sendSub(id: number): void {
    const sub = this.#subs.get(id)!;
    const since = sub.cursor ?? sub.initialSince;
    sub.sentSince = since;
    const request: StreamSubRequest = { ...sub.request, v: STREAM_PROTOCOL_VERSION };
    if (since !== undefined) request.since = since;
    if (sub.cursor === undefined && sub.initialLast !== undefined) request.last = sub.initialLast;
    this.#ws!.send(encodeStreamClientMessage(request));
  }

  #onMsg(m: StreamMsg): void {
    if (m.seq > this.#frameHigh) this.#frameHigh = m.seq;
    const sub = this.#subs.get(m.sub);
    if (sub && !sub.live && (sub.cursor === undefined || m.seq > sub.cursor)) sub.cursor = m.seq;
    if (!this.#seen.add(m.seq)) return void this.#duplicates++;
    // Backfills of several subscriptions interleave seqs; lastSeq is the highest seen.
    if (this.#lastSeq === undefined || m.seq > this.#lastSeq) this.#lastSeq = m.seq;
    this.#options.onMessage?.(m);
  }

  /** `live` and `lag`: the subscription's cursor is `seq`, and moves with every frame if live. */
  #onLiveOrLag(id: number, seq: number, live: boolean): void {
    const sub = this.#subs.get(id);
    if (!sub) return;
    const cursor = this.#cursorOf(sub);
    sub.cursor = cursor === undefined ? seq : Math.max(cursor, seq);
    sub.live = live;
    if (live) this.#options.onLive?.(id, seq);
  }

  /** A gateway that restarted numbers from 1 again: forget every cursor and seq seen. */
  #onRestart(): void {
    this.#restartSeen = true;
    this.#lastSeq = undefined;
    this.#frameHigh = 0;
    this.#seen.clear();
    for (const sub of this.#subs.values()) (sub.cursor = undefined), (sub.live = false);
  }

  #onData(data: unknown): void {
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : data instanceof Uint8Array
      ? data
      : undefined;
    let m: StreamServerMessage;
    try {
      if (!bytes) throw new StreamProtocolError("message", typeof data, "must be binary");
      m = decodeStreamServerMessage(bytes);
    } catch (err) {
      this.#ws?.close(1007, (err as Error).message.slice(0, 120));
      return;
    }
    if (m.t !== "batch") return this.#onServerMessage(m);
    for (const one of m.messages) {
      // A handler may close the client: what follows in the batch is not handed over then.
      if (this.#closed) return;
      this.#onServerMessage(one);
    }
  }

  #onServerMessage(m: StreamSingleMessage): void {
    switch (m.t) {
      case "msg":
        this.#onMsg(m);
        break;
      case "gap": {
        const sub = this.#subs.get(m.sub);
        if (sub && (sub.cursor === undefined || m.to > sub.cursor)) sub.cursor = m.to;
        if (this.#lastSeq === undefined || m.to > this.#lastSeq) this.#lastSeq = m.to;
        this.#options.onGap?.(m);
        break;
      }
      case "live":
      case "lag":
        this.#onLiveOrLag(m.sub, m.seq, m.t === "live");
        break;
      case "err":
        this.#subs.delete(m.id);
        this.#options.onRefused?.(m.id, m.reason);
        break;
      case "pong":
        this.#pings.get(m.id)?.();
        this.#pings.delete(m.id);
        break;
      case "history":
        this.#histories.get(m.id)?.(m);
        this.#histories.delete(m.id);
        break;
      case "ok": {
        const sub = this.#subs.get(m.id);
        if (!sub) break;
        // A gateway that restarted numbers from 1 again: its seq is below what this client saw.
        if (sub.sentSince !== undefined && m.seq < sub.sentSince && !this.#restartSeen) {
          this.#onRestart();
        }
        // Live only: nothing before the gateway's seq now is wanted, so resume from there.
        if (sub.sentSince === undefined && this.#lastSeq === undefined) this.#lastSeq = m.seq;
        this.#options.onSubscribed?.(m.id, m.seq, m.oldest);
        break;
      }
    }
  }
}
