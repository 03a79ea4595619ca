/// <reference lib="dom" />
/**
 * The page's side of the live-plot worker (`live_worker.ts`): it starts the worker, hands it each
 * chart's canvas (`transferControlToOffscreen`), and keeps what the worker reports: each frame's
 * time, in the page's clock, for the bench and the status line (the same lists a FrameLoop keeps),
 * and each plot's scales for RemoteLivePlot. Where the browser cannot draw a canvas from a worker,
 * `LiveWorkerLink.available()` says so and the charts draw on the page (LivePlot).
 */
import { FRAME_TIMES_MAX } from "./frame_loop.ts";
import type { FromLiveWorker, PlotScales, ToLiveWorker } from "./_live_messages.ts";
import { RemoteLivePlot } from "./remote_live_plot.ts";

/** Where the worker's script is served (collab/web/dashboard_http.ts). */
export const LIVE_WORKER_URL = "/dashboard_worker.js";

/** Bounds of the link. */
export const LIVE_LINK_LIMITS = {
  /** Milliseconds a test's request (pixels, a repaint) waits for the worker. */
  ask_timeout_ms: 10_000,
} as const;

type Answer = Extract<FromLiveWorker, { ask: number }>;

export class LiveWorkerLink {
  readonly #worker: Worker;
  readonly #plots = new Map<number, RemoteLivePlot>();
  readonly #asks = new Map<number, (m: Answer) => void>();
  #nextId = 1;
  #nextAsk = 1;
  /** Appends not yet posted, and their buffers (sent as one batch: see #queue). */
  #pending: ToLiveWorker[] = [];
  #pendingTransfer: Transferable[] = [];
  /** The worker's frames (as FrameLoop's lists): whole time, script part, and start in the
   *  page's `performance.now()`. */
  readonly frameTimes: number[] = [];
  readonly frameScripts: number[] = [];
  readonly frameStarts: number[] = [];
  /** Each batch's post on this thread: how long it took, and when (`performance.now()`): the
   *  bench counts them into the main thread's time, as they run outside any message's handling. */
  readonly postTimes: number[] = [];
  readonly postStarts: number[] = [];
  /** The worker's last error, if any (the status line shows it; tests assert it is empty). */
  lastError = "";

  /** Whether this browser can draw a page's canvas from a worker. */
  static available(): boolean {
    return typeof Worker !== "undefined" && typeof OffscreenCanvas !== "undefined" &&
      typeof HTMLCanvasElement.prototype.transferControlToOffscreen === "function";
  }

  constructor(url = LIVE_WORKER_URL) {
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<FromLiveWorker>) => this.#receive(e.data);
    this.#worker.onerror = (e) => {
      this.lastError = `live-plot worker: ${e.message}`;
    };
  }

  /** The live view of `canvas` (now drawn by the worker), keeping `points` samples; `onDrawn`
   *  is told each time the worker reports it drawn (its range moved). */
  plot(canvas: HTMLCanvasElement, points: number, onDrawn?: () => void): RemoteLivePlot {
    const id = this.#nextId++;
    const offscreen = canvas.transferControlToOffscreen();
    this.send({ t: "add", id, canvas: offscreen, points }, [offscreen]);
    const plot = new RemoteLivePlot(id, canvas, this, onDrawn);
    this.#plots.set(id, plot);
    return plot;
  }

  send(m: ToLiveWorker, transfer: Transferable[] = []): void {
    this.#flush();
    this.#worker.postMessage(m, transfer);
  }

  /**
   * Queues `m` (samples) to be posted with the others of the same burst, at the next timer turn:
   * the gateway delivers a round's messages together, and one post a round instead of one per
   * chart saves each post's fixed cost on the main thread. Anything sent meanwhile goes after.
   */
  queue(m: ToLiveWorker, transfer: Transferable[]): void {
    if (this.#pending.length === 0) setTimeout(() => this.#flush(), 0);
    this.#pending.push(m);
    this.#pendingTransfer.push(...transfer);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const t0 = performance.now();
    const messages = this.#pending, transfer = this.#pendingTransfer;
    this.#pending = [];
    this.#pendingTransfer = [];
    this.#worker.postMessage({ t: "batch", messages }, transfer);
    this.postTimes.push(performance.now() - t0);
    this.postStarts.push(t0);
    if (this.postTimes.length > FRAME_TIMES_MAX) {
      this.postTimes.splice(0, FRAME_TIMES_MAX / 2);
      this.postStarts.splice(0, FRAME_TIMES_MAX / 2);
    }
  }

  /** Sends a request that the worker answers (pixels, a repaint), and waits for the answer. */
  ask(m: Extract<ToLiveWorker, { ask: number }>): Promise<Answer> {
    const ask = this.#nextAsk++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#asks.delete(ask);
        reject(new Error(`The live-plot worker did not answer "${m.t}" within 10 s`));
      }, LIVE_LINK_LIMITS.ask_timeout_ms);
      this.#asks.set(ask, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.send({ ...m, ask });
    });
  }

  #receive(m: FromLiveWorker): void {
    if (m.t === "error") {
      this.lastError = m.message;
      return;
    }
    if (m.t !== "frame") {
      const answer = this.#asks.get(m.ask);
      this.#asks.delete(m.ask);
      answer?.(m);
      return;
    }
    this.frameTimes.push(m.ms);
    this.frameScripts.push(m.script);
    this.frameStarts.push(m.start_epoch_ms - performance.timeOrigin);
    if (this.frameTimes.length > FRAME_TIMES_MAX) {
      for (const list of [this.frameTimes, this.frameScripts, this.frameStarts]) {
        list.splice(0, FRAME_TIMES_MAX / 2);
      }
    }
    for (const s of m.scales) this.#plots.get(s.id)?.drawn(s as PlotScales);
  }
}
