/**
 * Clocks. Everything in troupe that needs the time (the injector's pacing, the runtime's ticks, the
 * simulator) is handed a Clock instead of calling `Date.now`, so that the same code runs on the
 * wall clock in production and on virtual time in the simulator and in tests. Times are
 * microseconds since the Unix epoch, like every time on the wire.
 */

/** A source of the current time. */
export interface Clock {
  /** Microseconds since the Unix epoch. */
  now(): number;
}

/** A clock that can also wait. */
export interface Sleeper {
  /** Resolves once `us` microseconds of this clock's time have passed (at once for `us <= 0`). */
  sleep(us: number): Promise<void>;
}

/**
 * The wall clock, read through the monotonic high-resolution timer: anchored to the wall clock
 * when the process started and never going backwards afterwards (an NTP step does not move it),
 * which is what pacing and durations need.
 */
export class SystemClock implements Clock, Sleeper {
  /** Integer microseconds since the Unix epoch. */
  now(): number {
    return Math.round((performance.timeOrigin + performance.now()) * 1000);
  }

  /** Waits on a timer; the timer's granularity is about a millisecond. */
  sleep(us: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, us / 1000)));
  }
}

/** Options of a VirtualClock. */
export interface VirtualClockOptions {
  /**
   * When true, `sleep` moves the clock forward to its deadline itself (the sleeper is the only one
   * driving time, e.g. an injector run on virtual time). When false (the default), sleepers wait
   * until `advance` or `set` reaches their deadline (a simulator drives time).
   */
  autoAdvance?: boolean;
}

interface Waiter {
  deadline: number;
  resolve: () => void;
}

/**
 * A deterministic clock that moves only when told to. Time never goes backwards: `set` to an
 * earlier time and `advance` by a negative amount throw. Sleepers wake in deadline order, ties in
 * the order they went to sleep.
 */
export class VirtualClock implements Clock, Sleeper {
  #now: number;
  #waiters: Waiter[] = [];
  readonly #autoAdvance: boolean;

  constructor(startUs = 0, options: VirtualClockOptions = {}) {
    this.#now = checkTime(startUs, "startUs");
    this.#autoAdvance = options.autoAdvance ?? false;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `us` microseconds and wakes the sleepers whose deadline has come. */
  advance(us: number): void {
    if (!Number.isFinite(us) || us < 0) {
      throw new RangeError(`Cannot advance a VirtualClock by ${us} µs: must be finite and >= 0`);
    }
    this.set(this.#now + us);
  }

  /** Moves time forward to `us` and wakes the sleepers whose deadline has come. */
  set(us: number): void {
    checkTime(us, "time");
    if (us < this.#now) {
      throw new RangeError(
        `Cannot set a VirtualClock back from ${this.#now} µs to ${us} µs: time never goes ` +
          `backwards`,
      );
    }
    this.#now = us;
    this.#wake();
  }

  /** The earliest deadline of a pending sleeper, or undefined: where a simulator jumps next. */
  nextDeadline(): number | undefined {
    return this.#waiters[0]?.deadline;
  }

  /** How many sleepers are waiting. */
  pending(): number {
    return this.#waiters.length;
  }

  sleep(us: number): Promise<void> {
    const deadline = this.#now + (Number.isFinite(us) && us > 0 ? us : 0);
    if (deadline <= this.#now) return Promise.resolve();
    if (this.#autoAdvance) {
      this.set(deadline);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // Insert after every waiter with a deadline <= this one: ties wake in the order they slept.
      let i = this.#waiters.length;
      while (i > 0 && this.#waiters[i - 1]!.deadline > deadline) i--;
      this.#waiters.splice(i, 0, { deadline, resolve });
    });
  }

  #wake(): void {
    let n = 0;
    while (n < this.#waiters.length && this.#waiters[n]!.deadline <= this.#now) n++;
    if (n === 0) return;
    for (const waiter of this.#waiters.splice(0, n)) waiter.resolve();
  }
}

function checkTime(us: number, what: string): number {
  if (!Number.isFinite(us)) {
    throw new RangeError(`VirtualClock ${what} must be a finite number of µs, got ${us}`);
  }
  return us;
}
