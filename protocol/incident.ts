/**
 * The incident on the wire: what the incident stage publishes on `troupe.out.incident.<kind>` each
 * time an incident opens, gains a member, changes state or is marked silenced. An incident groups
 * the findings of one kind (anomaly, collapse, coherence) that started within a grouping window
 * across channels, so a market-wide crash over 8 symbols is one incident with 8 members. Every
 * update carries the whole incident, so a reader that joins late needs only the last update of each
 * id. `encodeIncident`/`decodeIncident` are the pair; decoding validates every field and names the
 * one that is wrong.
 */
import {
  decodeEnvelope,
  type DecodeLimits,
  encodeEnvelope,
  type Envelope,
  type EnvelopeInit,
} from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName, outSubject, reqSubject } from "./subjects.ts";

/** The envelope type of an incident update. */
export const INCIDENT_TYPE = "incident";

/** The actor token of incident subjects: `troupe.out.incident.<kind>`. */
export const INCIDENT_ACTOR = "incident";

/** An incident's lifecycle: pending (grouping, not yet sure), firing, resolved. */
export const INCIDENT_STATES = ["pending", "firing", "resolved"] as const;

/** An incident's state. */
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** Severity runs from 1 (worth a glance) to 5 (act now); docs/findings.md gives each scale. */
export const SEVERITY_MIN = 1;
/** The top of the severity scale. */
export const SEVERITY_MAX = 5;

/** Members an incident lists, at most (a group of thousands of channels keeps its first ones). */
export const INCIDENT_MEMBERS_MAX = 256;
/** Links to related incidents an incident keeps, at most. */
export const INCIDENT_LINKS_MAX = 32;

/** One channel (or group) of an incident. */
export interface IncidentMember {
  channel: string;
  /** Event time of its first and last finding in this incident, µs. */
  first_us: number;
  last_us: number;
  /** Findings of this channel in the incident. */
  findings: number;
  /** The highest severity among them, 1-5. */
  peak_severity: number;
  /**
   * Its strongest finding (by the bits it states, else its kind's measure): the measure, the bits
   * and, where the finding's body has
   * them, the value and the expected value with its band. Absent from incidents made before it
   * was carried (and from a replay of their recordings).
   */
  peak?: IncidentPeak;
}

/** A member's strongest finding, for an alert that says per series what was seen. */
export interface IncidentPeak {
  /** The finding's measure on its kind's scale (an anomaly's score). */
  measure: number;
  /** The surprise it states, in bits (−log2 of its tail probability), when its kind states one. */
  bits?: number;
  /** The value the finding was about, and what was expected with its band, when it says. */
  value?: number;
  expected?: number;
  lower?: number;
  upper?: number;
}

/** The fields of an IncidentPeak beside its measure, in wire order. */
export const INCIDENT_PEAK_FIELDS = ["bits", "value", "expected", "lower", "upper"] as const;

/** An incident, whole. */
export interface Incident {
  /** Deterministic: `<kind>-<first finding's µs>-<first channel>`. */
  id: string;
  /** The kind of finding it groups: `anomaly`, `collapse`, `coherence`. */
  kind: string;
  state: IncidentState;
  /** Whether it ever fired (a resolved incident that never fired was a blip below the bar). */
  fired: boolean;
  /** Marked silenced by a silence in the session (still journaled and published). */
  silenced: boolean;
  members: IncidentMember[];
  /** Event time of its first and last finding, µs. */
  first_us: number;
  last_us: number;
  /** Envelope ids of its first and last finding. */
  first_finding: string;
  last_finding: string;
  findings: number;
  peak_severity: number;
  /** Ids of related incidents of other kinds (an anomaly and a collapse on one channel at once). */
  links: string[];
}

/**
 * How two copies of one incident compare, by how far along each is: negative when `a` is older,
 * positive when newer, 0 when neither is (they then differ at most in `silenced`). An update
 * carries no number a reader can compare (the stage's list has none), but an incident only moves
 * forward: each finding it takes counts (`findings`) and may move `last_us` on, its state goes
 * pending, firing, resolved and never back, and its links only grow. So a copy from the stage's
 * list and one seen on the wire are ordered by findings, then last_us, then state, then links.
 */
