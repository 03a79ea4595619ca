/**
 * Scores the findings of the actors against a synthetic feed's ground truth (sim/feeds: `truth()`),
 * for `troupe bench detect`:
 * - anomaly events against the labelled anomaly windows (NAB-style): an event inside a window of
 *   its channel detects it (the first one; its delay is counted from the onset), an event outside
 *   every window of its channel is a false positive; as in NAB, the first `probationSamples` of
 *   the feed are a learning period: events there are not scored, nor labels that begin there;
 * - in both, a window is one true positive however many events fall in it: the events after the
 *   first are `repeats`, neither true nor false (as NAB ignores them), so precision is
 *   found / (found + false) and a detector cannot buy precision by firing again inside a window;
 * - collapse events against the labelled change points: an event whose regime start (`change_ts`)
 *   falls in a change's window (the change's own anomaly window when it has one, else
 *   CHANGE_MARGIN_SAMPLES either side) detects it; an event in the window of another labelled
 *   anomaly (a spike, a flatline, a jump) is counted apart, neither found nor false; any other is
 *   a false alarm;
 * - coherence states against the feed's regimes: the fraction of the time the group's state says
 *   `coherent` exactly when the market is `stressed`.
 */
import { decodeCoherenceBody, decodeCollapseBody } from "../protocol/mod.ts";
import type { AnomalyWindow, ChangePoint, GroundTruth, Regime } from "../sim/mod.ts";

/**
 * A finding published by an actor: its kind, key, envelope time and body as it came (read with
 * protocol/events/ decoders, which refuse a bad one).
 */
export interface Finding {
  kind: string;
  key: string;
  ts: number;
  body: unknown;
  /** An anomaly event restating its incident's finding (its body's `restated`). */
  restated?: boolean;
}

/** Precision, recall and F1 with their counts, and the delays of what was found. */
export interface DetectionScore {
  labels: number;
  found: number;
  events: number;
  falsePositives: number;
  /** Events in the window of a label of another kind (collapse only). */
  elsewhere: number;
  /** Events in the window of a label already found: neither true nor false. */
  repeats: number;
  precision: number;
  recall: number;
  f1: number;
  /** Samples from each found label's onset to its first finding, sorted. */
  delays: number[];
  /**
   * Labels and labels found per label kind (spike, drift, crash, ...), so a miss shows its kind.
   */
  byKind: Record<string, { labels: number; found: number }>;
  /** False events per channel (anomaly scores only; channels without one are absent). */
  falseByChannel?: Record<string, number>;
}

/** Labels and labels found per kind. */
export function countByKind<T extends { kind: string }>(
  labels: readonly T[],
  found: (label: T) => boolean,
): Record<string, { labels: number; found: number }> {
  const out: Record<string, { labels: number; found: number }> = {};
  for (const l of labels) {
    const c = out[l.kind] ??= { labels: 0, found: 0 };
    c.labels++;
    if (found(l)) c.found++;
  }
  return out;
}

/** A change point without an anomaly window is matched this many samples either side. */
export const CHANGE_MARGIN_SAMPLES = 20;

/**
 * Precision, recall and F1 of `found` of `labels` labels with `fp` false events: one true per
 * label.
 */
export function f1Of(found: number, fp: number, labels: number) {
  const precision = found + fp > 0 ? found / (found + fp) : labels === 0 ? 1 : 0;
  const recall = labels > 0 ? found / labels : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** Two scores as one: counts added, delays merged in order, labels by kind added. */
export function mergeScores(a: DetectionScore, b: DetectionScore): DetectionScore {
  const fp = a.falsePositives + b.falsePositives;
  const found = a.found + b.found, labels = a.labels + b.labels;
  return {
    labels,
    found,
    events: a.events + b.events,
    falsePositives: fp,
    elsewhere: a.elsewhere + b.elsewhere,
    repeats: a.repeats + b.repeats,
    ...f1Of(found, fp, labels),
    delays: [...a.delays, ...b.delays].sort((x, y) => x - y),
    byKind: mergeKinds(a.byKind, b.byKind),
  };
}

function mergeKinds(a: DetectionScore["byKind"], b: DetectionScore["byKind"]) {
  const out: DetectionScore["byKind"] = {};
  for (const side of [a, b]) {
    for (const [kind, c] of Object.entries(side)) {
      const o = out[kind] ??= { labels: 0, found: 0 };
      o.labels += c.labels;
      o.found += c.found;
    }
  }
  return out;
}

function byChannel<T extends { channel: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.channel) ?? [];
    list.push(item);
    out.set(item.channel, list);
  }
  return out;
}

/** Options of `scoreAnomalies`. */
export interface AnomalyScoreOptions {
  channels: readonly string[];
  intervalUs: number;
  /** Samples at the start not scored (NAB's probationary period); default 0. */
  probationSamples?: number;
}

/**
 * Whether `f` restates its incident's finding (an anomaly event's `restated`): the incident was
 * detected at its opening, so a restatement is no detection of its own.
 */
export function isRestatement(f: Finding): boolean {
  return f.restated === true;
}

