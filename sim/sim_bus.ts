/**
 * The simulated bus: a NATS server and the network around it, on virtual time. Each simulated
 * process connects with `connect(name)` and gets a `Bus` with NATS semantics (subject wildcards,
 * queue groups that hand each message to one member, request/reply, at-most-once delivery). Every
 * delivery crosses the network, where the seeded generator decides its latency and whether it is
 * dropped, duplicated or held back so that later messages overtake it; without a reorder, messages
 * between two processes arrive in the order they were sent, as on one TCP connection. A process
 * can be cut off (a network partition): what it sends and what is sent to it is lost until it is
 * healed. A crashed process's connection is `kill`ed: its subscriptions vanish and nothing it
 * still tries to send leaves it. Nothing here runs on real time: delivery is an event of the
 * Scheduler.
 */
import {
  type Bus,
  type BusHandler,
  type BusHeaders,
  type BusMessage,
  BusRequestError,
  type BusSubscription,
  type PublishOptions,
  type RequestOptions,
  subjectMatches,
  type SubscribeOptions,
} from "../protocol/mod.ts";
import { type FanOut, fanOut } from "../actors/runtime/mod.ts";
import type { Prng } from "./prng/mod.ts";
import type { Scheduler } from "./scheduler.ts";

/** The network's misbehaviour; probabilities are per delivery. */
export interface NetworkFaults {
  /** A delivery is lost. */
  dropP: number;
  /** A delivery arrives twice. */
  dupP: number;
  /** A delivery is held back by up to `reorderDelayUs`, so that later ones overtake it. */
  reorderP: number;
  reorderDelayUs: number;
  /** One-way latency, uniform in [min, max] microseconds. */
  latencyUsMin: number;
  latencyUsMax: number;
}

/** A well-behaved network: latency only, and per-link order. */
export const QUIET_NETWORK: NetworkFaults = {
  dropP: 0,
  dupP: 0,
  reorderP: 0,
  reorderDelayUs: 0,
  latencyUsMin: 50,
  latencyUsMax: 250,
};

/** What the network did, in total. */
export interface NetworkStats {
  published: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  unrouted: number;
}

/** A message as it left a publisher (taps see every publish of a live connection). */
export type PublishTap = (
  from: string,
  subject: string,
  data: Uint8Array,
  headers: BusHeaders | undefined,
) => void;

/** Options of a SimBus. */
export interface SimBusOptions {
  scheduler: Scheduler;
  /** Decides every latency, drop, duplicate, reorder and queue-group pick. */
  prng: Prng;
  faults?: NetworkFaults;
  /** Receives one line per network fault (drop, duplicate, reorder, partition). */
  trace?: (line: string) => void;
  /** Called when a subscriber's handler throws; the bus carries on. */
  onHandlerError?: (err: unknown, subscriber: string, msg: BusMessage) => void;
}

interface Sub {
  conn: SimConnection;
  pattern: string;
  /** The pattern has no wildcard token (`*`, `>`): it matches exactly the subject it spells. */
  literal: boolean;
  queue: string | undefined;
  handler: BusHandler;
  active: boolean;
}

/** The simulated NATS server and network. */
export class SimBus {
  readonly #scheduler: Scheduler;
  readonly #prng: Prng;
  #faults: NetworkFaults;
  readonly #trace: ((line: string) => void) | undefined;
  readonly #onHandlerError: (err: unknown, subscriber: string, msg: BusMessage) => void;
  #subs: Sub[] = [];
  #route = new Map<string, Sub[]>();
  readonly #conns = new Map<string, SimConnection>();
  readonly #isolated = new Set<string>();
  /**
   * Per link, by sender and receiver: the arrival time of the last delivery in order (in a box
   * changed in place: a time in µs is no small integer, and a map's value would be a new number
   * each delivery).
   */
  readonly #lastArrival = new Map<string, Map<string, { us: number }>>();
  readonly #taps: PublishTap[] = [];
  readonly stats: NetworkStats = {
    published: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
    unrouted: 0,
  };

