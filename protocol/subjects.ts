/**
 * Subject builders and parsers. Every subject troupe uses is built here, so that channel and actor
 * names are validated once: a name that would change a subject's meaning (a dot, a wildcard, a
 * space) is rejected with a clear error, never silently rewritten.
 */
import { describeValue, ProtocolError } from "./protocol_error.ts";

/** The root of every troupe subject. */
export const SUBJECT_ROOT = "troupe";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `name` is a valid channel, feed, actor kind or key: `[A-Za-z0-9_-]{1,64}`. */
export function isValidName(name: unknown): name is string {
  return typeof name === "string" && NAME.test(name);
}

/** Returns `name` if it is a valid subject token, else throws a ProtocolError naming `what`. */
export function checkName(name: unknown, what = "channel"): string {
  if (isValidName(name)) return name;
  throw new ProtocolError(
    "value",
    `Invalid ${what} name ${describeValue(name)}: names are 1 to 64 of A-Z a-z 0-9 _ -`,
    { field: what, value: name },
  );
}

/** `troupe.feed.<feed>.<channel>`: sample frames into the cluster. */
export function feedSubject(feed: string, channel: string): string {
  return `${SUBJECT_ROOT}.feed.${checkName(feed, "feed")}.${checkName(channel)}`;
}

/** `troupe.feed.<feed>.*`: every channel of a feed. */
export function feedPattern(feed: string): string {
  return `${SUBJECT_ROOT}.feed.${checkName(feed, "feed")}.*`;
}

/** `troupe.feed.*.<channel>`: the frames of one channel, from whichever feed. */
export function feedChannelPattern(channel: string): string {
  return `${SUBJECT_ROOT}.feed.*.${checkName(channel)}`;
}

/** `troupe.out.<actor>.<key>`: what an actor found and its per-sample outputs. */
export function outSubject(actor: string, key: string): string {
  return `${SUBJECT_ROOT}.out.${checkName(actor, "actor")}.${checkName(key, "key")}`;
}

/** `troupe.out.<actor>.*`: the pattern of every output of one kind. */
export function outPattern(actor: string): string {
  return `${SUBJECT_ROOT}.out.${checkName(actor, "actor")}.*`;
}

/** `troupe.out.<actor>.`: the prefix of every output of one kind, with its trailing dot. */
export function outPrefix(actor: string): string {
  return `${SUBJECT_ROOT}.out.${checkName(actor, "actor")}.`;
}

/**
 * `troupe.finding.<kind>.<channel>`: a finding (an event of a kind that opens incidents: anomaly,
 * collapse, coherence, a kind a user's actor declares), published there once and nowhere else:
 * the dashboard, watch and the incident stage read it there, and a JetStream stream journals the
 * findings without every per-sample output, which stays on `troupe.out.<actor>.<key>`.
 */
export function findingSubject(kind: string, channel: string): string {
  return `${SUBJECT_ROOT}.finding.${checkName(kind, "finding kind")}.${checkName(channel)}`;
}

/** `troupe.finding.<kind>.*`: every finding of one kind. */
export function findingPattern(kind: string): string {
  return `${SUBJECT_ROOT}.finding.${checkName(kind, "finding kind")}.*`;
}

/**
 * `troupe.finding.silences.<session>`: a session's silence table (the incident control's
 * message) as a leased incident stage journals it in the findings stream, in its place among the
 * findings, so that a stage that takes over marks incidents silenced as its holder did.
 */
export function journaledSilencesSubject(session: string): string {
  return findingSubject("silences", session);
}

/** `troupe.finding.>`: every finding, of every kind. */
export const FINDINGS_PATTERN = `${SUBJECT_ROOT}.finding.>`;

/** The kind and channel of `troupe.finding.<kind>.<channel>`; undefined for another subject. */
export function parseFindingSubject(
  subject: string,
): { kind: string; channel: string } | undefined {
  const t = subject.split(".");
  if (t.length !== 4 || t[0] !== SUBJECT_ROOT || t[1] !== "finding") return undefined;
  if (!isValidName(t[2]) || !isValidName(t[3])) return undefined;
  return { kind: t[2]!, channel: t[3]! };
}

/** `troupe.ctl.<actor>[.<key>]`: control messages for every instance of a kind, or one. */
export function ctlSubject(actor: string, key?: string): string {
  const base = `${SUBJECT_ROOT}.ctl.${checkName(actor, "actor")}`;
  return key === undefined ? base : `${base}.${checkName(key, "key")}`;
}

/** `troupe.dlq.<reason>`: dead letters. */
export function dlqSubject(reason: string): string {
  return `${SUBJECT_ROOT}.dlq.${checkName(reason, "reason")}`;
}

/** `troupe.sys.<topic>`: health, membership, leases. */
export function sysSubject(...tokens: string[]): string {
  return [SUBJECT_ROOT, "sys", ...tokens.map((t) => checkName(t, "token"))].join(".");
}

