/// <reference lib="dom" />
/**
 * Batches the page's redraws: live messages only mark what changed, and on the next animation
 * frame (at most every `interval_ms`, 50 ms by default: 20 redraws a second is smooth for live
 * numbers and leaves the main thread to the messages and the user) every marked panel redraws,
 * once, however many messages arrived since. Whole repaints that can wait take turns: at most
 * `repaints_per_frame` a frame. A frame is asked for `settle_ms` after the first mark at the
 * earliest: the gateway delivers a round of updates across charts as a burst of messages over a
 * few milliseconds, and a frame requested at the first of them split the burst over two frames,
 * each paying the browser's fixed cost of rendering a frame (the bench measured a round's time
 * about halved with the wait).
 *
 * It also times each frame for the bench, as the user pays for it: from the animation frame
 * callback until the browser has finished that frame's rendering on the main thread (style,
 * layout, paint, and the rasterizing of every canvas drawn into, which Chromium defers to the
 * frame's commit), plus the message handling charged to it. The end is seen by a message posted
 * from the callback: it runs as the first task after the frame's rendering task, or after the
 * message tasks queued before it. Those run after the frame was rendered and are charged to the
 * next frame, so their time is taken out of this one's: each message counts once.
 */

/** A panel that redraws on demand. */
export interface Flushable {
  flush(): void;
  /** The panel this one draws from (a card's candle strip: its line, whose x range it takes):
   *  in a frame that flushes both, that one is flushed first. */
  readonly after?: Flushable | undefined;
}

/** How many frame times are kept for the bench and the status line. */
export const FRAME_TIMES_MAX = 4096;

/** Options of a FrameLoop. */
export interface FrameLoopOptions {
  /** The least time between two redraws: 50 ms. */
  interval_ms?: number;
  /** Optional whole repaints (fresh scales) allowed per frame: 1. Needed ones are not counted. */
  repaints_per_frame?: number;
  /** The least time from the first mark to the frame's request, so a burst shares a frame: 8 ms. */
  settle_ms?: number;
  /** Called when a frame's time is known: its time, script part, panels redrawn, and start. */
  onFrame?(ms: number, script: number, size: number, start: number): void;
}

export class FrameLoop {
  #dirty = new Set<Flushable>();
  readonly #intervalMs: number;
  readonly #repaintsPerFrame: number;
  readonly #settleMs: number;
  readonly #onFrame: FrameLoopOptions["onFrame"];
  #repaintsLeft = 0;
  #scheduled = false;
  /** The panels of the frame being flushed, and those of them flushed already (see `mark`). */
  #current: Set<Flushable> | undefined;
  readonly #flushed = new Set<Flushable>();
  #probing = false;
  #lastMs = -Infinity;
  #chargedMs = 0;
  /** Frames whose rendering is still going: start, and the script time charged to it. */
  readonly #pending: Array<
    { t0: number; redrawMs: number; chargedMs: number; size: number; laterMs: number }
  > = [];
  readonly #port: MessagePort;
  /**
   * Milliseconds each frame took, the most recent last (bounded): the message handling charged
   * since the frame before, the redraws, and the browser's rendering of the frame.
   */
  readonly frameTimes: number[] = [];
  /** The script part of each frame (message handling and redraws), parallel to frameTimes. */
  readonly frameScripts: number[] = [];
  /** The message handling charged to each frame (part of both above), parallel to frameTimes. */
  readonly frameCharges: number[] = [];
  /** How many panels each frame redrew, and when it started (`performance.now()`): parallel to
   *  frameTimes. */
  readonly frameSizes: number[] = [];
  readonly frameStarts: number[] = [];
  readonly #run = () => this.#frame();
  readonly #probe = () => {
    this.#probing = false;
    this.#begin(performance.now(), 0);
  };

  constructor(options: FrameLoopOptions = {}) {
    this.#intervalMs = options.interval_ms ?? 50;
    this.#repaintsPerFrame = options.repaints_per_frame ?? 1;
    this.#settleMs = options.settle_ms ?? 8;
    this.#onFrame = options.onFrame;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => this.#end();
    this.#port = channel.port2;
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
    // Handled while a frame's end is awaited: inside its span, but the next frame's to count.
    for (const f of this.#pending) f.laterMs += ms;
  }

  /**
   * Marks `panel` for the next frame. A panel marked by another's flush (a card's candle strip,
   * when its line scrolled) and not yet flushed in this frame joins it: the frame's loop over its
   * panels reaches it (a Set's iteration visits what is added during it), so no frame is asked for
   * (one was, and ran empty: the bench saw two animation frames a round with candle strips). One
   * flushed already in this frame goes to the next frame: it had been dropped, its mark taken for
   * the one just done, and it lagged until marked again. A strip is not flushed before its line
   * in one frame (`Flushable.after`): it took the line's range of the frame before, and the
   * line's for that frame only in the next.
   */
  mark(panel: Flushable): void {
    if (this.#current !== undefined && !this.#flushed.has(panel)) {
      this.#current.add(panel);
      return;
    }
    this.#dirty.add(panel);
    if (this.#scheduled) return;
    this.#scheduled = true;
    const wait = Math.max(this.#settleMs, this.#lastMs + this.#intervalMs - performance.now());
    if (wait <= 0) requestAnimationFrame(this.#run);
    else setTimeout(() => requestAnimationFrame(this.#run), wait);
  }

  /**
   * Times the next frame's rendering into frameTimes, for a panel that drew outside the loop
   * (the bench's baseline redraws as each message arrives).
   */
  rendered(): void {
    if (this.#probing) return;
    this.#probing = true;
    requestAnimationFrame(this.#probe);
  }

  #frame(): void {
    this.#scheduled = false;
    const panels = this.#dirty;
    if (panels.size === 0) return;
    this.#dirty = new Set();
    const t0 = performance.now();
    this.#lastMs = t0;
    const size = panels.size;
    this.#repaintsLeft = this.#repaintsPerFrame;
    this.#current = panels;
    // A bound on the panels put off (`after`): panels naming each other in a ring still flush.
    let deferrals = size;
    try {
      for (const panel of panels) {
        const first = panel.after;
        if (first && deferrals > 0 && panels.has(first) && !this.#flushed.has(first)) {
          // Taken out and added again, it is reached after the panels now in the frame.
          deferrals--;
          panels.delete(panel);
          panels.add(panel);
          continue;
        }
        this.#flushed.add(panel);
        panel.flush();
      }
    } finally {
      this.#current = undefined;
      this.#flushed.clear();
    }
    this.#begin(t0, performance.now() - t0, size);
  }

  #begin(t0: number, ms: number, size = 0): void {
    this.#pending.push({ t0, redrawMs: ms, chargedMs: this.#chargedMs, size, laterMs: 0 });
    this.#chargedMs = 0;
    this.#port.postMessage(0);
  }

  #end(): void {
    const f = this.#pending.shift();
    if (!f) return;
    const now = performance.now();
    const ms = now - f.t0 - f.laterMs + f.chargedMs, script = f.redrawMs + f.chargedMs;
    this.frameTimes.push(ms);
    this.frameScripts.push(script);
    this.frameCharges.push(f.chargedMs);
    this.frameSizes.push(f.size);
    this.frameStarts.push(f.t0);
    if (this.frameTimes.length > FRAME_TIMES_MAX) {
      for (
        const list of [
          this.frameTimes,
          this.frameScripts,
          this.frameCharges,
          this.frameSizes,
          this.frameStarts,
        ]
      ) {
        list.splice(0, FRAME_TIMES_MAX / 2);
      }
    }
    this.#onFrame?.(ms, script, f.size, f.t0);
  }
}
