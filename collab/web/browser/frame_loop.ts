/// <reference lib="dom" />
/**
 * Batches the page's redraws: live messages only mark what changed, and once per animation frame
 * every marked panel redraws, once, however many messages arrived since the last frame. It also
 * times each frame's redraw work (the bench reads `frameTimes`).
 */

/** A panel that redraws on demand. */
export interface Flushable {
  flush(): void;
}

/** How many frame times are kept for the bench and the status line. */
export const FRAME_TIMES_MAX = 4096;

export class FrameLoop {
  readonly #dirty = new Set<Flushable>();
  #scheduled = false;
  /** Milliseconds each frame's redraws took, the most recent last (bounded). */
  readonly frameTimes: number[] = [];
  readonly #run = () => this.#frame();

  /** Marks `panel` for the next frame. */
  mark(panel: Flushable): void {
    this.#dirty.add(panel);
    if (!this.#scheduled) {
      this.#scheduled = true;
      requestAnimationFrame(this.#run);
    }
  }

  /** Redraws now what is marked (tests and the bench call this to skip the wait). */
  flushNow(): void {
    this.#frame();
  }

  #frame(): void {
    this.#scheduled = false;
    if (this.#dirty.size === 0) return;
    const t0 = performance.now();
    for (const panel of this.#dirty) panel.flush();
    this.#dirty.clear();
    this.frameTimes.push(performance.now() - t0);
    if (this.frameTimes.length > FRAME_TIMES_MAX) this.frameTimes.splice(0, FRAME_TIMES_MAX / 2);
  }
}