/**
 * `troupe.req.<topic>...`: a request (asked with `request`, answered on its reply inbox), such as
 * the incident stage's list or a collab node's catch-up. No component subscribes to `troupe.req.>`
 * or a wildcard over it (the stream gateway relays `troupe.sys.>`, not this), so a request that
 * only its answerer subscribes to fails at once with NATS's "no responders" when none runs,
 * instead of being taken by a wildcard subscriber that never answers and waiting its timeout out.
 */
export function reqSubject(...tokens: string[]): string {
  return [SUBJECT_ROOT, "req", ...tokens.map((t) => checkName(t, "token"))].join(".");
}

/**
 * `troupe.req.incidents.control`: the incident stage's control (protocol/incident_control.ts), the
 * one request a recording keeps: a replay's stage takes its silence tables as input.
 */
export const INCIDENT_CONTROL_SUBJECT = reqSubject("incidents", "control");

/**
 * `troupe.req.incidents.stale`: the channels a metrics receiver read Prometheus's stale marker for
 * (a `stale` message of protocol/incident_control.ts), on a subject of their own so that NATS's
 * per-subject permissions can let a receiver say that and nothing else: it may not ack or silence.
 */
export const INCIDENT_STALE_SUBJECT = reqSubject("incidents", "stale");

/** `troupe.>`: every troupe subject (what a recording made before RECORDED_SUBJECTS kept). */
export const ALL_SUBJECTS = `${SUBJECT_ROOT}.>`;

/** `troupe.journal`: the default prefix of the actors' JetStream journal subjects. */
export const JOURNAL_SUBJECT_PREFIX = `${SUBJECT_ROOT}.journal`;

/**
 * `troupe.journal_part`: the prefix of a leased partition's journal subjects, in a stream of the
 * partition's own, its number the next token (`troupe.journal_part.3.stats.BTC-USD`).
 */
export const PARTITION_JOURNAL_SUBJECT_PREFIX = `${SUBJECT_ROOT}.journal_part`;

/** `troupe.journal_collab`: the prefix of the collab server's JetStream journal subjects. */
export const COLLAB_JOURNAL_SUBJECT_PREFIX = `${SUBJECT_ROOT}.journal_collab`;

/** The areas of the subject space, each the second token: `troupe.<area>...`. */
export type SubjectArea =
  | "feed"
  | "out"
  | "finding"
  | "ctl"
  | "dlq"
  | "sys"
  | "req"
  | "scan"
  | "collab"
  | "tick";

/** `troupe.<area>.>`: every subject of an area (`troupe.out.>`: every actor's outputs). */
export function areaPattern(area: SubjectArea): string {
  return `${SUBJECT_ROOT}.${area}.>`;
}

/**
 * What a recording keeps unless told otherwise: every troupe subject but the requests'
 * (`troupe.req.>`), each area's pattern and the journals' roots. A recorder subscribed to a
 * request's subject is taken for its answerer: NATS then has a subscriber to hand the request to,
 * so an ask that nothing answers waits its timeout instead of failing at once with "no responders".
 * Of the requests it keeps only the incident stage's control and stale notices, inputs of a
 * replay's stage: while it records, an ack or silence sent with no stage running waits its timeout.
 */
export const RECORDED_SUBJECTS: readonly string[] = [
  ...(["feed", "out", "finding", "ctl", "dlq", "sys", "scan", "collab", "tick"] as const).map(
    areaPattern,
  ),
  INCIDENT_CONTROL_SUBJECT,
  INCIDENT_STALE_SUBJECT,
  `${JOURNAL_SUBJECT_PREFIX}.>`,
  `${PARTITION_JOURNAL_SUBJECT_PREFIX}.>`,
  `${COLLAB_JOURNAL_SUBJECT_PREFIX}.>`,
];

/** The prefix of every subject of `area`, with its trailing dot: `troupe.out.`. */
export function areaPrefix(area: SubjectArea): string {
  return `${SUBJECT_ROOT}.${area}.`;
}

/** `troupe.scan.>`: every scan subject (requests, work, results, stats). */
export const SCAN_PATTERN = areaPattern("scan");

/**
 * What a metrics receiver reads back to export its channels' scores (`troupe_anomaly_score`,
 * `troupe_open_incidents`): the anomaly detector's per-sample outputs and its incidents.
 */
export const SCORE_OUTPUT_PATTERN = outPattern("anomaly");
/** The anomaly incidents' updates, which a metrics receiver counts per channel. */
export const SCORE_INCIDENT_SUBJECT = outSubject("incident", "anomaly");

/** `troupe.scan.work`: the chunks of scan work, taken by one queue group of workers. */
export const SCAN_WORK_SUBJECT = `${SUBJECT_ROOT}.scan.work`;

/** `troupe.scan.work.p.<k>`: partition k's chunks, for the workers of the host owning it. */
export function scanPartitionWorkSubject(k: number): string {
  return `${SCAN_WORK_SUBJECT}.p.${checkPartition(k)}`;
}

