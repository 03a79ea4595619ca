/**
 * What the actors found, read off the wire: a `Finding` is one event worth a person's attention,
 * decoded from a message the stream gateway relays. `troupe watch`, `troupe up`'s status and the
 * dashboard's event list read the same findings, so they show the same words and the same severity.
 * Severity is one number per finding, 1 (worth a glance) to 5 (act now), on its kind's own scale
 * (`protocol/severity.ts`, docs/findings.md's table):
 *
 * - `anomaly`: an incident opened (`anomaly` event on `troupe.finding.anomaly.<channel>`), by its
 *   score; its text says where the value sits against its band and names the view that scored it;
 * - `collapse`: a confirmed change point (`troupe.finding.collapse.<channel>`), by the shift in
 *   spreads (|Δmean|/spread + |log2 spread ratio|, the event's own `severity` field, shown in
 *   `detail` as `shift_spreads` so that one word has one meaning);
 * - `coherence`: the group changed regime (`troupe.finding.coherence.<group>`), by |standardized
 *   shift|;
 * - `scan`: a symbol a scan matched (`troupe.scan.<id>.results`), no severity;
 * - `dlq`: a dead letter (`troupe.dlq.<reason>`), 2: a message was lost, nothing is wrong with the
 *   feed's numbers;
 * - `actor`: an actor restarted after a failure (3) or stopped after repeated failures (5);
 * - any other kind of finding an actor kind declares (a user's kind's `spread_break`), read as its
 *   declaration in the finding kind registry says: its channel field, its measure and its edges for
 *   the severity, its other scalar fields in words.
 *
 * Per-sample outputs (columns frames), stats and bars are data, not findings. `formatFinding` is
 * the one text of a finding: `troupe watch` prints it and the page's event list shows it, and
 * `severityAtLeast` is the one severity filter of both. Pure: no `node:` import, so it bundles for
 * the browser.
 */
import {
  actorNoticeOf,
  ANOMALY_FINDING,
  type AnomalyBody,
  anomalyOf,
  type AnomalyView,
  areaPattern,
  areaPrefix,
  channelUnit,
  checkedFindingBody,
  COHERENCE_FINDING,
  type CoherenceBody,
  coherenceOf,
  COLLAPSE_FINDING,
  type CollapseBody,
  collapseOf,
  deadLetterBodyOf,
  decodeEnvelope,
  decodeScanResultsBatch,
  type Envelope,
  findingChannel,
  type FindingKind,
  findingKindOf,
  findingKinds,
  findingPattern,
  findingSeverity,
  findingSignedMeasure,
  parseScanSubject,
  scanPattern,
  sysSubject,
  withUnit,
} from "../../protocol/mod.ts";

/** The kinds of finding that are not an actor's events: scan hits, dead letters, actor failures. */
export const OTHER_FINDING_KINDS = ["scan", "dlq", "actor"] as const;

const SCAN_PREFIX = areaPrefix("scan");

/**
 * The name of a kind of finding: the type of a finding kind an actor kind declares (a
 * `FindingKind`, registered in protocol/finding_kind.ts: troupe's own and a user's alike), or one
 * of OTHER_FINDING_KINDS.
 */
export type FindingKindName = string;

/**
 * Every kind of finding this process knows: the declared ones, in the order declared, then the
 * others.
 */
export function findingKindNames(): FindingKindName[] {
  return [...findingKinds().map((k) => k.type), ...OTHER_FINDING_KINDS];
}

/**
 * Whether findings of `kind` come on subjects that end in their channel or group: the declared
 * kinds, on their actor's outputs `troupe.out.<actor>.<key>`.
 */
export function isChannelFindingKind(kind: FindingKindName): boolean {
  return findingKindOf(kind) !== undefined;
}

/**
 * The pattern of the subjects the findings of `kind` are read from (`troupe.finding.<kind>.*`,
 * where the hosts publish an actor's findings, or scan results, dead letters, actor notices), or
 * undefined for a kind this process does not know.
 */
export function findingSourcePattern(kind: FindingKindName): string | undefined {
  switch (kind) {
    case "scan":
      return scanPattern("results");
    case "dlq":
      return areaPattern("dlq");
    case "actor":
      return sysSubject("actor", "stopped");
  }
  return findingKindOf(kind) === undefined ? undefined : findingPattern(kind);
}

/** The source patterns of `kinds` (findingSourcePattern), each once. */
export function findingSourcePatterns(kinds: readonly FindingKindName[]): string[] {
  const out = new Set<string>();
  for (const k of kinds) {
    const subject = findingSourcePattern(k);
    if (subject !== undefined) out.add(subject);
  }
  return [...out];
}

