/// <reference lib="dom" />
/**
 * The uPlot options of a channel chart (channel_chart.ts): its series (the value and expected
 * lines; the band's edges scale the y axis and draw nothing), its axes, drag-to-zoom, and the
 * hooks that draw the band under the series and the overlays over them.
 */
import type uPlot from "uplot";
import { drawBand, drawOverlays, type Overlays } from "./_chart_draw.ts";
import { siAxis, TIME_AXIS } from "../plot/mod.ts";

const NO_PATH = () => null;

const AXIS = { stroke: "#8a96a3", grid: { stroke: "#2a323c", width: 1 }, ticks: { show: false } };

/**
 * The value axis's labels with SI prefixes (si_number.ts): uPlot's own write every digit with
 * thousands separators, which a 50-pixel axis cut to `000,000`.
 */
export const VALUE_AXIS = {
  ...AXIS,
  size: 50,
  values: (_u: uPlot, splits: number[]) => {
    const step = splits.length > 1 ? Math.abs(splits[1]! - splits[0]!) : Math.abs(splits[0] ?? 1);
    const maxAbs = splits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const label = siAxis(step || 1, maxAbs);
    return splits.map(label);
  },
};

/** What a channel chart's options are made of. */
export interface ChartOptionsInit {
  width: number;
  height: number;
  /** The plot's right margin, CSS pixels. */
  right: number;
  /** What the overlays draw now. */
  overlays(): Overlays;
  /** A drag selected a range. */
  zoom(u: uPlot): void;
  /** The pointer moved over the chart or left it. */
  cursorMoved(u: uPlot): void;
}

/** The options of a channel chart's uPlot. */
export function chartOptions(init: ChartOptionsInit): uPlot.Options {
  return {
    width: init.width,
    height: init.height,
    scales: { x: { time: true } },
    legend: { show: false },
    padding: [null, init.right, null, null],
    // The zoom is applied by the setSelect hook, from whichever view is shown.
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    series: [
      {},
      // Solid lines only: a dashed line cost more than the rest of a redraw on a
      // software-rendered canvas. The band's edges take part in the y range but draw nothing
      // themselves: the band is one filled polygon (drawBand), cheaper than uPlot's clipped
      // bands.
      { label: "value", stroke: "#d8dee6", width: 1, points: { show: false } },
      { label: "expected", stroke: "#4fa3ff", width: 1, points: { show: false } },
      { label: "lower", paths: NO_PATH, points: { show: false } },
      { label: "upper", paths: NO_PATH, points: { show: false } },
    ],
    // Fewer, one-line labels: text is a large share of a small chart's redraw.
    axes: [{ ...AXIS, ...TIME_AXIS }, { ...VALUE_AXIS, space: 40 }],
    hooks: {
      drawAxes: [(u) => drawBand(u)],
      draw: [(u) => drawOverlays(u, init.overlays())],
      setSelect: [init.zoom],
      setCursor: [init.cursorMoved],
    },
  };
}
