/**
 * What a receiver asks the team's query API for its new series' history, and how it reads the
 * answers. Series of one scrape target (the same `job` and `instance`, Prometheus's labels of a
 * target, and the same first live sample) are read together: one query_range for many of the
 * target's metric names (`{job="…",instance="…",__name__=~"a|b",cpu=~"0|1|"}`, each other label
 * narrowed to the values the series give it), up to a read's points; each series takes from the
 * answer the points of exactly its label set. A series without both labels, with a label name
 * PromQL cannot write plainly, or of a metric whose series alone pass a read's points, is read on
 * its own by its exact label set (so a read that fails fails for it alone). A node exporter's
 * first start is then a few reads, not one for each of its hundreds of series.
 */
import type { Label } from "../../protocol/prometheus/mod.ts";

/** Characters of an answer quoted in a failure at most. */
const QUOTED_MAX = 200;
/** A metric name that a regular expression's alternatives may hold as it is. */
const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*$/;
/** A label name a selector may hold. */
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A new series to read: its channel, labels, whether a counter, and its first live time (ms). */
export interface HistorySeries {
  channel: string;
  labels: readonly Label[];
  counter: boolean;
  firstT: number;
}

/** Why a read gave no history: the class (a metric label) and the text. */
export interface HistoryFailure {
  channel: string;
  kind: "down" | "timeout" | "status" | "garbage" | "selector";
  reason: string;
}

/** A read's failure, with its class. */
export class HistoryError extends Error {
  readonly kind: HistoryFailure["kind"];

  constructor(kind: HistoryFailure["kind"], message: string) {
    super(message);
    this.kind = kind;
  }
}

/** One query: the series it reads (all with one first live time) and its selector. */
export interface HistoryRead {
  series: HistorySeries[];
  /** The PromQL selector (throws a HistoryError for labels a selector cannot name). */
  selector(): string;
}

/** Raw points of a series as an answer gives them: times (ms) and values. */
export interface RawPoints {
  t: number[];
  v: number[];
}

/**
 * The reads of `series`, each answering at most `pointsMax` points when every series has
 * `points` points (a target's series together, else one by one).
 */
export function historyReads(
  series: readonly HistorySeries[],
  points: number,
  pointsMax: number,
): HistoryRead[] {
  const reads: HistoryRead[] = [];
  const alone = (s: HistorySeries) => reads.push({ series: [s], selector: () => exactOf(s) });
  const targets = new Map<string, Map<string, HistorySeries[]>>();
  for (const s of series) {
    const name = valueOf(s.labels, "__name__"), job = valueOf(s.labels, "job");
    const instance = valueOf(s.labels, "instance");
    if (name === undefined || job === undefined || instance === undefined) {
      alone(s);
      continue;
    }
    if (!METRIC_NAME.test(name) || !s.labels.every((l) => LABEL_NAME.test(l.name))) {
      alone(s);
      continue;
    }
    const key = JSON.stringify([job, instance, s.firstT]);
    let names = targets.get(key);
    if (names === undefined) targets.set(key, names = new Map());
    const list = names.get(name);
    if (list === undefined) names.set(name, [s]);
    else list.push(s);
  }
  const perRead = Math.max(1, Math.floor(pointsMax / Math.max(1, points)));
  for (const names of targets.values()) {
    let chunk: HistorySeries[] = [], chunkNames: string[] = [];
    const flush = () => {
      if (chunk.length === 1) alone(chunk[0]!);
      else if (chunk.length > 1) {
        const these = chunk, those = chunkNames;
        reads.push({ series: these, selector: () => targetSelector(these, those) });
      }
      chunk = [], chunkNames = [];
    };
    for (const [name, list] of names) {
      if (list.length > perRead) {
        list.forEach(alone);
        continue;
      }
      if (chunk.length + list.length > perRead) flush();
      chunk.push(...list);
      chunkNames.push(name);
    }
    flush();
  }
  return reads;
}

/**
 * The selector of exactly the label set `labels` (each value a PromQL string, escaped): it may
 * match series with more labels too, which `historyAnswer` leaves out.
 */
export function historySelector(labels: readonly Label[]): string {
  return `{${labels.map((l) => matcher(l.name, "=", l.value)).join(",")}}`;
}

/**
 * The selector of `series`, all of one target, of the metrics `names`: the target's job and
 * instance, the names, and for each other label one of the values the series give it (or none,
 * where one of them lacks it). A metric of many series on the target then answers only those
 * whose labels all take values among the wanted ones, not its every series.
 */
