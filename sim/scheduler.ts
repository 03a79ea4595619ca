/**
 * A discrete-event scheduler on virtual time: the simulator's only clock. Events are kept in a
 * binary heap ordered by (time, sequence), so two events due at the same virtual microsecond run in
 * the order they were scheduled, on every runtime. Asynchronous code under simulation (a host's
 * recovery, a snapshot flush) takes no virtual time unless it waits on a virtual timer: an event
 * that started asynchronous work says so with `markAsync()` (the simulated disk, bus and feed
 * input do, for every promise they hand out), and the scheduler then lets every promise
 * continuation settle (the microtask queue drained, see `drain`) before it runs the next event.
 * Other events cost no drain; a turn of the real event loop (which drains it too) is still taken
 * every few hundred events and at the end of every `run`, so nothing is left pending at a check
 * and the process stays responsive (its signals, its progress output). `timers()` gives a
 * group of virtual timers with the `setTimeout`/`clearTimeout` shape a Host takes; a crash cancels
 * a whole group at once.
 *
 * An event scheduled no earlier than every event of the lane (a queue beside the heap) joins the
 * lane instead of the heap: a run schedules its whole feed up front, in time order, so the heap
 * keeps only the few hundred events of the moment instead of tens of thousands. The next event is
 * the earlier of the lane's head and the heap's top, in the same (time, sequence) order.
 */
import process from "node:process";
import { setImmediate } from "node:timers";

/** What an event runs. A returned promise is awaited before the next event. */
export type EventFn = () => void | Promise<void>;

/** A scheduled event; pass it to `cancel`. */
export interface EventHandle {
  readonly timeUs: number;
  readonly seq: number;
}

interface Event extends EventHandle {
  timeUs: number;
  seq: number;
  fn: EventFn | ((a: unknown, b: unknown) => void);
  /** The arguments of an event scheduled by `call` (undefined for `at`). */
  a: unknown;
  b: unknown;
  cancelled: boolean;
  /** Scheduled by `call`: no handle was handed out, so it is reused once run. */
  pooled: boolean;
}

/** Options of `run`. */
export interface RunOptions {
  /** Checked after every event: true stops the run there. */
  stop?: () => boolean;
}

/** A full turn of the event loop every this many events (and at the end of every `run`). */
const SETTLE_EVERY = 256;

/** Events of `call` kept for reuse at most. */
const POOL_MAX = 4096;

/**
 * What `run` waits on after an event that started nothing: one microtask turn, exactly as
 * awaiting `undefined` takes, without a new promise each time (a reaction to a native promise
 * that is already fulfilled is queued at once).
 */
const TURN: Promise<void> = Promise.resolve();

/**
 * Events run at most, by default, in one `run` call: a runaway simulation stops, it never hangs.
 */
export const EVENTS_MAX_DEFAULT = 50_000_000;

/** A discrete-event scheduler on virtual time, in integer microseconds. */
export class Scheduler {
  #heap: Event[] = [];
  /** Events in (time, sequence) order, each scheduled after all before it; its head at #laneAt. */
  #lane: Event[] = [];
  #laneAt = 0;
  #seq = 0;
  #now: number;
  #live = 0;
  #async = false;
  /** Events of `call` that have run, for the next `call`. */
  readonly #pool: Event[] = [];
  /** Events run so far. */
  steps = 0;
  /** Events run at most per `run` call. */
  eventsMax: number;

  constructor(startUs = 0, options: { eventsMax?: number } = {}) {
    if (!Number.isFinite(startUs)) {
      throw new RangeError(`Scheduler start must be a finite number of µs, got ${startUs}`);
    }
    this.#now = Math.round(startUs);
    this.eventsMax = options.eventsMax ?? EVENTS_MAX_DEFAULT;
  }

  /** The current virtual time in microseconds. */
  get nowUs(): number {
    return this.#now;
  }

