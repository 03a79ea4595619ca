/**
 * A chart's past: the history answer a pinned range is read from (history_client.ts), asked at
 * the chart's width, and turned into what the chart draws: times in seconds, the values, and the
 * findings as markers. The answer itself goes on to the card's candles (its bars).
 */
import { HISTORY_LIMITS, type HistoryResponse } from "../../../protocol/mod.ts";
import type { HistoryClient } from "./history_client.ts";
import type { LiveMarker } from "./_live_style.ts";

/** What a chart pinned to a range older than its ring draws. */
export interface ChartPast {
  /** Seconds since the epoch. */
  t: Float64Array;
  v: Float64Array;
  findings: LiveMarker[];
}

/** The history of `channel` over `range` (seconds) at four points a pixel column of `widthPx`;
 *  undefined when a newer request superseded it. */
export async function readPast(
  history: HistoryClient,
  options: { channel: string; range: { min: number; max: number }; widthPx: number },
): Promise<HistoryResponse | undefined> {
  const columns = Math.max(64, Math.round(options.widthPx));
  return await history.get({
    channel: options.channel,
    t0_us: Math.floor(options.range.min * 1e6),
    t1_us: Math.ceil(options.range.max * 1e6),
    points_max: Math.min(HISTORY_LIMITS.points_max, columns * 4),
  });
}

/** What the chart draws of a history answer. */
export function chartPast(h: HistoryResponse): ChartPast {
  const t = new Float64Array(h.t.length);
  for (let i = 0; i < t.length; i++) t[i] = h.t[i]! * 1e-6;
  const findings = h.findings.map((f) => ({
    t: f.ts_us * 1e-6,
    y: NaN,
    text: `${f.kind}: ${f.what}`,
    color: f.kind === "anomaly" ? "#ff5d5d" : "#ffb347",
  }));
  return { t, v: h.v, findings };
}
