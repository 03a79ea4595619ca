/**
 * What the actors found, read off the wire: a `Finding` is one event worth a person's attention,
 * decoded from a message the stream gateway relays. `troupe watch`, `troupe up`'s status and the
 * dashboard's event list read the same findings, so they show the same words and the same severity.
 * Severity is one number per finding, 1 (worth a glance) to 5 (act now), on its kind's own scale
 * (`actors/incidents/severity.ts`, the README's table):
 *
 * - `anomaly`: an incident opened (`anomaly` event on `troupe.out.anomaly.<channel>`), by its score;
 * - `collapse`: a confirmed change point (`troupe.out.collapse.<channel>`), by the shift in spreads
 *   (|Δmean|/spread + |log2 spread ratio|, the event's own `severity` field, shown in `detail` as
 *   `shift_spreads` so that one word has one meaning);
 * - `coherence`: the group changed regime (`troupe.out.coherence.<group>`), by |standardized shift|;
 * - `scan`: a symbol a scan matched (`troupe.scan.<id>.results`), no severity;
 * - `dlq`: a dead letter (`troupe.dlq.<reason>`), 2: a message was lost, nothing is wrong with the
 *   feed's numbers;
 * - `actor`: an actor restarted after a failure (3) or stopped after repeated failures (5).
 *
 * Per-sample outputs (columns frames), stats and bars are data, not findings. `formatFinding` is the
 * one text of a finding: `troupe watch` prints it and the page's event list shows it, and
 * `severityAtLeast` is the one severity filter of both. Pure: no `node:` import, so it bundles for
 * the browser.
 */
import {
  areaPattern,
  areaPrefix,
  channelUnit,
  decodeEnvelope,
  decodeValue,
  findingSeverity,
  outPattern,
  scanPattern,
  SEVERITY_MEASURE,
  sysSubject,
  withUnit,
} from "../protocol/mod.ts";

/** The kinds of finding. */
export const FINDING_KINDS = ["anomaly", "collapse", "coherence", "scan", "dlq", "actor"] as const;

const SCAN_PREFIX = areaPrefix("scan");

/** A kind of finding. */
export type FindingKind = (typeof FINDING_KINDS)[number];

/** The subject patterns each kind of finding comes on. */
export const FINDING_SUBJECTS: Readonly<Record<FindingKind, string>> = {
  anomaly: outPattern("anomaly"),
  collapse: outPattern("collapse"),
  coherence: outPattern("coherence"),
  scan: scanPattern("results"),
  dlq: areaPattern("dlq"),
  actor: sysSubject("actor", "stopped"),
};

/** One finding. */
export interface Finding {
  kind: FindingKind;
  /** Event time, microseconds since the epoch (arrival time for scan results, which carry none). */
  ts_us: number;
  /** The channel, group, scanned symbol, dead letter's reason or actor stream. */
  channel: string;
  /** What was found, in words. */
  what: string;
  /** How strong, in the kind's own measure (`score 0.97`, `4.2 spreads`). */
  strength: string;
  /** 1 to 5 on the kind's scale (see the module); null where the kind has none (scan hits). */
  severity: number | null;
  subject: string;
  /** The event as published (its body, plus `type`). */
  detail: Record<string, unknown>;
}

/**
 * The findings in one relayed message (none for data and for what cannot be decoded: a watcher
 * shows what it can read, and the dead-letter queue is where bad messages are named).
 */
export function findingsOf(subject: string, data: Uint8Array, nowUs: number): Finding[] {
  try {
    if (subject.startsWith(SCAN_PREFIX)) return scanFindings(subject, data, nowUs);
    const env = decodeEnvelope(data);
    const body = (env.body ?? {}) as Record<string, unknown>;
    const f = eventFinding(env.type, body, env.ts);
    return f ? [{ ...f, subject, detail: detailOf(env.type, body) }] : [];
  } catch {
    return [];
  }
}

type Core = Omit<Finding, "subject" | "detail">;

