/// <reference lib="dom" />
/**
 * The page's connection to the stream gateway (`/stream`, see the gateway's wire protocol): one
 * subscription to what the dashboard shows, the last sequence seen remembered, and on a dropped
 * socket a reconnect with backoff that resumes with `since`, so the charts get what they missed
 * from the gateway's buffer. Messages are msgpack maps both ways, decoded with protocol/.
 */
import { decodeValue, encodeValue } from "../../../protocol/mod.ts";

/** What the dashboard subscribes to. */
export const DASHBOARD_SUBJECTS = [
  "troupe.out.>",
  "troupe.dlq.>",
  "troupe.sys.>",
] as const;

/** Options of a StreamLink. */
export interface StreamLinkOptions {
  /** `ws://host:port/stream?token=...` */
  url: string;
  subjects?: readonly string[];
  /** A gateway message: its subject and raw payload (an envelope or a columns frame). */
  onMessage(subject: string, data: Uint8Array, seq: number): void;
  /** Messages that will not come (the buffer had moved on, or this page fell behind). */
  onGap?(missed: number): void;
  onStatus?(status: "up" | "down", detail: string): void;
  /** Reconnect delays grow to this: 5 s. */
  backoff_ms_max?: number;
}

export class StreamLink {
  readonly #options: StreamLinkOptions;
  #ws: WebSocket | undefined;
  #lastSeq = 0;
  #attempt = 0;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Messages received (tests and the status line read it). */
  received = 0;

  constructor(options: StreamLinkOptions) {
    this.#options = options;
    this.#connect();
  }

  /** The last sequence received. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.close(1000, "page closed");
  }

  #connect(): void {
    const ws = new WebSocket(this.#options.url);
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => {
      this.#attempt = 0;
      ws.send(
        encodeValue({
          op: "sub",
          id: 1,
          subjects: [...(this.#options.subjects ?? DASHBOARD_SUBJECTS)],
          since: this.#lastSeq,
          slow: "gap",
        }) as Uint8Array<ArrayBuffer>,
      );
    };
    ws.onmessage = (ev) => this.#onMessage(new Uint8Array(ev.data as ArrayBuffer));
    ws.onclose = (ev) => {
      this.#options.onStatus?.("down", `closed ${ev.code} ${ev.reason}`);
      if (this.#closed) return;
      const delay = Math.min(this.#options.backoff_ms_max ?? 5000, 200 * 2 ** this.#attempt++);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }

  #onMessage(bytes: Uint8Array): void {
    const m = decodeValue(bytes) as Record<string, unknown>;
    switch (m.t) {
      case "msg": {
        const seq = Number(m.seq);
        if (seq <= this.#lastSeq) return;
        this.#lastSeq = seq;
        this.received++;
        this.#options.onMessage(String(m.subject), m.data as Uint8Array, seq);
        return;
      }
      case "gap":
        this.#options.onGap?.(Number(m.missed));
        return;
      case "ok":
        this.#options.onStatus?.("up", `subscribed at seq ${m.seq}`);
        return;
      case "err":
        this.#options.onStatus?.("down", `refused: ${m.reason}`);
        return;
    }
  }
}
