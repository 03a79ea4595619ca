/**
 * The live view's looks and bounds (`LivePlot` and its parts: the scales, the axes, the marks).
 * `live_plot.ts` exports them to the rest of the page.
 */

/** Looks and bounds of the live view. */
export const LIVE_STYLE = {
  value: "#d8dee6",
  expected: "#4fa3ff",
  band: "rgba(79,163,255,0.18)",
  grid: "#2a323c",
  label: "#8a96a3",
  anomaly: "#ff5d5d",
  regime: "rgba(255,179,71,0.8)",
  /** Share of the y range added above and below the data at a repaint. */
  y_pad: 0.12,
  /** Least CSS pixels between time ticks and between value ticks. */
  x_space_px: 90,
  y_space_px: 40,
  /** Most CSS pixels a time label takes (it is squeezed to fit). */
  label_px: 64,
  /** Most sample points drawn per pixel column in one repaint (more are decimated). */
  points_per_px: 2,
  /**
   * A refresh (the periodic repaint with fresh scales) repaints only if the y range shown is more
   * than this share wider than the fresh one, or the time scale changed by more than
   * `refresh_k_share`: a repaint that would show the same picture is skipped (each costs about
   * the frame's budget for one chart: decimating and drawing the whole window, and its blit).
   */
  refresh_slack: 0.25,
  refresh_k_share: 0.01,
} as const;

/** The live view's font at device pixel ratio `dpr` (its canvases' and the time labels'). */
export function liveFont(dpr: number): string {
  return `${11 * dpr}px system-ui, sans-serif`;
}

/** The plot's rectangle inside the canvas, in device pixels. */
export interface PlotRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A marker in time: seconds since the epoch; `y` NaN for a full-height line. */
export interface LiveMarker {
  t: number;
  y: number;
  text: string;
  color: string;
  /** A change point's: the mean of the regime before it, the level just before it (over as long
   *  as the new regime took to confirm), and when it was confirmed (seconds). */
  before?: number;
  levelBefore?: number;
  seen?: number;
}

/** What a LivePlot draws besides the series. */
export interface LiveOverlays {
  anomalies: readonly LiveMarker[];
  changes: readonly LiveMarker[];
  annotations: readonly LiveMarker[];
}

/** A 2d context the live view paints with: the page's canvas's or an OffscreenCanvas's. */
export type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
