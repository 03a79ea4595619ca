/**
 * The charts of the page: the grid of channel and candle charts, each live (the plot) or pinned to
 * a past range (the history's answer, drawn with uPlot), their headers, keys, markers and incident
 * bands, and what a chart says when history fails or starts late.
 */
export type { ChannelChart } from "./channel_chart.ts";
export { ChartGrid } from "./chart_grid.ts";
