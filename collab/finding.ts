/**
 * What the actors found, read off the wire: a `Finding` is one event worth a person's attention,
 * decoded from a message the stream gateway relays. `troupe watch`, `troupe up`'s status and the
 * dashboard's event list read the same findings. Per kind:
 *
 * - `anomaly`: an incident opened (`anomaly` event on `troupe.out.anomaly.<channel>`); severity is
 *   its score in [0, 1];
 * - `collapse`: a confirmed change point (`troupe.out.collapse.<channel>`); its own severity is
 *   the shift in spreads (|Δmean|/spread + |log2 spread ratio|), mapped to [0, 1] as
 *   1 - exp(-s/2) (1 spread: 0.39, 2: 0.63, 4: 0.86);
 * - `coherence`: the group changed regime (`troupe.out.coherence.<group>`); severity maps the
 *   standardized shift of the absorption ratio the same way;
 * - `scan`: a symbol a scan matched (`troupe.scan.<id>.results`), no severity;
 * - `dlq`: a dead letter (`troupe.dlq.<reason>`), severity 1;
 * - `actor`: an actor stopped after repeated failures (`troupe.sys.actor.stopped`), severity 1.
 *
 * Per-sample outputs (columns frames), stats and bars are data, not findings. Pure: no `node:`
 * import, so it bundles for the browser.
 */
import { decodeEnvelope, decodeValue } from "../protocol/mod.ts";

/** The kinds of finding. */
export const FINDING_KINDS = ["anomaly", "collapse", "coherence", "scan", "dlq", "actor"] as const;

/** A kind of finding. */
export type FindingKind = (typeof FINDING_KINDS)[number];

/** The subject patterns each kind of finding comes on. */
export const FINDING_SUBJECTS: Readonly<Record<FindingKind, string>> = {
  anomaly: "troupe.out.anomaly.*",
  collapse: "troupe.out.collapse.*",
  coherence: "troupe.out.coherence.*",
  scan: "troupe.scan.*.results",
  dlq: "troupe.dlq.>",
  actor: "troupe.sys.actor.stopped",
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
  /** In [0, 1], comparable across kinds; null where the kind has none (scan hits). */
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
    if (subject.startsWith("troupe.scan.")) return scanFindings(subject, data, nowUs);
    const env = decodeEnvelope(data);
    const body = (env.body ?? {}) as Record<string, unknown>;
    const f = eventFinding(env.type, body, env.ts);
    return f ? [{ ...f, subject, detail: { type: env.type, ...body } }] : [];
  } catch {
    return [];
  }
}

type Core = Omit<Finding, "subject" | "detail">;

function eventFinding(type: string, b: Record<string, unknown>, ts: number): Core | undefined {
  switch (type) {
    case "anomaly": {
      const [value, lower, upper] = [num(b.value), num(b.lower), num(b.upper)];
      const outside = value > upper ? ", above the band" : value < lower ? ", below the band" : "";
      return {
        kind: "anomaly",
        ts_us: ts,
        channel: String(b.channel),
        what: `incident: value ${fmt(value)}, expected ${fmt(num(b.expected))}, band ${
          fmt(lower)
        }..${fmt(upper)}${outside}`,
        strength: `score ${num(b.score).toFixed(2)}`,
        severity: clamp01(num(b.score)),
      };
    }
    case "collapse": {
      const s = num(b.severity);
      return {
        kind: "collapse",
        ts_us: ts,
        channel: String(b.channel),
        what: `regime change ${b.direction}: mean ${fmt(num(b.meanBefore))} -> ${
          fmt(num(b.meanAfter))
        }, spread ${fmt(num(b.spreadBefore))} -> ${fmt(num(b.spreadAfter))}, began ${
          new Date(num(b.changeTs) / 1000).toISOString()
        }`,
        strength: `${s.toFixed(1)} spreads`,
        severity: saturate(s),
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
        strength: `shift ${shift.toFixed(1)} sd`,
        severity: saturate(Math.abs(shift)),
      };
    }
    case "dead_letter":
      return {
        kind: "dlq",
        ts_us: ts,
        channel: String(b.reason),
        what: `dead letter from ${b.subject}${b.actor ? ` in ${b.actor}` : ""}: ${b.error}`,
        strength: "dead letter",
        severity: 1,
      };
    case "actor_stopped":
      return {
        kind: "actor",
        ts_us: ts,
        channel: String(b.stream),
        what: `actor stopped after repeated failures: ${b.error}`,
        strength: "stopped",
        severity: 1,
      };
    case "actor_restarted":
      return {
        kind: "actor",
        ts_us: ts,
        channel: String(b.stream),
        what: `actor restarted after failure ${num(b.failures)} (backoff ${num(b.delay_ms)} ms): ` +
          `${b.error}`,
        strength: "restarted",
        severity: 0.5,
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

/** One readable line: time, kind, channel, what, how strong. */
export function formatFinding(f: Finding): string {
  const time = new Date(f.ts_us / 1000).toISOString().replace("T", " ").slice(0, 23);
  return `${time}  ${f.kind.padEnd(9)} ${f.channel.padEnd(12)} ${f.what}  [${f.strength}]`;
}

function num(x: unknown): number {
  return typeof x === "number" ? x : NaN;
}

function clamp01(x: number): number {
  return x !== x ? 0 : Math.min(1, Math.max(0, x));
}

function saturate(x: number): number {
  return x !== x ? 0 : 1 - Math.exp(-x / 2);
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}
