/**
 * How much of an interval this thread spent in garbage-collection pauses, from Node's `gc`
 * performance entries. A benchmark keeps one observer for its whole run, so that every phase pays
 * the same for it, and asks for the pauses that started within each phase's interval: entries are
 * delivered after the pause, so a phase's last ones may arrive once it has ended.
 */
import { PerformanceObserver } from "node:perf_hooks";

/** Pauses kept between two reads: a bound, far above a phase's count (tens a second). */
const PAUSES_KEPT_MAX = 100_000;

/** The garbage-collection pauses of this thread (its event loop's isolate), as they come. */
export class GcPauses {
  readonly #observer: PerformanceObserver;
  /** Start and duration of each pause since the last `take`, in ms on `performance.now()`. */
  #starts: number[] = [];
  #durations: number[] = [];
  #dropped = 0;

  private constructor() {
    this.#observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.#add(e.startTime, e.duration);
    });
    this.#observer.observe({ entryTypes: ["gc"] });
  }

  /**
   * Starts observing, or gives undefined where the runtime does not report collections (Deno
   * lists "gc" among the entry types it takes but never reports one: its share would read 0).
   */
  static observe(): GcPauses | undefined {
    if ("Deno" in globalThis) return undefined;
    try {
      return new GcPauses();
    } catch {
      return undefined;
    }
  }

  /**
   * The percent of `[t0Ms, t1Ms)` spent in pauses that started within it, forgetting every pause
   * received so far; undefined if pauses were dropped over the bound since the last call.
   */
  sharePct(t0Ms: number, t1Ms: number): number | undefined {
    let ms = 0;
    for (let i = 0; i < this.#starts.length; i++) {
      const start = this.#starts[i]!;
      if (start >= t0Ms && start < t1Ms) ms += this.#durations[i]!;
    }
    const dropped = this.#dropped;
    this.#starts = [];
    this.#durations = [];
    this.#dropped = 0;
    return dropped > 0 || t1Ms <= t0Ms ? undefined : (100 * ms) / (t1Ms - t0Ms);
  }

  close(): void {
    this.#observer.disconnect();
  }

  #add(startMs: number, ms: number): void {
    if (this.#starts.length >= PAUSES_KEPT_MAX) {
      this.#dropped++;
      return;
    }
    this.#starts.push(startMs);
    this.#durations.push(ms);
  }
}
