/// <reference lib="dom" />
/**
 * What a channel chart paints on uPlot's canvas beside its series: the prediction band, and the
 * overlays: incidents' bands over their spans, regime levels, vertical marker lines (change
 * points, annotations, findings from history) and anomaly dots.
 */
import type uPlot from "uplot";
import type { IncidentBand } from "./_chart_past.ts";
import { eachRegime, type LiveMarker } from "../plot/mod.ts";
import { labelRows } from "./label_rows.ts";

/** The prediction band: one polygon along the upper edge and back along the lower. */
export function drawBand(u: uPlot): void {
  const [t, , , lo, up] = u.data as unknown as Float64Array[];
  const n = t?.length ?? 0;
  // History has no band (its lower and upper columns are empty).
  if (!t || n < 2 || !lo || !up || typeof lo[0] !== "number") return;
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
  ctx.clip();
  ctx.beginPath();
  ctx.moveTo(u.valToPos(t[0]!, "x", true), u.valToPos(up[0]!, "y", true));
  for (let i = 1; i < n; i++) {
    ctx.lineTo(u.valToPos(t[i]!, "x", true), u.valToPos(up[i]!, "y", true));
  }
  for (let i = n - 1; i >= 0; i--) {
    ctx.lineTo(u.valToPos(t[i]!, "x", true), u.valToPos(lo[i]!, "y", true));
  }
  ctx.closePath();
  ctx.fillStyle = "rgba(79,163,255,0.18)";
  ctx.fill();
  ctx.restore();
}

/** A vertical line across the plot at canvas x. */
export function vline(
  ctx: CanvasRenderingContext2D,
  x: number,
  top: number,
  height: number,
  color: string,
  dash: number[],
): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash(dash);
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + height);
  ctx.stroke();
  ctx.setLineDash([]);
}

/** The markers a chart draws over its series. */
export interface Overlays {
  /** Change points, each with the means of the regimes before and after it (regimes.ts). */
  changes: readonly LiveMarker[];
  /** Findings from history, in a pinned window. */
  findings: readonly LiveMarker[];
  /** Incidents over their spans (from history, and the one the chart was opened at). */
  incidents: readonly IncidentBand[];
  annotations: readonly LiveMarker[];
  anomalies: readonly LiveMarker[];
}

/**
 * The overlays inside the plot's box: regime levels, change lines, history's findings (dotted),
 * annotations with their text, and anomaly dots.
 */
export function drawOverlays(u: uPlot, o: Overlays): void {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const min = u.scales.x!.min!, max = u.scales.x!.max!;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const b of o.incidents) drawIncident(u, b, min, max);
  drawRegimes(u, o.changes, min, max);
  for (const m of o.changes) {
    if (m.t < min || m.t > max) continue;
    vline(ctx, u.valToPos(m.t, "x", true), top, height, m.color, []);
  }
  for (const m of o.findings) {
    if (m.t < min || m.t > max) continue;
    vline(ctx, u.valToPos(m.t, "x", true), top, height, m.color, [2, 2]);
  }
  drawAnnotations(u, o.annotations, min, max);
  ctx.fillStyle = "#ff5d5d";
  for (const m of o.anomalies) {
    if (m.t < min || m.t > max) continue;
    ctx.beginPath();
    ctx.arc(u.valToPos(m.t, "x", true), u.valToPos(m.y, "y", true), 4 * devicePixelRatio, 0, 7);
    ctx.fill();
  }
  // Last, over every line: nothing strokes through them.
  drawIncidentLabels(u, o.incidents, min, max);
  ctx.restore();
}

/**
 * Each annotation: a dashed line in its author's colour and its text right of it, near the top,
 * as the live view writes it (_live_marks.ts). The alignment and baseline are set here: uPlot
 * leaves its axes' behind (`right`, `middle`), which put the text left of its line.
 */
function drawAnnotations(u: uPlot, list: readonly LiveMarker[], min: number, max: number): void {
  const ctx = u.ctx, dpr = devicePixelRatio;
  const { top, height } = u.bbox;
  ctx.font = `${11 * dpr}px system-ui`;
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  for (const m of list) {
    if (m.t < min || m.t > max) continue;
    const x = u.valToPos(m.t, "x", true);
    vline(ctx, x, top, height, m.color, [3, 3]);
    ctx.fillStyle = m.color;
    ctx.fillText(m.text.slice(0, 40), x + 4 * dpr, top + 12 * dpr);
  }
}