function targetSelector(series: readonly HistorySeries[], names: readonly string[]): string {
  const labels = series[0]!.labels;
  const parts = [
    matcher("job", "=", valueOf(labels, "job")!),
    matcher("instance", "=", valueOf(labels, "instance")!),
    names.length === 1
      ? matcher("__name__", "=", names[0]!)
      : matcher("__name__", "=~", names.join("|")),
  ];
  const values = new Map<string, Set<string>>();
  for (const s of series) {
    for (const l of s.labels) {
      if (l.name === "__name__" || l.name === "job" || l.name === "instance") continue;
      const set = values.get(l.name);
      if (set === undefined) values.set(l.name, new Set([l.value]));
      else set.add(l.value);
    }
  }
  for (const [name, set] of values) {
    const lacking = series.some((s) => valueOf(s.labels, name) === undefined);
    if (set.size === 1 && !lacking) {
      parts.push(matcher(name, "=", [...set][0]!));
      continue;
    }
    // An empty alternative matches a series without the label, as PromQL reads one.
    const alternatives = [...set].map(regexQuoted);
    if (lacking) alternatives.push("");
    parts.push(matcher(name, "=~", alternatives.join("|")));
  }
  return `{${parts.join(",")}}`;
}

/** `value` as a regular expression (RE2, as PromQL's) that matches it alone. */
function regexQuoted(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

function exactOf(s: HistorySeries): string {
  return historySelector(s.labels);
}

function matcher(name: string, op: "=" | "=~", value: string): string {
  if (!LABEL_NAME.test(name)) {
    throw new HistoryError(
      "selector",
      `label name ${JSON.stringify(name)} cannot be written in a PromQL selector`,
    );
  }
  // A JSON string is a PromQL string: the same escapes, double-quoted.
  return `${name}${op}${JSON.stringify(value)}`;
}

function valueOf(labels: readonly Label[], name: string): string | undefined {
  for (const l of labels) if (l.name === name) return l.value;
  return undefined;
}

/**
 * The points of each of `wanted` in a query_range answer (`text`): those of the answer's series
 * with exactly its labels, none when the answer has no such series. An answer that is not the
 * API's JSON matrix is refused, saying what it was.
 */
export function historyAnswer(
  text: string,
  wanted: readonly HistorySeries[],
): Map<HistorySeries, RawPoints> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HistoryError("garbage", `the answer is not JSON: ${quoted(text)}`);
  }
  const b = body as { status?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (b?.status !== "success" || b.data?.resultType !== "matrix" || !Array.isArray(b.data.result)) {
    throw new HistoryError(
      "garbage",
      `the answer is not a query_range success with a matrix: ${quoted(text)}`,
    );
  }
  const byKey = new Map<string, HistorySeries>();
  for (const s of wanted) byKey.set(labelKey(s.labels.map((l) => [l.name, l.value])), s);
  const out = new Map<HistorySeries, RawPoints>();
  for (const series of b.data.result as Array<{ metric?: unknown; values?: unknown }>) {
    const metric = series?.metric as Record<string, unknown> | undefined;
    if (metric === undefined || metric === null || typeof metric !== "object") continue;
    const s = byKey.get(labelKey(Object.entries(metric)));
    if (s === undefined || out.has(s)) continue;
    out.set(s, pointsOf(series.values, text));
  }
  return out;
}

/** A label set's key, whatever the order of its labels. */
function labelKey(pairs: Array<[string, unknown]>): string {
  return JSON.stringify(pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** A matrix series' `[seconds, "value"]` points; NaN and infinities are left out. */
function pointsOf(values: unknown, text: string): RawPoints {
  if (!Array.isArray(values)) {
    throw new HistoryError("garbage", `the series' values are not a list: ${quoted(text)}`);
  }
  const out: RawPoints = { t: [], v: [] };
  for (const p of values as unknown[]) {
    const [s, value] = Array.isArray(p) ? p : [];
    const x = typeof value === "string" ? Number(value) : NaN;
    if (typeof s !== "number" || !Number.isFinite(s) || typeof value !== "string") {
      throw new HistoryError(
        "garbage",
        `a point is not [seconds, "value"]: ${quoted(JSON.stringify(p) ?? "")}`,
      );
    }
    if (!Number.isFinite(x)) continue; // NaN and infinities are not samples troupe takes
    out.t.push(Math.round(s * 1000));
    out.v.push(x);
  }
  return out;
}

/** `text` trimmed, cut to a quotable length, as a JSON string. */
export function quoted(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > QUOTED_MAX ? `${t.slice(0, QUOTED_MAX)}…` : t);
}