/** One finding. */
export interface Finding {
  kind: FindingKindName;
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
    const f = envelopeFinding(subject, decodeEnvelope(data));
    return f ? [f.finding] : [];
  } catch {
    return [];
  }
}

/** A finding read from an envelope, and the event's body as its kind's decoder checked it. */
export interface EnvelopeFinding {
  finding: Finding;
  /** The body, decoded once: the page draws from it what it does not show in words. */
  body: object;
}

/**
 * The finding of an event envelope already decoded (from `subject`), undefined for an envelope
 * that is no finding (data, scan results); throws a ProtocolError naming the field when its body
 * does not decode as its type's.
 */
export function envelopeFinding(subject: string, env: Envelope): EnvelopeFinding | undefined {
  const f = eventFinding(env);
  return f && { finding: { ...f.core, subject, detail: detailOf(env.type, f.body) }, body: f.body };
}

type Core = Omit<Finding, "subject" | "detail">;

/** The finding of an event envelope and its decoded body, or undefined for other types. */
function eventFinding(env: Envelope): { core: Core; body: object } | undefined {
  const ts = env.ts;
  switch (env.type) {
    case "anomaly": {
      const b = anomalyOf(env);
      return { core: anomalyFinding(b, ts), body: b };
    }
    case "collapse": {
      const b = collapseOf(env);
      return { core: collapseFinding(b, ts), body: b };
    }
    case "coherence": {
      const b = coherenceOf(env);
      return { core: coherenceFinding(b, ts), body: b };
    }
    case "dead_letter": {
      const { raw: _raw, ...b } = deadLetterBodyOf(env);
      const what = `dead letter from ${b.subject}${b.actor ? ` in ${b.actor}` : ""}: ${b.error}`;
      return {
        core: {
          kind: "dlq",
          ts_us: ts,
          channel: b.reason,
          what,
          strength: "dead letter",
          severity: DLQ_SEVERITY,
        },
        body: b,
      };
    }
    case "actor_stopped":
    case "actor_restarted": {
      const n = actorNoticeOf(env);
      const what = n.type === "actor_stopped"
        ? `actor stopped after repeated failures: ${n.body.error}`
        : `actor restarted after failure ${n.body.failures} (backoff ${n.body.delay_ms} ms): ` +
          `${n.body.error}`;
      const [strength, severity] = n.type === "actor_stopped" ? ["stopped", 5] : ["restarted", 3];
      return {
        core: { kind: "actor", ts_us: ts, channel: n.body.stream, what, strength, severity },
        body: n.body,
      };
    }
    default: {
      const spec = findingKindOf(env.type);
      return spec === undefined ? undefined : declaredFinding(spec, env);
    }
  }
}

/** Body fields a declared finding's line names besides its channel and measure, at most. */
const DECLARED_FIELDS_MAX = 6;

/**
 * A finding of a kind declared through the finding kind registry: its channel, severity and
 * strength as the kind declares them, and its other scalar fields in words.
 */
function declaredFinding(spec: FindingKind, env: Envelope): { core: Core; body: object } {
  const body = checkedFindingBody(spec, env.body);
  const channelField = spec.channelField ?? "channel";
  const fields = Object.entries(body)
    .filter(([k, v]) =>
      k !== channelField && k !== spec.measure && k !== "type" &&
      (typeof v === "number" || typeof v === "string" || typeof v === "boolean")
    )
    .slice(0, DECLARED_FIELDS_MAX)
    .map(([k, v]) => `${k} ${typeof v === "number" ? fmt(v) : String(v)}`);
  const measure = findingSignedMeasure(spec, body);
  return {
    core: {
      kind: spec.type,
      ts_us: env.ts,
      channel: findingChannel(spec, body) ?? "",
      what: fields.length ? fields.join(", ") : spec.type,
      strength: `${spec.measure} ${fmt(measure)}${spec.unit ? ` ${spec.unit}` : ""}`,
      severity: findingSeverity(spec, body),
    },
    body,
  };
}

function anomalyFinding(b: AnomalyBody, ts: number): Core {
  const unit = channelUnit(b.channel);
  return {
    kind: "anomaly",
    ts_us: ts,
    channel: b.channel,
    what: `${b.restated ? "incident restated" : "incident"}: value ${
      withUnit(fmt(b.value), unit)
    }, expected ${withUnit(fmt(b.expected), unit)}, band ${fmt(b.lower)}..${
      withUnit(fmt(b.upper), unit)
    }, ${whereInBand(b.value, b.lower, b.upper, b.view)}`,
    strength: `score ${b.score.toFixed(2)}`,
    severity: findingSeverity(ANOMALY_FINDING, b),
  };
}