function eventFinding(type: string, b: Record<string, unknown>, ts: number): Core | undefined {
  switch (type) {
    case "anomaly": {
      const [value, lower, upper] = [num(b.value), num(b.lower), num(b.upper)];
      const unit = channelUnit(String(b.channel));
      return {
        kind: "anomaly",
        ts_us: ts,
        channel: String(b.channel),
        what: `incident: value ${withUnit(fmt(value), unit)}, expected ${
          withUnit(fmt(num(b.expected)), unit)
        }, band ${fmt(lower)}..${withUnit(fmt(upper), unit)}, ${whereInBand(value, lower, upper)}`,
        strength: `score ${num(b.score).toFixed(2)}`,
        severity: findingSeverity("anomaly", b),
      };
    }
    case "collapse": {
      // The level just before the change and after it (older events have only the regime means).
      const hasLevels = typeof b.levelBefore === "number" && typeof b.levelAfter === "number";
      const [before, after] = hasLevels
        ? [num(b.levelBefore), num(b.levelAfter)]
        : [num(b.meanBefore), num(b.meanAfter)];
      const unit = channelUnit(String(b.channel));
      const change = before !== 0 && Number.isFinite(before)
        ? ` (${signed((after - before) / Math.abs(before) * 100)}%)`
        : "";
      return {
        kind: "collapse",
        ts_us: ts,
        channel: String(b.channel),
        what: `regime change ${b.direction}: ${hasLevels ? "level" : "mean"} ${
          withUnit(fmt(before), unit)
        } -> ${withUnit(fmt(after), unit)}${change}, spread ${
          withUnit(fmt(num(b.spreadBefore)), unit)
        } -> ${withUnit(fmt(num(b.spreadAfter)), unit)}, began ${
          new Date(num(b.changeTs) / 1000).toISOString()
        }`,
        strength: `${num(b.severity).toFixed(1)} ${SEVERITY_MEASURE.collapse}`,
        severity: findingSeverity("collapse", b),
      };
    }
    case "coherence": {
      const top = Array.isArray(b.topChannels) ? b.topChannels.slice(0, 3) : [];
      const names = top.map((l: { channel?: unknown; loading?: unknown }) =>
        `${l.channel} ${num(l.loading).toFixed(2)}`
      );
      const shift = num(b.shift);
      return {
        kind: "coherence",
        ts_us: ts,
        channel: String(b.group),
        what: `${b.from} -> ${b.state}, absorption ratio ${num(b.ratio).toFixed(2)}` +
          (names.length ? `, top ${names.join(", ")}` : ""),
        strength: `shift ${shift.toFixed(1)} ${SEVERITY_MEASURE.coherence}`,
        severity: findingSeverity("coherence", b),
      };
    }
    case "dead_letter":
      return {
        kind: "dlq",
        ts_us: ts,
        channel: String(b.reason),
        what: `dead letter from ${b.subject}${b.actor ? ` in ${b.actor}` : ""}: ${b.error}`,
        strength: "dead letter",
        severity: DLQ_SEVERITY,
      };
    case "actor_stopped":
      return {
        kind: "actor",
        ts_us: ts,
        channel: String(b.stream),
        what: `actor stopped after repeated failures: ${b.error}`,
        strength: "stopped",
        severity: 5,
      };
    case "actor_restarted":
      return {
        kind: "actor",
        ts_us: ts,
        channel: String(b.stream),
        what: `actor restarted after failure ${num(b.failures)} (backoff ${num(b.delay_ms)} ms): ` +
          `${b.error}`,
        strength: "restarted",
        severity: 3,
      };
    default:
      return undefined;
  }
}

function scanFindings(subject: string, data: Uint8Array, nowUs: number): Finding[] {
  const scanId = subject.split(".")[2] ?? "?";
  const results = decodeValue(data);
  if (!Array.isArray(results)) return [];
  return results.map((r: { seq?: unknown; symbol?: unknown; rank?: unknown }) => ({
    kind: "scan" as const,
    ts_us: nowUs,
    channel: String(r.symbol),
    what: `matched scan ${scanId} (result ${r.seq})`,
    strength: typeof r.rank === "number" ? `rank ${fmt(r.rank)}` : "matched",
    severity: null,
    subject,
    detail: { type: "scan_result", scan: scanId, ...r },
  }));
}

/** A dead letter's severity: a message was lost; the numbers the feed carries are not in doubt. */
export const DLQ_SEVERITY = 2;

/** How a line gives its time. */
export interface LineTimeOptions {
  /**
   * Now, ms since the epoch: a list of today's events (the page's) gives the time of day alone
   * when the line is of that day. Without it, a line always has its date (a terminal's log).
   */
  nowMs?: number;
}

/** The time a line starts with: UTC to the millisecond, with its date but as `opts` says. */
export function lineTime(tsUs: number, opts: LineTimeOptions = {}): string {
  const tMs = tsUs / 1000;
  if (opts.nowMs !== undefined) return findingTime(tMs, opts.nowMs);
  return new Date(tMs).toISOString().replace("T", " ").slice(0, 23);
}

/**
 * One readable line: time, kind, channel, what, severity and how strong. The line `troupe watch`
 * prints and the page's event list shows (which passes `nowMs`).
 */
export function formatFinding(f: Finding, opts: LineTimeOptions = {}): string {
  const sev = f.severity === null ? "" : `severity ${f.severity}, `;
  return `${lineTime(f.ts_us, opts)}  ${f.kind.padEnd(9)} ${f.channel.padEnd(12)} ${f.what}  ` +
    `[${sev}${f.strength}]`;
}

/**
 * Whether a finding of `severity` passes a filter of `min`: `troupe watch --min-severity` and the
 * page's severity filter. A finding without a severity (a scan hit) is not on any scale: it passes.
 */
export function severityAtLeast(severity: number | null, min: number): boolean {
  return severity === null || severity >= min;
}

/**
 * An event time for a list of today's events: the time of day (UTC, to the millisecond) when it
 * is on the day of `nowMs`, else the date before it, so a CSV's timestamps from another day do not
 * pass for today's.
 */
export function findingTime(tMs: number, nowMs: number): string {
  const iso = new Date(tMs).toISOString();
  const today = new Date(nowMs).toISOString().slice(0, 10);
  return iso.slice(0, 10) === today
    ? iso.slice(11, 23)
    : `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/**
 * Where a value sits against its band: above or below it only when it is outside; inside, the
 * score came from another view (the level's band is one of several: slope, jump size, flat run,
 * slow shift, time of day), and it says so.
 */
export function whereInBand(value: number, lower: number, upper: number): string {
  if (value > upper) return "above the band";
  if (value < lower) return "below the band";
  if (value >= lower && value <= upper) {
    return "inside the band (scored by another view: slope, jump, flat run, shift or time of day)";
  }
  return "band unknown";
}

/** The event's body for `detail`, with collapse's `severity` (a shift in spreads) named for what it is. */
function detailOf(type: string, body: Record<string, unknown>): Record<string, unknown> {
  if (type !== "collapse" || !("severity" in body)) return { type, ...body };
  const { severity, ...rest } = body;
  return { type, ...rest, shift_spreads: severity };
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
}

function num(x: unknown): number {
  return typeof x === "number" ? x : NaN;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}
