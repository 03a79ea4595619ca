/**
 * The in-process Bus: the embedded default when no NATS server is at hand, and the basis of the
 * simulated bus. It matches subjects exactly as NATS does (`*`, `>`, queue groups that hand each
 * message to one member) and delivers asynchronously, in publish order, like a NATS connection:
 * a handler never runs inside `publish`, so a handler that publishes cannot recurse.
 */
import { setImmediate } from "node:timers";
import {
  type Bus,
  type BusHandler,
  type BusMessage,
  BusRequestError,
  type BusSubscription,
  type PublishOptions,
  type RequestOptions,
  subjectMatches,
  type SubscribeOptions,
} from "../../../protocol/mod.ts";
import { type FanOut, fanOut } from "./queue_groups.ts";

interface Sub {
  id: number;
  pattern: string;
  queue: string | undefined;
  handler: BusHandler;
  active: boolean;
}

/** Options of the in-process bus. */
export interface InProcessBusOptions {
  /** Messages published but not yet delivered beyond which `publish` throws. */
  pendingMax?: number;
  /** Called when a handler throws; defaults to console.error. */
  onHandlerError?(err: unknown, msg: BusMessage): void;
}

/** Raised by `publish` when the bus is closed or its queue is full. */
export class BusClosedError extends Error {
  override name = "BusClosedError";
}

/** An in-process Bus with NATS subject semantics. */
export class InProcessBus implements Bus {
  #subs: Sub[] = [];
  #route = new Map<string, Sub[]>();
  #rr = new Map<string, number>();
  #pending: BusMessage[] = [];
  #head = 0;
  #scheduled = false;
  #idle: Array<() => void> = [];
  #nextId = 1;
  #inbox = 0;
  #closed = false;
  readonly #pendingMax: number;
  readonly #onHandlerError: (err: unknown, msg: BusMessage) => void;
  /** Messages delivered to at least one subscriber, and those that matched none. */
  readonly counters = { published: 0, delivered: 0, unrouted: 0 };

  constructor(options: InProcessBusOptions = {}) {
    this.#pendingMax = options.pendingMax ?? 1_000_000;
    this.#onHandlerError = options.onHandlerError ??
      ((err, msg) => console.error(`Handler for "${msg.subject}" threw:`, err));
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    if (this.#closed) throw new BusClosedError(`Cannot publish on "${subject}": the bus is closed`);
    if (this.#pending.length - this.#head >= this.#pendingMax) {
      throw new BusClosedError(
        `Cannot publish on "${subject}": ${this.#pendingMax} messages are waiting for delivery`,
      );
    }
    this.counters.published++;
    this.#pending.push({ subject, data, headers: options.headers, reply: options.reply });
    this.#schedule();
  }

  subscribe(pattern: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    const sub: Sub = { id: this.#nextId++, pattern, queue: options.queue, handler, active: true };
    this.#subs.push(sub);
    this.#route.clear();
    return {
      unsubscribe: () => {
        if (!sub.active) return;
        sub.active = false;
        this.#subs = this.#subs.filter((s) => s !== sub);
        this.#route.clear();
      },
    };
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const inbox = `_INBOX.${++this.#inbox}`;
    if (this.#match(subject).length === 0) {
      return Promise.reject(
        new BusRequestError(subject, `No responders on "${subject}"`, { noResponders: true }),
      );
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(
          new BusRequestError(
            subject,
            `Request on "${subject}" timed out after ${options.timeout} ms`,
          ),
        );
      }, options.timeout);
      const sub = this.subscribe(inbox, (msg) => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(msg);
      });
      const publishOptions: PublishOptions = { reply: inbox };
      if (options.headers) publishOptions.headers = options.headers;
      this.publish(subject, data, publishOptions);
    });
  }

  flush(): Promise<void> {
    if (this.#head >= this.#pending.length) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#subs = [];
    this.#route.clear();
  }

  /** Subscribers whose pattern matches `subject` (cached until subscriptions change). */
  #match(subject: string): Sub[] {
    let subs = this.#route.get(subject);
    if (subs === undefined) {
      subs = this.#subs.filter((s) => subjectMatches(s.pattern, subject));
      if (this.#route.size > 100_000) this.#route.clear();
      this.#route.set(subject, subs);
    }
    return subs;
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain() {
    this.#scheduled = false;
    // Deliver what is queued now, in order; what handlers publish joins the end of the queue.
    const deadline = performance.now() + 20;
    while (this.#head < this.#pending.length) {
      const msg = this.#pending[this.#head++]!;
      this.#deliver(msg);
      if (performance.now() > deadline) break; // let timers and I/O breathe
    }
    if (this.#head >= this.#pending.length) {
      this.#pending = [];
      this.#head = 0;
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    } else {
      if (this.#head > 4096) {
        this.#pending = this.#pending.slice(this.#head);
        this.#head = 0;
      }
      this.#schedule();
    }
  }

  #deliver(msg: BusMessage) {
    const subs = this.#match(msg.subject);
    if (subs.length === 0) {
      this.counters.unrouted++;
      return;
    }
    this.counters.delivered++;
    fanOut(subs, msg, this.#fanOut);
  }

  /** Round robin over each queue group's members; unsubscribed ones take no part. */
  readonly #fanOut: FanOut<Sub, BusMessage> = {
    deliver: (sub, msg) => this.#call(sub, msg),
    pick: (queue, members) => {
      const n = this.#rr.get(queue) ?? 0;
      this.#rr.set(queue, n + 1);
      return members[n % members.length]!;
    },
    active: (sub) => sub.active,
  };

  #call(sub: Sub, msg: BusMessage) {
    try {
      sub.handler(msg);
    } catch (err) {
      this.#onHandlerError(err, msg);
    }
  }
}
