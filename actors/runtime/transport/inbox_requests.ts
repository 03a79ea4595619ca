/**
 * Requests answered on one inbox subscription: each a plain publish whose reply subject carries
 * its number, a map of what waits, and one sweep timer for the timeouts. What a bus's `request`
 * goes through on NATS (a receiver's journal appends, a channel's labels put).
 *
 * Not `NatsConnection.request`: for each request it arms a timer of its own, and once answered it
 * cancels the request by making an error with a stack trace (nats.js 3's `RequestOne.cancel`,
 * whatever `noAsyncTraces` says): a receiver taking new channels makes a request per journal
 * append and per labels put, and paid that for each (docs/performance.md has the figures). What
 * it does besides is kept: an answer with status 503 and no data is a no-responders error; a
 * publish the server refuses for want of permission fails the requests on that subject at once;
 * a request in flight at a disconnect fails then (`RequestLostError`), one made while the
 * connection is away waits for it (`RequestNotSentError` after its timeout), as
 * connection_loss.ts does for nats.js's requests.
 */
import {
  createInbox,
  type Msg,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import { onDisconnect, RequestLostError, untilServer } from "./connection_loss.ts";
import { type HeaderPairs, PlainPublisher } from "./_plain_publisher.ts";

/** A request's answer did not come in its timeout. */
export class InboxTimeoutError extends Error {
  override name = "TimeoutError";
}

/** No subscriber took the request (the server's 503 answer). */
export class InboxNoRespondersError extends Error {
  override name = "NoResponders";
}

/** A request waiting for its answer. */
interface Waiting {
  subject: string;
  dueMs: number;
  resolve(msg: Msg): void;
  reject(err: Error): void;
}

/** How often timeouts are looked for, ms: the precision of a request's timeout. */
const SWEEP_MS = 50;

/** Requests on `nc`, answered on one inbox. */
export class InboxRequests {
  readonly #nc: NatsConnection;
  readonly #publisher: PlainPublisher;
  readonly #inbox = createInbox();
  readonly #prefixLength: number;
  readonly #sub: Subscription;
  readonly #waiting = new Map<number, Waiting>();
  readonly #stopWatching: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #next = 0;
  #closed = false;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#publisher = new PlainPublisher(nc);
    this.#prefixLength = this.#inbox.length + 1;
    this.#sub = nc.subscribe(`${this.#inbox}.*`, {
      callback: (err, msg) => {
        if (err === null) this.#answered(msg);
      },
    });
    this.#stopWatching = onDisconnect(nc, (err) => this.#failAll(err));
    void this.#permissions();
  }

  /**
   * Publishes `data` on `subject` and resolves with the first answer; rejects after `timeoutMs`
   * (InboxTimeoutError), on a 503 answer (InboxNoRespondersError), or as the connection says.
   * `headers` are written with the request's line, not made a nats.js object.
   */
  request(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers?: HeaderPairs,
  ): Promise<Msg> {
    if (this.#closed) return Promise.reject(new Error("the connection's requests are closed"));
    const held = untilServer(this.#nc, timeoutMs, `get an answer on "${subject}"`);
    if (held !== undefined) return held.then(() => this.#send(subject, data, timeoutMs, headers));
    return this.#send(subject, data, timeoutMs, headers);
  }

  /** Requests waiting for their answer. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Fails what waits and stops. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopWatching();
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#nc.isClosed()) this.#sub.unsubscribe();
    this.#failAll(new RequestLostError("its requests were closed"));
  }

  #send(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers?: HeaderPairs,
  ): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      const n = ++this.#next;
      this.#waiting.set(n, { subject, dueMs: performance.now() + timeoutMs, resolve, reject });
      try {
        this.#publisher.publish(subject, data, `${this.#inbox}.${n}`, headers);
      } catch (err) {
        this.#waiting.delete(n);
        reject(err as Error);
        return;
      }
      this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS);
    });
  }

  #answered(msg: Msg): void {
    const n = Number(msg.subject.slice(this.#prefixLength));
    const w = this.#waiting.get(n);
    if (w === undefined) return; // late: it timed out
    this.#waiting.delete(n);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      w.reject(new InboxNoRespondersError(`no responders: '${w.subject}'`));
    } else {
      w.resolve(msg);
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const [n, w] of this.#waiting) {
      if (w.dueMs > now) continue;
      this.#waiting.delete(n);
      w.reject(new InboxTimeoutError("timeout"));
    }
    if (this.#waiting.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Fails what waits: the connection lost its server, or the requests were closed. */
  #failAll(err: RequestLostError): void {
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of all) {
      w.reject(
        new RequestLostError(
          `Cannot get an answer on "${w.subject}": ${err.message} before its answer`,
          { cause: err },
        ),
      );
    }
  }

  /** Fails at once the requests on a subject the server refused this connection to publish on. */
  async #permissions(): Promise<void> {
    try {
      for await (const s of this.#nc.status()) {
        if (this.#closed) return;
        if (s.type !== "error") continue;
        const e = s.error as { name?: string; operation?: string; subject?: string };
        if (e.name !== "PermissionViolationError" || e.operation !== "publish") continue;
        for (const [n, w] of this.#waiting) {
          if (w.subject !== e.subject) continue;
          this.#waiting.delete(n);
          w.reject(s.error as Error);
        }
      }
    } catch {
      // The connection closed: nothing more to watch.
    }
  }
}