/** An incident: a translucent band over its span (at least 3 px) and a strip along the top in
 *  its colour (its label comes later, drawIncidentLabels). */
function drawIncident(u: uPlot, b: IncidentBand, min: number, max: number): void {
  if (b.t1 < min || b.t0 > max) return;
  const ctx = u.ctx, dpr = devicePixelRatio;
  const { top, height } = u.bbox;
  const x0 = u.valToPos(b.t0, "x", true);
  const w = Math.max(3 * dpr, u.valToPos(b.t1, "x", true) - x0);
  ctx.fillStyle = `rgba(${b.color},0.16)`;
  ctx.fillRect(x0, top, w, height);
  ctx.fillStyle = `rgba(${b.color},0.9)`;
  ctx.fillRect(x0, top, w, 3 * dpr);
}

/** Pixels (CSS) of a row of incident labels, and of their font. */
const LABEL_ROW_PX = 13, LABEL_FONT_PX = 10;

/** CSS pixels under which two incidents' labels start at one place and are one tag. */
const LABEL_SAME_PX = 4;

/**
 * Each incident's severity (`sev 4`) in its colour, inside its band from its left edge (the
 * plot's, for a band that starts before it; moved left to stay inside the plot), on a dark tag,
 * overlapping bands' labels stacked in rows (label_rows.ts) so that none writes over another.
 * Labels that would start at one place (bands under `LABEL_SAME_PX` apart, which the eye cannot
 * tell apart either: a young session's incidents at the right edge of an hour's view) are one
 * tag, `sev 5 ×3`, the highest severity of them and how many: stacked, they made a column of
 * tags over the line, none telling which band it named. The alignment and
 * baseline are set here: uPlot leaves its axes' (`right`, `middle`) behind.
 */
function drawIncidentLabels(u: uPlot, bands: readonly IncidentBand[], min: number, max: number) {
  const ctx = u.ctx, dpr = devicePixelRatio;
  const { left, top, width, height } = u.bbox;
  ctx.font = `${LABEL_FONT_PX * dpr}px system-ui`;
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  const pad = 2 * dpr;
  // Where each label would start (kept inside the plot with room for a grouped tag).
  const tagPx = ctx.measureText("sev 5 ×99").width + 2 * pad;
  const starts = bands.filter((b) => b.t1 >= min && b.t0 <= max).map((b) => ({
    b,
    x0: Math.min(Math.max(left, u.valToPos(b.t0, "x", true) + dpr), left + width - tagPx),
  })).sort((a, b) => a.x0 - b.x0);
  const groups: Array<{ b: IncidentBand; x0: number; n: number }> = [];
  for (const s of starts) {
    const g = groups[groups.length - 1];
    if (g && s.x0 - g.x0 < LABEL_SAME_PX * dpr) {
      g.n++;
      if (s.b.severity > g.b.severity) g.b = s.b;
    } else groups.push({ ...s, n: 1 });
  }
  const shown = groups.map(({ b, x0, n }) => {
    const text = n > 1 ? `sev ${b.severity} ×${n}` : `sev ${b.severity}`;
    const w = ctx.measureText(text).width + 2 * pad;
    return { b, text, x: Math.min(x0, left + width - w), width: w };
  });
  const rowsMax = Math.max(1, Math.floor(height / (LABEL_ROW_PX * dpr)) - 1);
  const rows = labelRows(shown, { rowsMax, gapPx: dpr });
  shown.forEach((l, i) => {
    if (rows[i]! < 0) return;
    const y = top + (5 + LABEL_ROW_PX * rows[i]!) * dpr;
    ctx.fillStyle = "rgba(23,29,36,0.85)"; // the card's --panel
    ctx.fillRect(l.x, y - pad / 2, l.width, (LABEL_FONT_PX + 2) * dpr);
    ctx.fillStyle = `rgb(${l.b.color})`;
    ctx.fillText(l.text, l.x + pad, y);
  });
}

/** Each regime's mean as a level over the span it held (regimes.ts). */
function drawRegimes(u: uPlot, changes: readonly LiveMarker[], min: number, max: number): void {
  const ctx = u.ctx;
  ctx.strokeStyle = "rgba(255,179,71,0.8)";
  ctx.lineWidth = 2 * devicePixelRatio;
  eachRegime(changes, min, max, (t0, t1, level) => {
    const y = u.valToPos(level, "y", true);
    ctx.beginPath();
    ctx.moveTo(u.valToPos(t0, "x", true), y);
    ctx.lineTo(u.valToPos(t1, "x", true), y);
    ctx.stroke();
  });
}