  /** Events scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.#live;
  }

  /** Schedules `fn` at virtual time `timeUs` (rounded to the microsecond; never in the past). */
  at(timeUs: number, fn: EventFn): EventHandle {
    if (!Number.isFinite(timeUs)) {
      throw new RangeError(`Cannot schedule an event at ${timeUs} µs: must be finite`);
    }
    const ev: Event = {
      timeUs: Math.max(this.#now, Math.round(timeUs)),
      seq: ++this.#seq,
      fn,
      a: undefined,
      b: undefined,
      cancelled: false,
      pooled: false,
    };
    this.#enqueue(ev);
    return ev;
  }

  /**
   * Schedules `fn(a, b)` at virtual time `timeUs`, as `at` does, for an event that is never
   * cancelled: no handle is handed out, and no closure is made (the simulated network delivers
   * every message this way, several times a simulated millisecond).
   */
  call<A, B>(timeUs: number, fn: (a: A, b: B) => void, a: A, b: B): void {
    if (!Number.isFinite(timeUs)) {
      throw new RangeError(`Cannot schedule an event at ${timeUs} µs: must be finite`);
    }
    const at = Math.max(this.#now, Math.round(timeUs));
    const ev = this.#pool.pop();
    if (ev === undefined) {
      this.#enqueue({
        timeUs: at,
        seq: ++this.#seq,
        fn: fn as Event["fn"],
        a,
        b,
        cancelled: false,
        pooled: true,
      });
      return;
    }
    ev.timeUs = at;
    ev.seq = ++this.#seq;
    ev.fn = fn as Event["fn"];
    ev.a = a;
    ev.b = b;
    ev.cancelled = false;
    this.#enqueue(ev);
  }

  #enqueue(ev: Event): void {
    const lane = this.#lane;
    if (lane.length === this.#laneAt || ev.timeUs >= lane[lane.length - 1]!.timeUs) lane.push(ev);
    else this.#push(ev);
    this.#live++;
  }

  /** Schedules `fn` after `delayUs` microseconds of virtual time. */
  after(delayUs: number, fn: EventFn): EventHandle {
    return this.at(this.#now + Math.max(0, delayUs), fn);
  }

  /** Cancels an event that has not run yet; does nothing otherwise. */
  cancel(handle: EventHandle): void {
    const ev = handle as Event;
    if (ev.cancelled) return;
    ev.cancelled = true;
    this.#live--;
  }

  /** The time of the next event that will run, or undefined when none is scheduled. */
  nextTimeUs(): number | undefined {
    this.#skipCancelled();
    const top = this.#heap[0], head = this.#lane[this.#laneAt];
    if (head === undefined) return top?.timeUs;
    return top === undefined || before(head, top) ? head.timeUs : top.timeUs;
  }

  /** Runs the next event (and lets what it started settle); false when there is none. */
  async step(): Promise<boolean> {
    const ev = this.#next();
    if (!ev) return false;
    await this.#runEvent(ev);
    return true;
  }

  /** Takes the next event off the heap and moves the clock to it. */
  #next(): Event | undefined {
    this.#skipCancelled();
    const top = this.#heap[0], head = this.#lane[this.#laneAt];
    let ev: Event | undefined;
    if (head !== undefined && (top === undefined || before(head, top))) ev = this.#shift();
    else ev = this.#pop();
    if (!ev) return undefined;
    ev.cancelled = true;
    this.#live--;
    this.#now = ev.timeUs;
    this.steps++;
    return ev;
  }

  /**
   * Runs `ev`; returns a promise to wait for when it returned one or started asynchronous work
   * (or a periodic settle is due), else undefined: the caller still takes one microtask turn.
   */
  #runEvent(ev: Event): Promise<void> | undefined {
    if (ev.pooled) {
      const { fn, a, b } = ev;
      ev.fn = noop;
      ev.a = ev.b = undefined;
      if (this.#pool.length < POOL_MAX) this.#pool.push(ev);
      (fn as (a: unknown, b: unknown) => void)(a, b);
    } else {
      const r = (ev.fn as EventFn)();
      if (r !== undefined) return this.#finish(r);
    }
    // What follows a drain or a turn of the event loop waits on nothing else: its microtask
    // turns are not counted, so a reaction does what the async #finish would, making less.
    if (this.steps % SETTLE_EVERY === 0) return settle().then(this.#settled);
    if (this.#async) return drain().then(this.#settled);
    return undefined;
  }

  readonly #settled = (): void => {
    this.#async = false;
  };

  async #finish(r: Promise<void>): Promise<void> {
    await r;
    if (this.steps % SETTLE_EVERY === 0) {
      await settle();
      this.#async = false;
    } else if (this.#async) {
      await drain();
      this.#async = false;
    }
  }

