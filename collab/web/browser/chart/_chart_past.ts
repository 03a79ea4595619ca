/**
 * A chart's past: the history answer a pinned range is read from (history_client.ts), asked at
 * the chart's width, and turned into what the chart draws: times in seconds, the values, the
 * findings as markers and the incidents as bands over their spans. The answer itself goes on to
 * the card's candles (its bars) and its incident legend.
 */
import { HISTORY_LIMITS, type HistoryResponse, type Incident } from "../../../../protocol/mod.ts";
import type { HistoryClient } from "../link/mod.ts";
import type { LiveMarker } from "../plot/mod.ts";

/** What a chart pinned to a range older than its ring draws. */
export interface ChartPast {
  /** Seconds since the epoch. */
  t: Float64Array;
  v: Float64Array;
  findings: LiveMarker[];
  incidents: IncidentBand[];
}

/** An incident drawn over its span: first to last finding, seconds (while it is `open`, not
 *  resolved, `ongoingBands` runs it on to the chart's newest sample). */
export interface IncidentBand {
  id: string;
  t0: number;
  t1: number;
  severity: number;
  color: string;
  open: boolean;
}

/** The least time shown each side of an incident opened at (seconds). */
export const INCIDENT_MARGIN_S = 60;

/** When a chart opens an incident: from `tS`, at `nowS` (seconds since the epoch). */
export interface IncidentWindowAt {
  tS: number;
  nowS: number;
  /** The channel's sampling step (seconds), if known: the margin holds this many samples. */
  stepS?: number;
}

/** Samples each side of an incident its window holds at least, for a channel sampled slowly. */
export const INCIDENT_MARGIN_SAMPLES = 12;

/**
 * The window (seconds) a chart opened at incident `i` shows: its span with half its length (a
 * minute at least) each side, so that it fills about half the width; while it is not resolved it
 * has no end yet, and its window ends at `nowS`: the future holds nothing to show (its span then
 * runs to now, and the margin before it from that). Its margin holds `INCIDENT_MARGIN_SAMPLES`
 * of the channel's samples at least (`stepS`): a channel sampled every five minutes opened on a
 * minute's window that held one sample.
 */
export function incidentWindow(
  i: Incident,
  { tS, nowS, stepS }: IncidentWindowAt,
): { min: number; max: number } {
  const open = i.state !== "resolved";
  const end = Math.max(tS, i.last_us * 1e-6, open ? nowS : -Infinity);
  const sampled = stepS !== undefined && stepS > 0 ? stepS * INCIDENT_MARGIN_SAMPLES : 0;
  const half = Math.max(INCIDENT_MARGIN_S, (end - tS) / 2, sampled);
  return { min: tS - half, max: open ? end : end + half };
}

/** The band of `i` (an anomaly's red, a change's orange, else blue). */
export function incidentBand(i: Incident): IncidentBand {
  const color = i.kind === "anomaly"
    ? "255,93,93"
    : i.kind === "collapse"
    ? "255,179,71"
    : "79,163,255";
  return {
    id: i.id,
    t0: i.first_us * 1e-6,
    t1: i.last_us * 1e-6,
    severity: i.peak_severity,
    color,
    open: i.state !== "resolved",
  };
}

/**
 * `bands` as a chart whose newest sample is at `newestS` (seconds; undefined: it has none) draws
 * them: an incident not resolved is still going on, so its band reaches that sample rather than
 * ending at its last finding; a resolved one ends at its last finding.
 */
export function ongoingBands(
  bands: readonly IncidentBand[],
  newestS: number | undefined,
): IncidentBand[] {
  return bands.map((b) =>
    b.open && newestS !== undefined && newestS > b.t1 ? { ...b, t1: newestS } : b
  );
}

/**
 * What a chart pinned to history draws: the answer's samples, then the samples its ring received
 * after the answer's last one up to `untilS` (a window that goes on with an incident still open;
 * a window that stays where it was pinned takes none past its end), as one line.
 */
export function pastWithTail(
  past: { t: Float64Array; v: Float64Array },
  ring: { t: Float64Array; v: Float64Array },
  untilS: number,
): { t: Float64Array; v: Float64Array } {
  const last = past.t.length > 0 ? past.t[past.t.length - 1]! : -Infinity;
  let to = ring.t.length;
  while (to > 0 && ring.t[to - 1]! > untilS) to--;
  let from = to;
  while (from > 0 && ring.t[from - 1]! > last) from--;
  if (from === to) return past;
  const n = past.t.length, tail = to - from;
  const t = new Float64Array(n + tail), v = new Float64Array(n + tail);
  t.set(past.t);
  v.set(past.v);
  t.set(ring.t.subarray(from, to), n);
  v.set(ring.v.subarray(from, to), n);
  return { t, v };
}

/** The point of (t, v) nearest to `tS` (seconds), or undefined outside their span. */
export function nearestPoint(
  t: Float64Array,
  v: Float64Array,
  tS: number,
): { t: number; v: number } | undefined {
  if (t.length === 0 || tS < t[0]! || tS > t[t.length - 1]!) return undefined;
  let lo = 0, hi = t.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= tS) lo = mid;
    else hi = mid;
  }
  const i = tS - t[lo]! <= t[hi]! - tS ? lo : hi;
  return { t: t[i]!, v: v[i]! };
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
  return { t, v: h.v, findings, incidents: h.incidents.map(incidentBand) };
}