/** `troupe.scan.symbols.<k>`: asks the host owning partition k which symbols it holds. */
export function scanSymbolsSubject(k: number): string {
  return `${SUBJECT_ROOT}.scan.symbols.${checkPartition(k)}`;
}

/** The parts of a scan's own subjects: `troupe.scan.<scanId>.<part>`. */
export type ScanSubjectPart = "chunk" | "results";

/** `troupe.scan.<scanId>.<part>`: a scan's chunk results, or its sequenced results. */
export function scanSubject(scanId: string, part: ScanSubjectPart): string {
  return `${SUBJECT_ROOT}.scan.${checkName(scanId, "scan id")}.${part}`;
}

/** `troupe.scan.*.<part>`: that part of every scan. */
export function scanPattern(part: ScanSubjectPart): string {
  return `${SUBJECT_ROOT}.scan.*.${part}`;
}

/** The scan id and part of `troupe.scan.<scanId>.<part>`; undefined for another subject. */
export function parseScanSubject(
  subject: string,
): { scanId: string; part: ScanSubjectPart } | undefined {
  const t = subject.split(".");
  if (t.length !== 4 || t[0] !== SUBJECT_ROOT || t[1] !== "scan") return undefined;
  const part = t[3];
  if ((part !== "chunk" && part !== "results") || !isValidName(t[2])) return undefined;
  return { scanId: t[2]!, part };
}

/** `troupe.collab.<session>`: a session's Yjs updates, fanned out between collab nodes. */
export function collabSubject(session: string): string {
  return `${SUBJECT_ROOT}.collab.${checkName(session, "session")}`;
}

/** The session of `troupe.collab.<session>`; undefined for another subject. */
export function parseCollabSubject(subject: string): string | undefined {
  const prefix = areaPrefix("collab");
  if (!subject.startsWith(prefix)) return undefined;
  const session = subject.slice(prefix.length);
  return isValidName(session) ? session : undefined;
}

function checkPartition(k: number): number {
  if (Number.isInteger(k) && k >= 0) return k;
  throw new ProtocolError("value", `Invalid partition ${describeValue(k)}: a whole number >= 0`, {
    field: "partition",
    value: k,
  });
}

/** A parsed troupe subject. */
export type ParsedSubject =
  | { kind: "feed"; feed: string; channel: string }
  | { kind: "out"; actor: string; key: string }
  | { kind: "ctl"; actor: string; key: string | undefined }
  | { kind: "dlq"; reason: string }
  | { kind: "other"; tokens: string[] };

/** Parses a concrete subject; throws a ProtocolError when a troupe subject is malformed. */
export function parseSubject(subject: string): ParsedSubject {
  const tokens = subject.split(".");
  if (tokens[0] !== SUBJECT_ROOT) return { kind: "other", tokens };
  const [, area, a, b, ...rest] = tokens;
  const bad = () =>
    new ProtocolError("value", `Malformed troupe subject ${JSON.stringify(subject)}`, {
      field: "subject",
      value: subject,
    });
  switch (area) {
    case "feed":
      if (rest.length || a === undefined || b === undefined) throw bad();
      return { kind: "feed", feed: checkName(a, "feed"), channel: checkName(b) };
    case "out":
      if (rest.length || a === undefined || b === undefined) throw bad();
      return { kind: "out", actor: checkName(a, "actor"), key: checkName(b, "key") };
    case "ctl":
      if (rest.length || a === undefined) throw bad();
      return {
        kind: "ctl",
        actor: checkName(a, "actor"),
        key: b === undefined ? undefined : checkName(b, "key"),
      };
    case "dlq":
      if (a === undefined || b !== undefined) throw bad();
      return { kind: "dlq", reason: a };
    default:
      return { kind: "other", tokens };
  }
}

/**
 * NATS subject matching: `*` matches exactly one token, `>` (last token only) one or more. The
 * in-process bus uses this, so both buses route the same way.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  // Token by token in place (a bus asks this of many subscriptions per new subject): `p` and `s`
  // are where the current tokens start, one past the end once every token is read.
  const pl = pattern.length, sl = subject.length;
  let p = 0, s = 0;
  while (p <= pl) {
    let pe = pattern.indexOf(".", p);
    if (pe === -1) pe = pl;
    const n = pe - p;
    if (n === 1 && pattern.charCodeAt(p) === GT) return s <= sl;
    if (s > sl) return false;
    let se = subject.indexOf(".", s);
    if (se === -1) se = sl;
    if (n !== 1 || pattern.charCodeAt(p) !== STAR) {
      if (se - s !== n) return false;
      for (let k = 0; k < n; k++) {
        if (pattern.charCodeAt(p + k) !== subject.charCodeAt(s + k)) return false;
      }
    }
    p = pe + 1;
    s = se + 1;
  }
  return s > sl;
}

const GT = 0x3e; // ">"
const STAR = 0x2a; // "*"