export function compareIncidentProgress(a: Incident, b: Incident): number {
  return a.findings - b.findings || a.last_us - b.last_us ||
    INCIDENT_STATES.indexOf(a.state) - INCIDENT_STATES.indexOf(b.state) ||
    a.links.length - b.links.length;
}

/** `troupe.out.incident.<kind>`: the incidents of one kind of finding. */
export function incidentSubject(kind: string): string {
  return outSubject(INCIDENT_ACTOR, kind);
}

/**
 * `troupe.req.incidents.list`: ask the incident stage for its incidents (`troupe incidents`); a
 * request subject (`reqSubject`), so that with no stage running the ask fails at once.
 */
export function incidentListSubject(): string {
  return reqSubject("incidents", "list");
}

/** The envelope type of the stage's answer: the incidents it holds. */
export const INCIDENT_LIST_TYPE = "incidents";

/** Incidents one answer lists, at most. */
export const INCIDENT_LIST_MAX = 1024;

/** Encodes the stage's answer: its open incidents and its recently resolved ones, oldest first. */
export function encodeIncidentList(
  meta: Omit<EnvelopeInit, "body" | "type">,
  incidents: readonly Incident[],
): Uint8Array {
  return encodeEnvelope({
    ...meta,
    type: INCIDENT_LIST_TYPE,
    body: { incidents: incidents.slice(-INCIDENT_LIST_MAX).map(incidentBody) },
  });
}

/** Decodes and validates the stage's answer. */
export function decodeIncidentList(bytes: Uint8Array, limits: DecodeLimits = {}): Incident[] {
  const envelope = decodeEnvelope(bytes, limits);
  if (envelope.type !== INCIDENT_LIST_TYPE) {
    throw bad("type", envelope.type, `must be "${INCIDENT_LIST_TYPE}"`);
  }
  const m = map(envelope.body, "body");
  return list(m.incidents, "body.incidents", INCIDENT_LIST_MAX).map((raw, i) => {
    try {
      return readIncident(raw);
    } catch (err) {
      const e = err as ProtocolError;
      const field = `body.incidents[${i}]${(e.field ?? "").replace(/^body/, "")}`;
      throw new ProtocolError(e.reason, e.message.replace(`"${e.field}"`, `"${field}"`), {
        field,
        value: e.value,
      });
    }
  });
}

/** Encodes an incident update as an envelope of type `incident` whose body is the incident. */
export function encodeIncident(
  meta: Omit<EnvelopeInit, "body" | "type">,
  incident: Incident,
): Uint8Array {
  return encodeEnvelope({ ...meta, type: INCIDENT_TYPE, body: incidentBody(incident) });
}

/** Decodes and validates an incident update; throws a ProtocolError naming the field and value. */
export function decodeIncident(
  bytes: Uint8Array,
  limits: DecodeLimits = {},
): { envelope: Envelope; incident: Incident } {
  const envelope = decodeEnvelope(bytes, limits);
  if (envelope.type !== INCIDENT_TYPE) {
    throw bad("type", envelope.type, `must be "${INCIDENT_TYPE}"`);
  }
  return { envelope, incident: readIncident(envelope.body) };
}

/** Validates a decoded incident body. */
export function readIncident(raw: unknown): Incident {
  const m = map(raw, "body");
  const state = m.state;
  if (!INCIDENT_STATES.includes(state as IncidentState)) {
    throw bad("body.state", state, `must be one of ${INCIDENT_STATES.join(", ")}`);
  }
  const members = list(m.members, "body.members", INCIDENT_MEMBERS_MAX).map((x, i) =>
    readMember(x, `body.members[${i}]`)
  );
  const links = list(m.links, "body.links", INCIDENT_LINKS_MAX).map((x, i) =>
    text(x, `body.links[${i}]`)
  );
  return {
    id: text(m.id, "body.id"),
    kind: name(m.kind, "body.kind"),
    state: state as IncidentState,
    fired: bool(m.fired, "body.fired"),
    silenced: bool(m.silenced, "body.silenced"),
    members,
    first_us: int(m.first_us, "body.first_us"),
    last_us: int(m.last_us, "body.last_us"),
    first_finding: text(m.first_finding, "body.first_finding"),
    last_finding: text(m.last_finding, "body.last_finding"),
    findings: count(m.findings, "body.findings"),
    peak_severity: severity(m.peak_severity, "body.peak_severity"),
    links,
  };
}