/** Anomaly events against the anomaly windows of `channels` (restatements aside). */
export function scoreAnomalies(
  truth: GroundTruth,
  findings: readonly Finding[],
  options: AnomalyScoreOptions,
): DetectionScore {
  const wanted = new Set(options.channels);
  const scoredFrom = (truth.startUs ?? 0) + (options.probationSamples ?? 0) * options.intervalUs;
  const windows = truth.anomalies.filter((a) => wanted.has(a.channel) && a.start >= scoredFrom);
  const perChannel = byChannel(windows);
  const first = new Map<AnomalyWindow, number>();
  const falseByChannel: Record<string, number> = {};
  let fp = 0, events = 0;
  for (const f of findings) {
    if (f.kind !== "anomaly" || !wanted.has(f.key) || f.ts < scoredFrom) continue;
    if (isRestatement(f)) continue;
    events++;
    const w = (perChannel.get(f.key) ?? []).find((a) => f.ts >= a.start && f.ts <= a.end);
    if (!w) {
      fp++;
      falseByChannel[f.key] = (falseByChannel[f.key] ?? 0) + 1;
      continue;
    }
    if (!first.has(w) || f.ts < first.get(w)!) first.set(w, f.ts);
  }
  const delays = [...first.entries()]
    .map(([w, ts]) => Math.max(0, Math.round((ts - w.onset) / options.intervalUs)))
    .sort((a, b) => a - b);
  return {
    labels: windows.length,
    found: first.size,
    events,
    falsePositives: fp,
    elsewhere: 0,
    repeats: events - fp - first.size,
    ...f1Of(first.size, fp, windows.length),
    delays,
    byKind: countByKind(windows, (w) => first.has(w)),
    falseByChannel,
  };
}

/** The window in which a finding counts for change point `c`. */
function changeWindow(c: ChangePoint, truth: GroundTruth, intervalUs: number): [number, number] {
  const own = truth.anomalies.find((a) => a.channel === c.channel && a.index === c.index);
  if (own) return [own.start, own.end];
  const margin = CHANGE_MARGIN_SAMPLES * intervalUs;
  return [c.time - margin, c.time + margin];
}

/** Collapse events against the change points of `channels`. */
export function scoreChanges(
  truth: GroundTruth,
  findings: readonly Finding[],
  options: { channels: readonly string[]; intervalUs: number },
): DetectionScore {
  const wanted = new Set(options.channels);
  const changes = truth.changePoints.filter((c) => wanted.has(c.channel));
  const windows = changes.map((c) => ({
    c,
    span: changeWindow(c, truth, options.intervalUs),
  }));
  const perChannel = byChannel(windows.map((w) => ({ ...w, channel: w.c.channel })));
  const others = byChannel(truth.anomalies.filter((a) => wanted.has(a.channel)));
  const first = new Map<ChangePoint, number>();
  let fp = 0, elsewhere = 0, events = 0;
  for (const f of findings) {
    if (f.kind !== "collapse" || !wanted.has(f.key)) continue;
    events++;
    const at = decodeCollapseBody(f.body).change_ts;
    const w = (perChannel.get(f.key) ?? []).find((x) => at >= x.span[0] && at <= x.span[1]);
    if (w) {
      if (!first.has(w.c) || f.ts < first.get(w.c)!) first.set(w.c, f.ts);
    } else if ((others.get(f.key) ?? []).some((a) => at >= a.start && at <= a.end)) {
      elsewhere++;
    } else fp++;
  }
  const delays = [...first.entries()]
    .map(([c, ts]) => Math.max(0, Math.round((ts - c.time) / options.intervalUs)))
    .sort((a, b) => a - b);
  return {
    labels: changes.length,
    found: first.size,
    events,
    falsePositives: fp,
    elsewhere,
    repeats: events - fp - elsewhere - first.size,
    ...f1Of(first.size, fp, changes.length),
    delays,
    byKind: countByKind(changes, (c) => first.has(c)),
  };
}

/**
 * The fraction of [startUs, endUs] in which group `group`'s coherence state (from its `coherence`
 * events; `normal` before the first) is `coherent` exactly when the regime is `stressed`; and
 * the same for a tracker that always says `normal` (the baseline).
 */
export function regimeAccuracy(
  truth: GroundTruth,
  findings: readonly Finding[],
  group: string,
): { accuracy: number; baseline: number } {
  const start = truth.startUs ?? 0, end = truth.endUs ?? 0;
  if (!(end > start)) return { accuracy: NaN, baseline: NaN };
  const changes = findings
    .filter((f) => f.kind === "coherence" && f.key === group)
    .map((f) => ({ ts: f.ts, coherent: decodeCoherenceBody(f.body).state === "coherent" }))
    .sort((a, b) => a.ts - b.ts);
  let right = 0, calm = 0;
  for (const r of truth.regimes as Regime[]) {
    const a = Math.max(start, r.start), b = Math.min(end, r.end);
    if (!(b > a)) continue;
    const stressed = r.name === "stressed";
    if (!stressed) calm += b - a;
    // Walk the state changes across [a, b).
    let t = a;
    let coherent = false;
    for (const c of changes) {
      if (c.ts <= a) coherent = c.coherent;
    }
    for (const c of changes) {
      if (c.ts <= a || c.ts >= b) continue;
      if (coherent === stressed) right += c.ts - t;
      t = c.ts;
      coherent = c.coherent;
    }
    if (coherent === stressed) right += b - t;
  }
  return { accuracy: right / (end - start), baseline: calm / (end - start) };
}
