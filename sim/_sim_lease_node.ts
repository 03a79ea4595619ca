/**
 * A simulated machine's process as the lease code sees it: its timers (which a pause holds), its
 * clocks (a wall clock off by a skew, a monotonic clock that runs fast or slow by a drift) and its
 * link to NATS (a request's round trip, which a cut fails and a pause holds). The lease keeper it
 * runs is the real one (`PartitionLeases`), on these: so a pause longer than a lease, a clock that
 * drifts and a cut between the machine and NATS reach the decisions a real host makes.
 */
import type { HostTimers } from "../actors/runtime/mod.ts";
import type { Scheduler, TimerGroup } from "./scheduler.ts";
import type { SimLeaseLink } from "./sim_lease_kv.ts";

/** How long a request to an unreachable NATS takes to fail, ms. */
export const REQUEST_TIMEOUT_MS = 500;

/** Options of a SimLeaseNode. */
export interface SimLeaseNodeOptions {
  scheduler: Scheduler;
  /** The incarnation's timers (a crash cancels them all). */
  timers: TimerGroup;
  /** One way of a request's round trip, µs. */
  latencyUs: number;
  /** How far the wall clock is off, µs. */
  skewUs: number;
  /** The monotonic clock's rate: 1 keeps time, 0.9 runs slow by a tenth. */
  rate: number;
}

/** One incarnation of a machine's process: pausable timers, skewed clocks, a link to NATS. */
export class SimLeaseNode implements SimLeaseLink {
  readonly #options: SimLeaseNodeOptions;
  readonly #startUs: number;
  /** Set while the process is paused: what comes due waits for the resume. */
  #held: Array<() => void> | undefined;
  #dead = false;
  /** Set while the machine is cut off from NATS. */
  cut = false;
  /** The process's timers: while it is paused, a timer that comes due fires at the resume. */
  readonly timers: HostTimers;

  constructor(options: SimLeaseNodeOptions) {
    this.#options = options;
    this.#startUs = options.scheduler.nowUs;
    this.timers = this.pausable(options.timers);
  }

  /** `group`'s timers, held as the process's are while it is paused. */
  pausable(group: TimerGroup): HostTimers {
    return {
      setTimeout: (fn, ms) => group.setTimeout(() => this.#run(fn), ms),
      clearTimeout: (h) => group.clearTimeout(h),
    };
  }

  /** Whether the process is paused. */
  get paused(): boolean {
    return this.#held !== undefined;
  }

  /** Wall clock, ms since the Unix epoch, off by the skew. */
  readonly wallMs = (): number => (this.#options.scheduler.nowUs + this.#options.skewUs) / 1000;

  /** Monotonic clock, ms since the incarnation started, at the drifting rate. */
  readonly clockMs = (): number =>
    (this.#options.scheduler.nowUs - this.#startUs) * this.#options.rate / 1000;

  /** Pauses the process (a GC pause, SIGSTOP): nothing it would run runs until `resume`. */
  pause(): void {
    this.#held ??= [];
  }

  /** Resumes it: what came due meanwhile runs now, in order. */
  resume(): void {
    const held = this.#held;
    this.#held = undefined;
    for (const fn of held ?? []) this.#run(fn);
  }

  /** The process died: nothing it held or would run runs. */
  kill(): void {
    this.#dead = true;
    this.#held = undefined;
  }

  #run(fn: () => void): void {
    if (this.#dead) return;
    if (this.#held) this.#held.push(fn);
    else {
      this.#options.scheduler.markAsync();
      fn();
    }
  }

  /**
   * A request's round trip: `op` runs at the server when the request arrives, and its result
   * reaches the process when the reply does (at the resume, if it is paused then). Cut off, the
   * request fails after REQUEST_TIMEOUT_MS; a reply that arrives after the incarnation died is
   * never seen.
   */
  request<T>(op: () => T): Promise<T> {
    const { timers, latencyUs } = this.#options;
    return new Promise<T>((resolve, reject) => {
      const fail = () => reject(new Error(`Cannot reach NATS: the connection timed out`));
      if (this.cut) {
        this.timers.setTimeout(fail, REQUEST_TIMEOUT_MS);
        return;
      }
      timers.setTimeout(() => {
        if (this.cut) {
          this.timers.setTimeout(fail, REQUEST_TIMEOUT_MS - latencyUs / 1000);
          return;
        }
        let result: { ok: T } | { err: unknown };
        try {
          result = { ok: op() };
        } catch (err) {
          result = { err };
        }
        this.timers.setTimeout(() => {
          if (this.cut) return fail();
          if ("ok" in result) resolve(result.ok);
          else reject(result.err);
        }, latencyUs / 1000);
      }, latencyUs / 1000);
    });
  }
}
