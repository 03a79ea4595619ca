/// <reference lib="dom" />
/**
 * Batches the page's redraws: live messages only mark what changed, and on the next animation
 * frame (at most every `interval_ms`, 50 ms by default: 20 redraws a second is smooth for live
 * numbers and leaves the main thread to the messages and the user) every marked panel redraws,
 * once, however many messages arrived since. Whole repaints that can wait take turns: at most
 * `repaints_per_frame` a frame. It also times each frame's redraw work into
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
  /** Optional whole repaints (fresh scales) allowed per frame: 1. Needed ones are not counted. */
  repaints_per_frame?: number;
}

export class FrameLoop {
  readonly #dirty = new Set<Flushable>();
  readonly #intervalMs: number;
  readonly #repaintsPerFrame: number;
  #repaintsLeft = 0;
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
    this.#repaintsPerFrame = options.repaints_per_frame ?? 1;
  }

  /**
   * Whether a panel may do an optional whole repaint in this frame (it then counts against the
   * frame's budget), so that panels refreshing their scales take turns instead of all at once.
   */
  takeRepaint(): boolean {
    if (this.#repaintsLeft <= 0) return false;
    this.#repaintsLeft--;
    return true;
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
    this.#repaintsLeft = this.#repaintsPerFrame;
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