function collapseFinding(b: CollapseBody, ts: number): Core {
  // The level just before the change and after it (format-1 events older than the levels carry
  // the regimes' means in their place: protocol/events/collapse.ts).
  const [before, after] = [b.level_before, b.level_after];
  const unit = channelUnit(b.channel);
  const change = before !== 0 && Number.isFinite(before)
    ? ` (${signed((after - before) / Math.abs(before) * 100)}%)`
    : "";
  return {
    kind: "collapse",
    ts_us: ts,
    channel: b.channel,
    what: `regime change ${b.direction}: level ${withUnit(fmt(before), unit)} -> ${
      withUnit(fmt(after), unit)
    }${change}, spread ${withUnit(fmt(b.spread_before), unit)} -> ${
      withUnit(fmt(b.spread_after), unit)
    }, began ${new Date(b.change_ts / 1000).toISOString()}`,
    strength: `${b.severity.toFixed(1)} ${COLLAPSE_FINDING.unit}`,
    severity: findingSeverity(COLLAPSE_FINDING, b),
  };
}

function coherenceFinding(b: CoherenceBody, ts: number): Core {
  const names = b.top_channels.slice(0, 3).map((l) => `${l.channel} ${l.loading.toFixed(2)}`);
  return {
    kind: "coherence",
    ts_us: ts,
    channel: b.group,
    what: `${b.from} -> ${b.state}, absorption ratio ${b.ratio.toFixed(2)}` +
      (names.length ? `, top ${names.join(", ")}` : ""),
    strength: `shift ${b.shift.toFixed(1)} ${COHERENCE_FINDING.unit}`,
    severity: findingSeverity(COHERENCE_FINDING, b),
  };
}

function scanFindings(subject: string, data: Uint8Array, nowUs: number): Finding[] {
  const scanId = parseScanSubject(subject)?.scanId ?? "?";
  return decodeScanResultsBatch(data, `scan results on "${subject}"`).map((r) => ({
    kind: "scan" as const,
    ts_us: nowUs,
    channel: r.symbol,
    what: `matched scan ${scanId} (result ${r.seq})`,
    strength: r.rank === null ? "matched" : `rank ${fmt(r.rank)}`,
    severity: null,
    subject,
    detail: { type: "scan_result", scan: scanId, ...r },
  }));
}

/**
 * The unit of the values a finding writes: its channel's (`channelUnit`) for an anomaly and a
 * collapse, whose lines give the channel's values; `""` for the other kinds, which give none (a
 * ratio, a rank, a dead letter's reason).
 */
export function findingUnit(f: Pick<Finding, "kind" | "channel">): string {
  return f.kind === "anomaly" || f.kind === "collapse" ? channelUnit(f.channel) : "";
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
 * What each of the detector's views found, in the words of a finding (actors/anomaly/_views.ts,
 * docs/methods/anomaly.md): what about the sample no past of the channel explains.
 */
export const VIEW_WORDS: Readonly<Record<AnomalyView, string>> = {
  level: "a level this channel has not shown",
  time_of_day: "a time-of-day pattern this hour has not shown",
  slope: "a rate of change this channel has not shown",
  increment: "a step from one sample to the next this channel has not shown",
  flat_run: "a flat run: the value stuck for longer than this channel's usual runs",
  jump: "a jump larger than this channel usually makes",
  shift: "a shift of level from what this hour of the week usually shows",
  range: "beyond the range this channel has shown",
};

/**
 * Where a value sits against its band, and why it was scored: above or below the band only when
 * it is outside, then the view that scored it in words (`VIEW_WORDS`). An event published before
 * events named their view has none: inside the band, the score came from another view than the
 * band's (slope, jump size, flat run, slow shift, time of day), and it says so.
 */
export function whereInBand(
  value: number,
  lower: number,
  upper: number,
  view?: AnomalyView,
): string {
  const where = value > upper
    ? "above the band"
    : value < lower
    ? "below the band"
    : value >= lower && value <= upper
    ? "inside the band"
    : "band unknown";
  if (view !== undefined) return `${where}: ${VIEW_WORDS[view]}`;
  return where !== "inside the band"
    ? where
    : "inside the band (scored by another view: slope, jump, flat run, shift or time of day)";
}

/**
 * The event's body for `detail`, with collapse's `severity` (a shift in spreads) named for what it
 * is.
 */
function detailOf(type: string, body: object): Record<string, unknown> {
  if (type !== "collapse" || !("severity" in body)) return { type, ...body };
  const { severity, ...rest } = body as CollapseBody;
  return { type, ...rest, shift_spreads: severity };
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}