  constructor(options: SimBusOptions) {
    this.#scheduler = options.scheduler;
    this.#prng = options.prng;
    this.#faults = checkFaults(options.faults ?? QUIET_NETWORK);
    this.#trace = options.trace;
    this.#onHandlerError = options.onHandlerError ?? ((err, who, msg) => {
      throw new Error(`Handler of ${who} for "${msg.subject}" threw: ${(err as Error).message}`, {
        cause: err,
      });
    });
  }

  /** The network's current behaviour. */
  get faults(): NetworkFaults {
    return this.#faults;
  }

  /** Changes the network's behaviour from now on. */
  setFaults(faults: NetworkFaults): void {
    this.#faults = checkFaults(faults);
  }

  /** Connects a process named `name` (unique among live connections). */
  connect(name: string): SimConnection {
    const old = this.#conns.get(name);
    if (old && old.alive) {
      throw new Error(`Cannot connect "${name}" to the simulated bus: already connected`);
    }
    const conn = new SimConnection(this, name);
    this.#conns.set(name, conn);
    return conn;
  }

  /** Sees every message a live connection publishes, before the network touches it. */
  tap(fn: PublishTap): void {
    this.#taps.push(fn);
  }

  /** Cuts `name` off the network: what it sends and what is sent to it is lost. */
  isolate(name: string): void {
    if (this.#isolated.has(name)) return;
    this.#isolated.add(name);
    this.#trace?.(`net partition ${name}`);
  }

  /** Reconnects `name` to the network. */
  heal(name: string): void {
    if (!this.#isolated.delete(name)) return;
    this.#trace?.(`net heal ${name}`);
  }

  /** Reconnects every isolated process. */
  healAll(): void {
    for (const name of [...this.#isolated].sort()) this.heal(name);
  }

  /** Whether `name` is cut off. */
  isIsolated(name: string): boolean {
    return this.#isolated.has(name);
  }

  // --- used by SimConnection -------------------------------------------------------------------

  /** @internal */
  _subscribe(conn: SimConnection, pattern: string, handler: BusHandler, queue?: string): Sub {
    const literal = !pattern.split(".").some((t) => t === "*" || t === ">");
    const sub: Sub = { conn, pattern, literal, queue, handler, active: true };
    this.#subs.push(sub);
    this.#forget(sub);
    return sub;
  }

  /**
   * Forgets the routes `sub` is part of: a literal pattern's one subject (a request's inbox, a
   * consumer's delivery subject: most subscriptions, made and dropped all through a run), or
   * every route for a wildcard.
   */
  #forget(sub: Sub): void {
    if (sub.literal) this.#route.delete(sub.pattern);
    else this.#route.clear();
  }

  /** @internal */
  _unsubscribe(sub: Sub): void {
    if (!sub.active) return;
    sub.active = false;
    this.#subs = this.#subs.filter((s) => s !== sub);
    this.#forget(sub);
  }

  /** @internal Says a promise was handed out (see Scheduler.markAsync). */
  _markAsync(): void {
    this.#scheduler.markAsync();
  }

  /** @internal A virtual timer for request timeouts. */
  _timer(ms: number, fn: () => void): { cancel(): void } {
    const handle = this.#scheduler.after(Math.max(0, ms) * 1000, fn);
    return { cancel: () => this.#scheduler.cancel(handle) };
  }

  /** @internal */
  _hasResponders(subject: string): boolean {
    return this.#match(subject).length > 0;
  }

  /** @internal */
  _publish(from: SimConnection, msg: BusMessage): void {
    this.stats.published++;
    const taps = this.#taps;
    for (let i = 0; i < taps.length; i++) taps[i]!(from.name, msg.subject, msg.data, msg.headers);
    if (this.#isolated.has(from.name)) {
      this.stats.dropped++;
      this.#trace?.(`net drop ${from.name}> ${msg.subject} (partition)`);
      return;
    }
    const subs = this.#match(msg.subject);
    if (subs.length === 0) {
      this.stats.unrouted++;
      return;
    }
    // Without a queue group among them, every subscriber gets it, in order (as fanOut does).
    let grouped = false;
    for (let i = 0; i < subs.length; i++) if (subs[i]!.queue !== undefined) grouped = true;
    if (grouped) fanOut(subs, { from: from.name, msg }, this.#fanOut);
    else for (let i = 0; i < subs.length; i++) this.#send(from.name, subs[i]!, msg);
  }

  /** A queue group's member is picked by the PRNG: the pick is part of the seed's run. */
  readonly #fanOut: FanOut<Sub, { from: string; msg: BusMessage }> = {
    deliver: (sub, { from, msg }) => this.#send(from, sub, msg),
    pick: (_queue, members) => members[this.#prng.int(members.length)]!,
  };

  #match(subject: string): Sub[] {
    let subs = this.#route.get(subject);
    if (subs === undefined) {
      subs = this.#subs.filter((s) =>
        s.literal ? s.pattern === subject : subjectMatches(s.pattern, subject)
      );
      if (this.#route.size > 100_000) this.#route.clear();
      this.#route.set(subject, subs);
    }
    return subs;
  }

  /** One delivery across the network, from `from` to the subscriber's process. */
  #send(from: string, sub: Sub, msg: BusMessage): void {
    const to = sub.conn.name;
    const f = this.#faults;
    const rng = this.#prng;
    if (this.#isolated.has(to)) {
      this.stats.dropped++;
      this.#trace?.(`net drop ${from}>${to} ${msg.subject} (partition)`);
      return;
    }
    if (f.dropP > 0 && rng.chance(f.dropP)) {
      this.stats.dropped++;
      this.#trace?.(`net drop ${from}>${to} ${msg.subject}`);
      return;
    }
    const now = this.#scheduler.nowUs;
    const latency = f.latencyUsMin + rng.int(f.latencyUsMax - f.latencyUsMin + 1);
    let arrivals = this.#lastArrival.get(from);
    if (!arrivals) this.#lastArrival.set(from, arrivals = new Map());
    let arrival: number;
    if (f.reorderP > 0 && rng.chance(f.reorderP)) {
      // Held back: later messages on this link overtake it (it does not hold them up).
      arrival = now + latency + 1 + rng.int(Math.max(1, f.reorderDelayUs));
      this.stats.reordered++;
      this.#trace?.(`net hold ${from}>${to} ${msg.subject} +${arrival - now}us`);
    } else {
      const last = arrivals.get(to);
      if (last === undefined) arrivals.set(to, { us: arrival = now + latency });
      else last.us = arrival = Math.max(now + latency, last.us);
    }
    this.#scheduler.call(arrival, this.#arrive, sub, msg);
    if (f.dupP > 0 && rng.chance(f.dupP)) {
      const again = arrival + 1 + rng.int(f.latencyUsMax + 1);
      this.stats.duplicated++;
      this.#trace?.(`net dup ${from}>${to} ${msg.subject} +${again - now}us`);
      this.#scheduler.call(again, this.#arrive, sub, msg);
    }
  }

  /** A delivery's arrival (one function for all: the scheduler calls it with the two). */
  readonly #arrive = (sub: Sub, msg: BusMessage): void => {
    if (!sub.active || !sub.conn.alive) return;
    if (this.#isolated.has(sub.conn.name)) {
      this.stats.dropped++;
      this.#trace?.(`net drop >${sub.conn.name} ${msg.subject} (partition)`);
      return;
    }
    this.stats.delivered++;
    try {
      sub.handler(msg);
    } catch (err) {
      this.#onHandlerError(err, sub.conn.name, msg);
    }
  };
}

/** One process's connection to the simulated bus: a Bus. */
export class SimConnection implements Bus {
  readonly name: string;
  readonly #bus: SimBus;
  readonly #subs = new Set<Sub>();
  #alive = true;
  #closed = false;
  #inbox = 0;

  /** @internal Use SimBus.connect. */
  constructor(bus: SimBus, name: string) {
    this.#bus = bus;
    this.name = name;
  }

  /** False once the connection is closed or killed. */
  get alive(): boolean {
    return this.#alive;
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    if (this.#closed) {
      throw new Error(`Cannot publish on "${subject}": connection "${this.name}" is closed`);
    }
    if (!this.#alive) return; // a dead process sends nothing
    this.#bus._publish(this, {
      subject,
      data,
      headers: options.headers,
      reply: options.reply,
    });
  }

  subscribe(pattern: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    if (this.#closed) {
      throw new Error(`Cannot subscribe to "${pattern}": connection "${this.name}" is closed`);
    }
    if (!this.#alive) return { unsubscribe() {} }; // a dead process hears nothing
    const sub = this.#bus._subscribe(this, pattern, handler, options.queue);
    this.#subs.add(sub);
    return {
      unsubscribe: () => {
        this.#subs.delete(sub);
        this.#bus._unsubscribe(sub);
      },
    };
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    this.#bus._markAsync();
    if (!this.#bus._hasResponders(subject)) {
      return Promise.reject(
        new BusRequestError(subject, `No responders on "${subject}"`, { noResponders: true }),
      );
    }
    const inbox = `_INBOX.${this.name}.${++this.#inbox}`;
    return new Promise((resolve, reject) => {
      const sub = this.subscribe(inbox, (msg) => {
        this.#bus._markAsync();
        timer.cancel();
        sub.unsubscribe();
        resolve(msg);
      });
      const timer = this.#timeout(options.timeout, () => {
        this.#bus._markAsync();
        sub.unsubscribe();
        reject(
          new BusRequestError(
            subject,
            `Request on "${subject}" timed out after ${options.timeout} ms`,
          ),
        );
      });
      const publishOptions: PublishOptions = { reply: inbox };
      if (options.headers) publishOptions.headers = options.headers;
      this.publish(subject, data, publishOptions);
    });
  }

  /** Says that this process handed out a promise (see Scheduler.markAsync). */
  markAsync(): void {
    this.#bus._markAsync();
  }

  /** Everything published has been handed to the network. */
  flush(): Promise<void> {
    this.#bus._markAsync();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#bus._markAsync();
    this.#closed = true;
    this.kill();
    return Promise.resolve();
  }

  /** The process died: its subscriptions vanish and nothing more leaves it. */
  kill(): void {
    this.#alive = false;
    for (const sub of this.#subs) this.#bus._unsubscribe(sub);
    this.#subs.clear();
  }

  #timeout(ms: number, fn: () => void): { cancel(): void } {
    return this.#bus._timer(ms, fn);
  }
}

function checkFaults(f: NetworkFaults): NetworkFaults {
  for (const key of ["dropP", "dupP", "reorderP"] as const) {
    if (!(f[key] >= 0 && f[key] < 1)) {
      throw new RangeError(`Network fault "${key}" must be in [0, 1), got ${f[key]}`);
    }
  }
  if (!(f.latencyUsMin >= 0 && f.latencyUsMax >= f.latencyUsMin)) {
    throw new RangeError(
      `Network latency must satisfy 0 <= min <= max, got min ${f.latencyUsMin} µs, max ` +
        `${f.latencyUsMax} µs`,
    );
  }
  if (!(f.reorderDelayUs >= 0)) {
    throw new RangeError(`Network fault "reorderDelayUs" must be >= 0, got ${f.reorderDelayUs}`);
  }
  return { ...f };
}