  /**
   * Runs events up to and including virtual time `untilUs`, then moves the clock to `untilUs`.
   * Stops early when `options.stop` says so (the clock stays at the last event). Returns the number
   * of events run.
   */
  run(untilUs: number, options: RunOptions = {}): Promise<number> {
    // A chain of reactions, not a loop in an async function: each event's microtask turn is one
    // `then` on what it returned (or on a promise already fulfilled), which takes the same turn
    // as an `await` of it and makes less (an await makes a promise and its resumption's state
    // each time, and a run is hundreds of thousands of events).
    return new Promise<number>((resolve, reject) => {
      let n = 0;
      const end = (reached: boolean): void => {
        settle().then(() => {
          this.#async = false;
          if (reached && untilUs > this.#now) this.#now = Math.round(untilUs);
          resolve(n);
        }, reject);
      };
      const next = (): void => {
        const at = this.nextTimeUs();
        if (at === undefined || at > untilUs) return end(true);
        if (n >= this.eventsMax) {
          throw new Error(
            `Scheduler ran ${n} events without reaching ${untilUs} µs (now ${this.#now} µs): a ` +
              `runaway simulation`,
          );
        }
        // One microtask turn per event at least, as awaiting an asynchronous step would take.
        (this.#runEvent(this.#next()!) ?? TURN).then(after, reject);
      };
      const after = (): void => {
        n++;
        try {
          if (options.stop?.()) end(false);
          else next();
        } catch (err) {
          reject(err);
        }
      };
      try {
        next();
      } catch (err) {
        reject(err);
      }
    });
  }

  /** Says that asynchronous work was started: its continuations settle before the next event. */
  markAsync(): void {
    this.#async = true;
  }

  /** A group of virtual timers in milliseconds, cancelled together by `cancelAll`. */
  timers(): TimerGroup {
    return new TimerGroup(this);
  }

  #skipCancelled() {
    while (this.#heap.length && this.#heap[0]!.cancelled) this.#pop();
    while (this.#lane[this.#laneAt]?.cancelled) this.#shift();
  }

  /** Takes the lane's head (dropping the part of the lane already run, now and then). */
  #shift(): Event | undefined {
    const lane = this.#lane;
    const ev = lane[this.#laneAt++];
    if (this.#laneAt === lane.length) {
      lane.length = 0;
      this.#laneAt = 0;
    } else if (this.#laneAt >= 4096 && this.#laneAt * 2 >= lane.length) {
      lane.splice(0, this.#laneAt);
      this.#laneAt = 0;
    }
    return ev;
  }

  #push(ev: Event) {
    const h = this.#heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(ev, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = ev;
  }

  #pop(): Event | undefined {
    const h = this.#heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop()!;
    if (h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[child]!, last)) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
    return top;
  }
}

function noop(): void {}

function before(a: Event, b: Event): boolean {
  return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.seq < b.seq);
}

/** Lets the promise continuations started by an event run: one turn of the real event loop. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Lets the promise continuations started by an event run, without a turn of the event loop: a
 * tick queued from inside a microtask runs only once the microtask queue is empty (Node and
 * Deno run the next-tick queue between drains of it, never during one), so everything the event
 * started, however long its chains of continuations, has run when this resolves. A settle for
 * what the simulated disk, bus and feed input hand out, several times a simulated millisecond;
 * a turn of the event loop costs several times more.
 */
function drain(): Promise<void> {
  // A reaction to a fulfilled promise is queued now, as queueMicrotask would queue its callback
  // (on Node, queueMicrotask also makes an async resource for each callback).
  return new Promise((resolve) => void TURN.then(() => process.nextTick(resolve)));
}

/**
 * Virtual timers in milliseconds with the shape of `setTimeout`/`clearTimeout` (a Host's
 * `HostTimers`). `cancelAll` cancels every pending one and makes later ones inert: what a process
 * crash does to its timers.
 */
export class TimerGroup {
  readonly #scheduler: Scheduler;
  readonly #pending = new Set<EventHandle>();
  #closed = false;

  constructor(scheduler: Scheduler) {
    this.#scheduler = scheduler;
  }

  /** Whether `cancelAll` has run. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` after `ms` milliseconds of virtual time. */
  setTimeout = (fn: () => void, ms: number): unknown => {
    if (this.#closed) return undefined;
    const delayUs = Number.isFinite(ms) && ms > 0 ? ms * 1000 : 0;
    const handle = this.#scheduler.after(delayUs, () => {
      this.#pending.delete(handle);
      fn();
    });
    this.#pending.add(handle);
    return handle;
  };

  /** Cancels a timer of this group; ignores anything else. */
  clearTimeout = (handle: unknown): void => {
    if (handle === undefined || !this.#pending.has(handle as EventHandle)) return;
    this.#pending.delete(handle as EventHandle);
    this.#scheduler.cancel(handle as EventHandle);
  };

  /** Cancels every pending timer; later `setTimeout` calls do nothing. */
  cancelAll(): void {
    this.#closed = true;
    for (const handle of this.#pending) this.#scheduler.cancel(handle);
    this.#pending.clear();
  }
}
