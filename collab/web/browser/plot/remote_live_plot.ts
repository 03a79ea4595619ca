/// <reference lib="dom" />
/**
 * A chart's live view drawn by the live-plot worker: the page's stand-in for a LivePlot. It sends
 * the chart's samples, overlays, layout and whether it follows to the worker, and answers what the
 * chart asks of its live view (the time range shown, the time at a pixel for drag-to-zoom, the
 * paint counts) from the scales the worker reported with the last frame that drew it.
 */
import type { LiveOverlays, PlotRect } from "./live_plot.ts";
import type { FromLiveWorker, PlotScales, ToLiveWorker } from "./_live_messages.ts";

/** What a remote plot needs of the page's link to the worker (live_worker_link.ts). */
export interface LivePlotLink {
  send(m: ToLiveWorker, transfer?: Transferable[]): void;
  queue(m: ToLiveWorker, transfer: Transferable[]): void;
  ask(
    m: Extract<ToLiveWorker, { ask: number }>,
  ): Promise<Extract<FromLiveWorker, { ask: number }>>;
}

/** A chart's live view drawn by the live-plot worker. */
export class RemoteLivePlot {
  readonly canvas: HTMLCanvasElement;
  readonly #id: number;
  readonly #link: LivePlotLink;
  #scales: PlotScales | undefined;
  readonly #onDrawn: (() => void) | undefined;

  constructor(id: number, canvas: HTMLCanvasElement, link: LivePlotLink, onDrawn?: () => void) {
    this.#id = id;
    this.canvas = canvas;
    this.#link = link;
    this.#onDrawn = onDrawn;
  }

  /** Sizes the canvas (CSS pixels here, device pixels in the worker) and the plot's rectangle. */
  layout(widthCss: number, heightCss: number, rect: PlotRect, dpr: number): void {
    this.canvas.style.width = `${widthCss}px`;
    this.canvas.style.height = `${heightCss}px`;
    this.#link.send({
      t: "layout",
      id: this.#id,
      width: widthCss,
      height: heightCss,
      rect: { ...rect },
      dpr,
    });
  }

  /** The first `n` samples: `t` in microseconds, then value, expected, lower, upper. Copied,
   *  then moved (with the burst's others: LiveWorkerLink.queue). */
  append(cols: readonly Float64Array[], n: number): void {
    const own = cols.map((c) => c.slice(0, n));
    this.#link.queue({ t: "append", id: this.#id, cols: own }, own.map((c) => c.buffer));
  }

  /** The overlays changed at or after `from` (seconds; -Infinity: repaint with new scales). */
  overlays(o: LiveOverlays, from: number): void {
    this.#link.send({
      t: "overlays",
      id: this.#id,
      overlays: {
        anomalies: [...o.anomalies],
        changes: [...o.changes],
        annotations: [...o.annotations],
      },
      from,
    });
  }

  /** Follows the live edge (drawn) or not (pinned: uPlot shows the chart). */
  follow(on: boolean): void {
    this.#link.send({ t: "follow", id: this.#id, on });
  }

  /** The worker drew this plot at `s`. */
  drawn(s: PlotScales): void {
    this.#scales = s;
    this.#onDrawn?.();
  }

  /** The time range shown at the last frame that drew it, seconds (NaN before one). */
  range(): { min: number; max: number } {
    return { min: this.#scales?.min ?? NaN, max: this.#scales?.max ?? NaN };
  }

  /** The time at CSS pixel `x` from the canvas's left edge (for drag-to-zoom). */
  timeAt(xCss: number): number {
    const s = this.#scales;
    if (!s) return NaN;
    return s.max - ((s.left + s.width - xCss * s.dpr) * (s.max - s.min)) / s.width;
  }

  /** Paints by kind, as of the last frame that drew it. */
  get paints(): { none: number; strip: number; full: number } {
    return { ...(this.#scales?.paints ?? { none: 0, strip: 0, full: 0 }) };
  }

  /** Repaints the whole plot at its current scales, in the worker; resolves once done. */
  async repaint(): Promise<void> {
    await this.#link.ask({ t: "repaint", id: this.#id, ask: 0 });
  }

  /** The canvas's pixels (RGBA rows), read in the worker. */
  async pixels(): Promise<Uint8ClampedArray> {
    const a = await this.#link.ask({ t: "pixels", id: this.#id, ask: 0 });
    if (a.t !== "pixels") throw new Error(`The live-plot worker answered "${a.t}" for pixels`);
    return a.data;
  }
}
