/// <reference lib="dom" />
/**
 * The live-plot worker (bundled as `/dashboard_worker.js`): it draws every chart's live view on
 * the OffscreenCanvas the page transferred to it, so the drawing and Chromium's commit of each
 * canvas happen on this thread, not on the page's main thread, which is left to the messages and
 * the user. Each chart's samples come as they arrive into a ring of its own (the page keeps its
 * own for uPlot's pinned view); a FrameLoop here redraws the changed plots once per animation
 * frame, as the page's did, and times each frame the same way (from the animation frame callback
 * to the first task after the frame, which is after the canvases' commit), charging the time
 * spent taking samples in. Each frame is reported to the page with the drawn plots' scales.
 *
 * It is not the default (`&render=worker` asks for it): the page's main thread does much less per
 * round of updates (only the messages and one batched post), but the worker's frames cost about as
 * much as the page's whole frame does, so in all it costs more (docs/performance.md, "Figures
 * behind the code"). Its trace gives each canvas its own commit from the worker
 * (`OffscreenCanvas::PushFrame`, one per chart a frame), which the page's single commit of all its
 * canvases does not pay; one OffscreenCanvas holding every chart would pay it once.
 */
import { DECIMATE_COLUMNS } from "./decimate.ts";
import { type Flushable, FrameLoop } from "./frame_loop.ts";
import type { FromLiveWorker, PlotScales, ToLiveWorker } from "./_live_messages.ts";
import {
  LIVE_UPDATES_PER_REPAINT,
  type LiveOverlays,
  LivePlot,
  type PaintKind,
} from "./live_plot.ts";
import { SeriesRing } from "./series_ring.ts";

/** The parts of a dedicated worker's global scope used here (the DOM's types are the page's). */
interface WorkerScope {
  onmessage: ((e: MessageEvent<ToLiveWorker>) => void) | null;
  postMessage(message: FromLiveWorker, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;

/** One chart's live view in the worker. */
class WorkerPlot {
  readonly ring: SeriesRing;
  readonly plot: LivePlot;
  overlays: LiveOverlays = { anomalies: [], changes: [], annotations: [] };
  following = true;
  /** What the frame loop marks and flushes (one per plot, so a frame draws it once). */
  readonly panel: Flushable;
  #sinceRepaint = 0;
  readonly #views: Float64Array[] = [];

  constructor(
    readonly id: number,
    canvas: OffscreenCanvas,
    options: { points: number; onFlush(p: WorkerPlot): void },
  ) {
    this.ring = new SeriesRing(DECIMATE_COLUMNS, options.points);
    this.plot = new LivePlot(canvas);
    this.panel = { flush: () => options.onFlush(this) };
  }

  views(): Float64Array[] {
    for (let c = 0; c < DECIMATE_COLUMNS; c++) this.#views[c] = this.ring.view(c);
    return this.#views;
  }

  /** Draws what changed; fresh scales every so often, when the frame has room for them. */
  draw(loop: FrameLoop): PaintKind {
    if (!this.following) return "none";
    const refresh = this.#sinceRepaint >= LIVE_UPDATES_PER_REPAINT && loop.takeRepaint();
    const kind = this.plot.update(this.views(), this.overlays, refresh);
    this.#sinceRepaint = kind === "full" || (refresh && kind !== "none")
      ? 0
      : this.#sinceRepaint + 1;
    return kind;
  }

  scales(): PlotScales {
    const { min, max } = this.plot.range();
    return { id: this.id, min, max, ...this.plot.place(), paints: { ...this.plot.paints } };
  }
}

/**
 * The worker's state: the plots by id, the frame loop, and the plots drawn since the last report.
 */
class LiveWorker {
  readonly #plots = new Map<number, WorkerPlot>();
  readonly #drawn = new Set<WorkerPlot>();
  readonly #loop = new FrameLoop({
    onFrame: (ms, script, _size, start) => this.#report(ms, script, start),
  });

  handle(m: ToLiveWorker): void {
    if (m.t === "batch") {
      for (const one of m.messages) this.handle(one);
      return;
    }
    const t0 = performance.now();
    if (m.t === "add") {
      const onFlush = (p: WorkerPlot) => this.#draw(p);
      this.#plots.set(m.id, new WorkerPlot(m.id, m.canvas, { points: m.points, onFlush }));
      return;
    }
    const p = this.#plots.get(m.id);
    if (!p) throw new Error(`Cannot handle "${m.t}" for live plot ${m.id}: no such plot`);
    switch (m.t) {
      case "layout":
        p.plot.layout(m.width, m.height, m.rect, m.dpr);
        break;
      case "append":
        p.ring.append(m.cols, 0, m.cols[0]!.length, 1e-6);
        break;
      case "overlays":
        p.overlays = m.overlays;
        if (m.from === -Infinity) p.plot.invalidate();
        else p.plot.invalidateFrom(m.from);
        break;
      case "follow":
        p.following = m.on;
        if (m.on) p.plot.invalidate();
        break;
      case "repaint":
        p.plot.redraw(p.views(), p.overlays);
        scope.postMessage({ t: "done", ask: m.ask });
        return;
      case "pixels": {
        const c = p.plot.canvas;
        const ctx = c.getContext("2d") as OffscreenCanvasRenderingContext2D;
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        scope.postMessage({ t: "pixels", ask: m.ask, data }, [data.buffer]);
        return;
      }
    }
    this.#loop.charge(performance.now() - t0);
    if (p.following) this.#loop.mark(p.panel);
  }

  #draw(p: WorkerPlot): void {
    if (p.draw(this.#loop) !== "none") this.#drawn.add(p);
  }

  #report(ms: number, script: number, start: number): void {
    const scales = [...this.#drawn].map((p) => p.scales());
    this.#drawn.clear();
    scope.postMessage({
      t: "frame",
      ms,
      script,
      start_epoch_ms: performance.timeOrigin + start,
      scales,
    });
  }
}

const worker = new LiveWorker();
scope.onmessage = (e) => {
  try {
    worker.handle(e.data);
  } catch (err) {
    scope.postMessage({ t: "error", message: (err as Error).message });
  }
};
