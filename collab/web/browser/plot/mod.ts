/**
 * The live plot: a channel's recent samples drawn on a canvas (on the page's thread or in a
 * worker: live_worker.ts, live_worker_link.ts, remote_live_plot.ts), its axes, scales, marks and
 * style, the decimation to the canvas's columns, the series ring and the frame loop that paces
 * repaints.
 */
export { LIVE_STYLE, type LiveMarker, type LiveOverlays } from "./_live_style.ts";
export { decimate, DECIMATE_COLUMNS } from "./decimate.ts";
export { type Flushable, FrameLoop } from "./frame_loop.ts";
export { firstAfter, LIVE_UPDATES_PER_REPAINT, LivePlot } from "./live_plot.ts";
export { LiveWorkerLink } from "./live_worker_link.ts";
export { eachRegime } from "./regimes.ts";
export type { RemoteLivePlot } from "./remote_live_plot.ts";
export { SeriesRing } from "./series_ring.ts";
export { siAxis, siValue } from "./si_number.ts";
export { TIME_AXIS } from "./time_labels.ts";
