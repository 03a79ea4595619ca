/// <reference lib="dom" />
/**
 * Batches the page's redraws: live messages only mark what changed, and on the next animation
 * frame (at most every `interval_ms`, 50 ms by default: 20 redraws a second is smooth for live
 * numbers and leaves the main thread to the messages and the user) every marked panel redraws,
 * once, however many messages arrived since. It also times each frame's redraw work into
 * `frameTimes` for the bench (panels draw synchronously in `flush`: uPlot's `batch`).
 */

/** A panel that redraws on demand. */
export interface Flushable {
  flush(): void;
}

/** How many frame times are kept for the bench and the status line. */
export const FRAME_TIMES_MAX = 4096;

/** Options of a FrameLoop. */
export interface FrameLoopOptions {
  /** The least time between two redraws: 50 ms. */
  interval_ms?: number;
}

export class FrameLoop {
  readonly #dirty = new Set<Flushable>();
  readonly #intervalMs: number;
  #scheduled = false;
  #lastMs = -Infinity;
  #chargedMs = 0;
  /**
   * Milliseconds each frame's updates took to apply, the most recent last (bounded): the work
   * charged since the frame before (decoding and appending the messages it draws) plus the redraws.
   */
  readonly frameTimes: number[] = [];
  /** How many panels each frame redrew, and when it started (`performance.now()`): parallel to
   *  frameTimes. */
  readonly frameSizes: number[] = [];
  readonly frameStarts: number[] = [];
  readonly #run = () => this.#frame();

  constructor(options: FrameLoopOptions = {}) {
    this.#intervalMs = options.interval_ms ?? 50;
  }

  /** Counts `ms` of work done for the next frame (routing a message) into its time. */
  charge(ms: number): void {
    this.#chargedMs += ms;
  }

  /** Marks `panel` for the next frame. */
  mark(panel: Flushable): void {
    this.#dirty.add(panel);
    if (this.#scheduled) return;
    this.#scheduled = true;
    const wait = this.#lastMs + this.#intervalMs - performance.now();
    if (wait <= 0) requestAnimationFrame(this.#run);
    else setTimeout(() => requestAnimationFrame(this.#run), wait);
  }

  /** Redraws what is marked now and returns the milliseconds it took (the bench calls this). */
  flushNow(): number {
    return this.#frame();
  }

  #frame(): number {
    this.#scheduled = false;
    if (this.#dirty.size === 0) return 0;
    const t0 = performance.now();
    this.#lastMs = t0;
    const size = this.#dirty.size;
    for (const panel of this.#dirty) panel.flush();
    this.#dirty.clear();
    const ms = performance.now() - t0 + this.#chargedMs;
    this.#chargedMs = 0;
    this.frameTimes.push(ms);
    this.frameSizes.push(size);
    this.frameStarts.push(t0);
    if (this.frameTimes.length > FRAME_TIMES_MAX) {
      for (const list of [this.frameTimes, this.frameSizes, this.frameStarts]) {
        list.splice(0, FRAME_TIMES_MAX / 2);
      }
    }
    return ms;
  }
}
