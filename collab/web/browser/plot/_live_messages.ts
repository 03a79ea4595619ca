/**
 * The messages between the page and the live-plot worker (`live_worker.ts`), which draws the
 * charts' live views on OffscreenCanvases so that their drawing and Chromium's commit of each
 * canvas leave the page's main thread. The page sends each chart's samples as they arrive, its
 * overlays when they change, its layout and whether it follows the live edge; the worker answers
 * once per frame it drew with the frame's timing and each drawn plot's scales (so the page can
 * map a pixel to a time for drag-to-zoom), and answers the tests' requests for pixels and repaints.
 */
import type { LiveOverlays, PlotRect } from "./live_plot.ts";

/** What the page sends the worker. */
export type ToLiveWorker =
  | { t: "add"; id: number; canvas: OffscreenCanvas; points: number }
  | { t: "layout"; id: number; width: number; height: number; rect: PlotRect; dpr: number }
  /** Samples: `t` in microseconds, then value, expected, lower, upper (same lengths). */
  | { t: "append"; id: number; cols: Float64Array[] }
  /** Several messages in one post (the page batches a burst's appends). */
  | { t: "batch"; messages: ToLiveWorker[] }
  | { t: "overlays"; id: number; overlays: LiveOverlays; from: number }
  | { t: "follow"; id: number; on: boolean }
  /** Repaint now at the current scales (`ask` answers with `done`). */
  | { t: "repaint"; id: number; ask: number }
  /** Answer with the canvas's pixels (`pixels`). */
  | { t: "pixels"; id: number; ask: number };

/** The scales a plot was last drawn at: its time range and where its plot sits (device px). */
export interface PlotScales {
  id: number;
  min: number;
  max: number;
  left: number;
  width: number;
  dpr: number;
  paints: { none: number; strip: number; full: number };
}

/** What the worker sends the page. */
export type FromLiveWorker =
  | {
    t: "frame";
    /** The frame's time: samples handled since the last frame, drawing, and the commit. */
    ms: number;
    /** Its script part (handling and drawing). */
    script: number;
    /** When it started, milliseconds since the epoch (performance.timeOrigin + now). */
    start_epoch_ms: number;
    scales: PlotScales[];
  }
  | { t: "done"; ask: number }
  | { t: "pixels"; ask: number; data: Uint8ClampedArray }
  | { t: "error"; message: string };
