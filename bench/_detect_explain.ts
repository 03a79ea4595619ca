/**
 * `troupe bench detect --explain`: which of the anomaly kernel's views raised what the bench
 * counts, from each channel's scores and views (bench/_view_recorder.ts). Events and labels are
 * those `scoreAnomalies` counts (after the probation, against the windows that begin after it):
 * - each false event (an opening outside every labelled window of its channel) goes to the view of
 *   its opening sample, and counts as inside the forecast's 3 sds when its value departs from the
 *   expected value by no more than 3 sds of the predictor's errors (the band's half-width is
 *   `band_sigmas` of them);
 * - each label found, by its kind, goes to the view of the first opening inside its window;
 * - each label missed, by its kind, keeps the largest score published in its window and the view of
 *   the first sample reaching it ("never scored" where that is 0); a score at or above the
 *   threshold there fell while an incident that opened before was still open.
 */
import { defaultAnomalyConfig, VIEW_NAMES } from "../actors/anomaly/mod.ts";
import type { AnomalyWindow, GroundTruth } from "../sim/mod.ts";
import { type BenchRow, row } from "./_bench.ts";
import { type Finding, isRestatement } from "./_detect_score.ts";
import { probationLength } from "./_nab_scorer.ts";
import type { ChannelViews, ViewRecorder } from "./_view_recorder.ts";

/** The view of a missed label whose window never scored above 0. */
export const NEVER_SCORED = "never scored";
/** A departure from the expected value within this many sds is inside the forecast. */
const FORECAST_SDS = 3;

/** A label no event opened inside: the largest score in its window and the view that gave it. */
export interface MissedLabel {
  channel: string;
  /** The seed, in explanations summed over seeds. */
  seed?: number;
  score: number;
  /** The view's name, or NEVER_SCORED. */
  view: string;
  /** The score reached the threshold: an incident that opened before was still open. */
  open: boolean;
}

/** What one feed's anomaly events and labels owe to each view, by the views' names. */
export interface Explanation {
  /** False events by view: how many, and how many of them inside the forecast's 3 sds. */
  falseEvents: Record<string, { events: number; within3Sd: number }>;
  /** Labels found, by label kind, then by the view of the first opening inside the window. */
  found: Record<string, Record<string, number>>;
  /** Labels missed, by label kind. */
  missed: Record<string, MissedLabel[]>;
}

/** An explanation with nothing in it. */
export function emptyExplanation(): Explanation {
  return { falseEvents: {}, found: {}, missed: {} };
}

/** How `explainAnomalies` reads a feed. */
export interface ExplainOptions {
  channels: readonly string[];
  intervalUs: number;
  /** Samples at the start not scored (NAB's probationary period), as `scoreAnomalies` takes. */
  probationSamples: number;
  /** The anomaly configuration's threshold and band_sigmas. */
  threshold: number;
  bandSigmas: number;
}

/** The index of the sample of `s` at time `ts` (an event's, rounded to the microsecond). */
function sampleAt(s: ChannelViews, ts: number, channel: string): number {
  const i = firstAtOrAfter(s.t, ts - 0.5);
  if (i >= s.t.length || Math.round(s.t[i]!) !== ts) {
    throw new Error(`Cannot explain an event of "${channel}" at ${ts}: no sample at that time`);
  }
  return i;
}