function readMember(raw: unknown, where: string): IncidentMember {
  const m = map(raw, where);
  const member: IncidentMember = {
    channel: name(m.channel, `${where}.channel`),
    first_us: int(m.first_us, `${where}.first_us`),
    last_us: int(m.last_us, `${where}.last_us`),
    findings: count(m.findings, `${where}.findings`),
    peak_severity: severity(m.peak_severity, `${where}.peak_severity`),
  };
  if (m.peak !== undefined) member.peak = readPeak(m.peak, `${where}.peak`);
  return member;
}

function readPeak(raw: unknown, where: string): IncidentPeak {
  const m = map(raw, where);
  const peak: IncidentPeak = { measure: finite(m.measure, `${where}.measure`) };
  for (const k of INCIDENT_PEAK_FIELDS) {
    if (m[k] !== undefined) peak[k] = finite(m[k], `${where}.${k}`);
  }
  return peak;
}

/** A peak with its fields in wire order (only those it has). */
function peakBody(p: IncidentPeak): Record<string, number> {
  const out: Record<string, number> = { measure: p.measure };
  for (const k of INCIDENT_PEAK_FIELDS) if (p[k] !== undefined) out[k] = p[k];
  return out;
}

/** The body with its fields in one order, so equal incidents encode to equal bytes (the map an
 *  update carries, and a history answer's incidents). */
export function incidentBody(i: Incident): Record<string, unknown> {
  return {
    id: i.id,
    kind: i.kind,
    state: i.state,
    fired: i.fired,
    silenced: i.silenced,
    members: i.members.map((m) => {
      const body: Record<string, unknown> = {
        channel: m.channel,
        first_us: m.first_us,
        last_us: m.last_us,
        findings: m.findings,
        peak_severity: m.peak_severity,
      };
      // Only when carried: an incident without peaks encodes to the bytes it always had.
      if (m.peak !== undefined) body.peak = peakBody(m.peak);
      return body;
    }),
    first_us: i.first_us,
    last_us: i.last_us,
    first_finding: i.first_finding,
    last_finding: i.last_finding,
    findings: i.findings,
    peak_severity: i.peak_severity,
    links: [...i.links],
  };
}

function bad(field: string, value: unknown, rule: string): ProtocolError {
  const reason = value === undefined ? "field" : "value";
  return new ProtocolError(
    reason,
    `Incident field "${field}" ${rule}, got ${describeValue(value)}`,
    { field, value },
  );
}

function map(raw: unknown, field: string): Record<string, unknown> {
  if (
    raw !== null && typeof raw === "object" && !Array.isArray(raw) && !(raw instanceof Uint8Array)
  ) {
    return raw as Record<string, unknown>;
  }
  throw bad(field, raw, "must be a map");
}

function list(raw: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(raw)) throw bad(field, raw, "must be an array");
  if (raw.length > max) throw bad(field, raw, `must hold at most ${max} items`);
  return raw;
}

function text(raw: unknown, field: string): string {
  if (typeof raw === "string" && raw.length > 0 && raw.length <= 512) return raw;
  throw bad(field, raw, "must be a string of 1 to 512 characters");
}

function name(raw: unknown, field: string): string {
  if (isValidName(raw)) return raw;
  throw bad(field, raw, "must be a name of 1 to 64 of A-Z a-z 0-9 _ -");
}

function bool(raw: unknown, field: string): boolean {
  if (typeof raw === "boolean") return raw;
  throw bad(field, raw, "must be true or false");
}

function int(raw: unknown, field: string): number {
  if (typeof raw === "number" && Number.isSafeInteger(raw)) return raw;
  throw bad(field, raw, "must be an integer");
}

function finite(raw: unknown, field: string): number {
  if (typeof raw === "number" && Number.isFinite(raw)) return raw;
  throw bad(field, raw, "must be a finite number");
}

function count(raw: unknown, field: string): number {
  if (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 1) return raw;
  throw bad(field, raw, "must be an integer >= 1");
}

function severity(raw: unknown, field: string): number {
  if (
    typeof raw === "number" && Number.isInteger(raw) && raw >= SEVERITY_MIN && raw <= SEVERITY_MAX
  ) {
    return raw;
  }
  throw bad(field, raw, `must be an integer from ${SEVERITY_MIN} to ${SEVERITY_MAX}`);
}
