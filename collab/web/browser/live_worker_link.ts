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
  /** The worker's frames (as FrameLoop's lists): whole time, script part, and start in the
   *  page's `performance.now()`. */
  readonly frameTimes: number[] = [];
  readonly frameScripts: number[] = [];
  readonly frameStarts: number[] = [];
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

  /** The live view of `canvas` (now drawn by the worker), keeping `points` samples. */
  plot(canvas: HTMLCanvasElement, points: number): RemoteLivePlot {
    const id = this.#nextId++;
    const offscreen = canvas.transferControlToOffscreen();
    this.send({ t: "add", id, canvas: offscreen, points }, [offscreen]);
    const plot = new RemoteLivePlot(id, canvas, this);
    this.#plots.set(id, plot);
    return plot;
  }

  send(m: ToLiveWorker, transfer: Transferable[] = []): void {
    this.#worker.postMessage(m, transfer);
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