/** The first index of sorted `t` whose value is at or after `at` (t.length if none). */
function firstAtOrAfter(t: Float64Array, at: number): number {
  let lo = 0, hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The name of the view of sample `i`. */
function viewName(s: ChannelViews, i: number): string {
  return VIEW_NAMES[s.view[i]!] ?? `view ${s.view[i]}`;
}

/** The largest score in window `w` of series `s`, the view of its first sample, as a miss. */
function missOf(s: ChannelViews | undefined, w: AnomalyWindow, threshold: number): MissedLabel {
  let best = 0, at = -1;
  if (s) {
    for (let i = firstAtOrAfter(s.t, w.start); i < s.t.length && s.t[i]! <= w.end; i++) {
      if (s.score[i]! > best) best = s.score[i]!, at = i;
    }
  }
  return {
    channel: w.channel,
    score: best,
    view: s && at >= 0 ? viewName(s, at) : NEVER_SCORED,
    open: best >= threshold && best > 0,
  };
}

/**
 * The views behind a feed's anomaly events and labels (see the module comment): `truth` and
 * `findings` as `scoreAnomalies` takes them, `series` each channel's scores and views.
 */
export function explainAnomalies(
  [truth, findings]: readonly [GroundTruth, readonly Finding[]],
  series: ReadonlyMap<string, ChannelViews>,
  options: ExplainOptions,
): Explanation {
  const out = emptyExplanation();
  const wanted = new Set(options.channels);
  const scoredFrom = (truth.startUs ?? 0) + options.probationSamples * options.intervalUs;
  const windows = truth.anomalies.filter((a) => wanted.has(a.channel) && a.start >= scoredFrom);
  const first = new Map<AnomalyWindow, Finding>();
  for (const f of findings) {
    if (f.kind !== "anomaly" || !wanted.has(f.key) || f.ts < scoredFrom) continue;
    if (isRestatement(f)) continue;
    const w = windows.find((a) => a.channel === f.key && f.ts >= a.start && f.ts <= a.end);
    if (w) {
      if (!first.has(w) || f.ts < first.get(w)!.ts) first.set(w, f);
      continue;
    }
    const s = series.get(f.key);
    if (!s) throw new Error(`Cannot explain an event of "${f.key}": no scores recorded for it`);
    const i = sampleAt(s, f.ts, f.key);
    const sds = (FORECAST_SDS * s.spread[i]!) / options.bandSigmas;
    const c = out.falseEvents[viewName(s, i)] ??= { events: 0, within3Sd: 0 };
    c.events++;
    if (Math.abs(s.value[i]! - s.expected[i]!) <= sds) c.within3Sd++;
  }
  for (const w of windows) {
    const f = first.get(w), s = series.get(w.channel);
    if (f && s) {
      const byView = out.found[w.kind] ??= {};
      const view = viewName(s, sampleAt(s, f.ts, f.key));
      byView[view] = (byView[view] ?? 0) + 1;
    } else (out.missed[w.kind] ??= []).push(missOf(s, w, options.threshold));
  }
  return out;
}

/** A feed's ground truth and the findings of its actors. */
type FeedRun = readonly [GroundTruth, readonly Finding[]];

/**
 * The views behind the market's and the metrics feed's anomaly events and labels, counted as
 * `bench detect` counts them (after NAB's probation), from what `views` recorded beside each.
 */
export function explainFeeds(
  views: Readonly<Record<"market" | "metrics", ViewRecorder>>,
  [market, metrics]: readonly [FeedRun, FeedRun],
): Record<"market" | "metrics", Explanation> {
  return {
    market: explainFeed(market, views.market),
    metrics: explainFeed(metrics, views.metrics),
  };
}

function explainFeed([truth, findings]: FeedRun, views: ViewRecorder): Explanation {
  // With no frame stepped there is no score: neither value decides anything then.
  const config = views.config ?? defaultAnomalyConfig;
  return explainAnomalies([truth, findings], views.series(), {
    channels: truth.channels,
    intervalUs: Number(truth.options.intervalUs),
    probationSamples: probationLength(truth.samples),
    threshold: config.threshold,
    bandSigmas: config.band_sigmas,
  });
}

/** Adds `b` into `a` (its misses marked with `seed` when given); returns `a`. */
export function addExplanation(a: Explanation, b: Explanation, seed?: number): Explanation {
  for (const [view, c] of Object.entries(b.falseEvents)) {
    const into = a.falseEvents[view] ??= { events: 0, within3Sd: 0 };
    into.events += c.events;
    into.within3Sd += c.within3Sd;
  }
  for (const [kind, byView] of Object.entries(b.found)) {
    const into = a.found[kind] ??= {};
    for (const [view, n] of Object.entries(byView)) into[view] = (into[view] ?? 0) + n;
  }
  for (const [kind, misses] of Object.entries(b.missed)) {
    (a.missed[kind] ??= []).push(...misses.map((m) => (seed === undefined ? m : { ...m, seed })));
  }
  return a;
}

/** Entries by count, largest first, then by name. */
function byCount<T>(entries: [string, T][], count: (x: T) => number): [string, T][] {
  return entries.sort(([a, x], [b, y]) => count(y) - count(x) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Keys in order. */
function sorted<T>(record: Record<string, T>): [string, T][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The lines of `--explain` for `name` (a feed's anomaly events: "market anomaly"): false events,
 * labels found and missed, by view.
 */
export function describeExplanation(name: string, e: Explanation): string[] {
  const falses = byCount(Object.entries(e.falseEvents), (c) => c.events);
  const total = falses.reduce((a, [, c]) => a + c.events, 0);
  const within = falses.reduce((a, [, c]) => a + c.within3Sd, 0);
  const lines = [
    `${name}, explained: ${total} false events (${within} inside the forecast's 3 sds) ` +
    `by the view that raised the opening sample's score:`,
  ];
  for (const [view, c] of falses) {
    lines.push(
      `  ${view.padEnd(17)} ${String(c.events).padStart(5)} (${c.within3Sd} inside 3 sds)`,
    );
  }
  lines.push(`${name}, labels found by kind, by the view of the first opening inside:`);
  for (const [kind, byView] of sorted(e.found)) {
    const views = byCount(Object.entries(byView), (n) => n);
    const n = views.reduce((a, [, k]) => a + k, 0);
    lines.push(`  ${kind} ${n}: ${views.map(([v, k]) => `${v} ${k}`).join(", ")}`);
  }
  lines.push(`${name}, labels missed by kind: the largest score in the window, its view:`);
  const missed = sorted(e.missed);
  if (missed.length === 0) lines.push("  none");
  for (const [kind, misses] of missed) {
    const scored = misses.filter((m) => m.view !== NEVER_SCORED).sort((a, b) => b.score - a.score);
    const never = misses.filter((m) => m.view === NEVER_SCORED);
    const each = scored.map((m) =>
      `${m.score.toFixed(3)} ${m.view}${m.open ? ", an incident open" : ""} (${where(m)})`
    );
    if (never.length > 0) {
      each.push(`${NEVER_SCORED} ${never.length} (${byChannel(never)})`);
    }
    lines.push(`  ${kind} ${misses.length}: ${each.join("; ")}`);
  }
  return lines;
}

/**
 * Labels by channel, most first, with the seeds they came from where known: "api-requests 4,
 * seeds 1×3, 4; web-cpu 1" (a line per label would run to hundreds over `--seeds`).
 */
function byChannel(misses: readonly MissedLabel[]): string {
  const counts = new Map<string, number>(), seeds = new Map<string, number[]>();
  for (const m of misses) {
    counts.set(m.channel, (counts.get(m.channel) ?? 0) + 1);
    if (m.seed !== undefined) seeds.set(m.channel, [...seeds.get(m.channel) ?? [], m.seed]);
  }
  return byCount([...counts], (n) => n)
    .map(([channel, n]) => `${channel} ${n}${seedList(seeds.get(channel) ?? [])}`)
    .join("; ");
}

/** ", seeds 1×3, 4" for seeds [1, 1, 1, 4]; "" for none. */
function seedList(seeds: readonly number[]): string {
  if (seeds.length === 0) return "";
  const times = new Map<number, number>();
  for (const s of [...seeds].sort((a, b) => a - b)) times.set(s, (times.get(s) ?? 0) + 1);
  const parts = [...times].map(([s, k]) => (k > 1 ? `${s}×${k}` : `${s}`));
  return `, seed${seeds.length > 1 ? "s" : ""} ${parts.join(", ")}`;
}

function where(m: MissedLabel): string {
  return m.seed === undefined ? m.channel : `${m.channel}, seed ${m.seed}`;
}

/** A view's or a kind's name as a metric's part: `beyond the range` is `beyond_the_range`. */
function part(name: string): string {
  return name.replaceAll(" ", "_");
}

/**
 * The rows of `--explain` for feed `feed` (metrics `anomaly_explain.<feed>...`): false events and
 * those inside 3 sds per view, labels found per kind and view, and a row per label missed (its
 * largest score, its view and channel in the metric's name).
 */
export function explanationRows(feed: string, e: Explanation): BenchRow[] {
  const at = `anomaly_explain.${feed}`;
  const one = (metric: string, unit: string, troupe: number, better: "higher" | "lower") =>
    row({ bench: "detect", metric: `${at}.${metric}`, unit, troupe, baseline: null, better });
  const rows: BenchRow[] = [];
  for (const [view, c] of sorted(e.falseEvents)) {
    rows.push(one(`false_events.${part(view)}`, "count", c.events, "lower"));
    rows.push(one(`false_events_within_3sd.${part(view)}`, "count", c.within3Sd, "lower"));
  }
  for (const [kind, byView] of sorted(e.found)) {
    for (const [view, n] of sorted(byView)) {
      rows.push(one(`found.${part(kind)}.${part(view)}`, "count", n, "higher"));
    }
  }
  for (const [kind, misses] of sorted(e.missed)) {
    for (const m of misses) {
      const seed = m.seed === undefined ? "" : `.seed_${m.seed}`;
      const name = `missed.${part(kind)}.${part(m.view)}.${m.channel}${seed}`;
      rows.push(one(name, "score", m.score, "higher"));
    }
  }
  return rows;
}
