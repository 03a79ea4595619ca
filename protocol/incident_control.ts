/**
 * The incident stage's control on `troupe.req.incidents.control`: what the collab bridge sends it
 * from a
 * session document. `silences` carries a session's whole silence table, so a message is never a
 * delta that a lost predecessor would corrupt; the envelope's `ts` is the event time at which the
 * table takes effect (the stage holds it until its watermark passes that time, so a replay applies
 * it between the same findings). `ack` asks whether an incident exists before the document keeps
 * an acknowledgement of it. Both are control messages, so a recording keeps them as inputs and
 * `troupe replay` hands them to its own stage. The stage answers each request `ok` (with what it
 * applied) or `error` (with the reason), as hosts answer threshold changes.
 */
import {
  decodeEnvelope,
  type DecodeLimits,
  encodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  requireMap,
} from "./envelope.ts";
import { INCIDENT_ACTOR } from "./incident.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import {
  formatSilenceMatchers,
  parseSilenceMatchers,
  type Silence,
  SILENCE_DURATION_US_MAX,
} from "./silence.ts";
import {
  ctlSubject,
  INCIDENT_CONTROL_SUBJECT,
  INCIDENT_STALE_SUBJECT,
  isValidName,
} from "./subjects.ts";

/** The envelope type of a session's silence table. */
export const SILENCES_TYPE = "silences";
/** The envelope type of an acknowledgement's check. */
export const ACK_TYPE = "ack";
/** Silences one session holds, at most. */
export const SILENCES_PER_SESSION_MAX = 256;
/** The envelope type of channels gone stale. */
export const STALE_TYPE = "stale";
/** Channels one stale message names, at most. */
export const STALE_CHANNELS_MAX = 1024;

/**
 * A control message of the incident stage. `stale`: the channels a metrics receiver (named in
 * `session`) read Prometheus's stale marker for, at the envelope's `ts` (the marker's time): each
 * channel's open incidents end, as silences take effect, when the watermark passes that time.
 */
export type IncidentControl =
  | { type: "silences"; session: string; silences: Silence[] }
  | { type: "ack"; session: string; incident: string; by?: string }
  | { type: "stale"; session: string; channels: string[] };

/** The stage's answer: applied (`ok`) with what, or refused (`error`) with why. */
export interface IncidentControlAnswer {
  ok: boolean;
  detail: string;
}

/**
 * `troupe.req.incidents.control`: the incident stage's control subject. A request, not a host's
 * actor control: every host subscribes to `troupe.ctl.>` and answers nothing for a kind it does
 * not run, so an ask there waited its whole timeout when no stage ran; under `troupe.req.` only
 * the stage subscribes, and an ask with none fails at once (no responders). A recording keeps it
 * (RECORDED_SUBJECTS), as a replay's stage takes it as input.
 */
export function incidentControlSubject(): string {
  return INCIDENT_CONTROL_SUBJECT;
}

/** The subject a metrics receiver tells the stage of stale channels on (`stale` messages only). */
export function incidentStaleSubject(): string {
  return INCIDENT_STALE_SUBJECT;
}

/**
 * Whether `subject` carries the incident stage's control: `troupe.req.incidents.control`, its
 * stale notices' `troupe.req.incidents.stale`, or `troupe.ctl.incident`, where recordings made
 * before the control moved hold it.
 */
export function isIncidentControlSubject(subject: string): boolean {
  return subject === INCIDENT_CONTROL_SUBJECT || subject === INCIDENT_STALE_SUBJECT ||
    subject === LEGACY_INCIDENT_CONTROL_SUBJECT;
}

const LEGACY_INCIDENT_CONTROL_SUBJECT = ctlSubject(INCIDENT_ACTOR);

/** Encodes a control message; `meta.ts` is the event time it takes effect at (µs). */
export function encodeIncidentControl(
  meta: Omit<EnvelopeInit, "body" | "type">,
  control: IncidentControl,
): Uint8Array {
  if (control.type === "stale") {
    if (control.channels.length > STALE_CHANNELS_MAX) {
      throw bad("body.channels", control.channels.length, `must be at most ${STALE_CHANNELS_MAX}`);
    }
    const body = { session: control.session, channels: control.channels };
    return encodeEnvelope({ ...meta, type: control.type, body });
  }
  const body = control.type === "ack"
    ? {
      session: control.session,
      incident: control.incident,
      ...(control.by === undefined ? {} : { by: ackBy(control.by, "by") }),
    }
    : {
      session: control.session,
      silences: control.silences.map((s) => ({
        id: s.id,
        matchers: formatSilenceMatchers(s.matchers),
        starts_us: s.starts_us,
        ends_us: s.ends_us,
      })),
    };
  return encodeEnvelope({ ...meta, type: control.type, body });
}

/** Decodes and validates a control message; throws a ProtocolError naming the field and value. */
export function decodeIncidentControl(
  bytes: Uint8Array,
  limits: DecodeLimits = {},
): { envelope: Envelope; control: IncidentControl } {
  const envelope = decodeEnvelope(bytes, limits);
  const body = requireMap(envelope.body, `Incident control "${envelope.type}": the body`);
  const session = name(body.session, "body.session");
  if (envelope.type === ACK_TYPE) {
    const incident = id(body.incident, "body.incident");
    const by = body.by === undefined ? undefined : ackBy(body.by, "body.by");
    return {
      envelope,
      control: { type: "ack", session, incident, ...(by === undefined ? {} : { by }) },
    };
  }
  if (envelope.type === STALE_TYPE) {
    const raw = body.channels;
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > STALE_CHANNELS_MAX) {
      throw bad("body.channels", raw, `must be an array of 1 to ${STALE_CHANNELS_MAX} channels`);
    }
    const channels = raw.map((c, i) => name(c, `body.channels[${i}]`));
    return { envelope, control: { type: "stale", session, channels } };
  }
  if (envelope.type !== SILENCES_TYPE) {
    throw bad(
      "type",
      envelope.type,
      `must be "${SILENCES_TYPE}", "${ACK_TYPE}" or "${STALE_TYPE}"`,
    );
  }
  const raw = body.silences;
  if (!Array.isArray(raw) || raw.length > SILENCES_PER_SESSION_MAX) {
    throw bad("body.silences", raw, `must be an array of at most ${SILENCES_PER_SESSION_MAX}`);
  }
  const silences = raw.map((x, i) => readSilence(x, `body.silences[${i}]`));
  return { envelope, control: { type: "silences", session, silences } };
}

function readSilence(raw: unknown, where: string): Silence {
  const m = requireMap(raw, `Incident control field "${where}"`);
  const matchers = m.matchers;
  if (typeof matchers !== "string") throw bad(`${where}.matchers`, matchers, "must be a string");
  const starts_us = int(m.starts_us, `${where}.starts_us`);
  const ends_us = int(m.ends_us, `${where}.ends_us`);
  if (ends_us <= starts_us || ends_us - starts_us > SILENCE_DURATION_US_MAX) {
    throw bad(
      `${where}.ends_us`,
      ends_us,
      `must be after starts_us (${starts_us}) by at most 30 days`,
    );
  }
  return {
    id: name(m.id, `${where}.id`),
    matchers: parseSilenceMatchers(matchers, `${where}.matchers`),
    starts_us,
    ends_us,
  };
}

/** Encodes the stage's answer to a request. */
export function encodeIncidentControlAnswer(
  meta: Omit<EnvelopeInit, "body" | "type">,
  answer: IncidentControlAnswer,
): Uint8Array {
  return encodeEnvelope({
    ...meta,
    type: answer.ok ? "ok" : "error",
    body: answer.ok ? { applied: answer.detail } : { error: answer.detail },
  });
}

/** Decodes the stage's answer; throws a ProtocolError naming the field and value. */
export function decodeIncidentControlAnswer(bytes: Uint8Array): IncidentControlAnswer {
  const envelope = decodeEnvelope(bytes);
  const body = requireMap(envelope.body, "Incident control answer: the body");
  if (envelope.type === "ok") return { ok: true, detail: text(body.applied, "body.applied") };
  if (envelope.type === "error") return { ok: false, detail: text(body.error, "body.error") };
  throw bad("type", envelope.type, `must be "ok" or "error"`);
}

function bad(field: string, value: unknown, rule: string): ProtocolError {
  return new ProtocolError(
    value === undefined ? "field" : "value",
    `Incident control field "${field}" ${rule}, got ${describeValue(value)}`,
    { field, value },
  );
}

function name(raw: unknown, field: string): string {
  if (isValidName(raw)) return raw;
  throw bad(field, raw, "must be a name of 1 to 64 of A-Z a-z 0-9 _ -");
}

/** Characters of an acknowledger's name, at most. */
export const ACK_BY_CHARS_MAX = 128;

/**
 * Who acknowledged: the name the dashboard's user goes by (self-chosen, not a checked identity).
 */
function ackBy(raw: unknown, field: string): string {
  if (typeof raw === "string" && raw.length > 0 && raw.length <= ACK_BY_CHARS_MAX) return raw;
  throw bad(field, raw, `must be a string of 1 to ${ACK_BY_CHARS_MAX} characters`);
}

function id(raw: unknown, field: string): string {
  if (typeof raw === "string" && raw.length > 0 && raw.length <= 512) return raw;
  throw bad(field, raw, "must be a string of 1 to 512 characters");
}

function text(raw: unknown, field: string): string {
  if (typeof raw === "string") return raw;
  throw bad(field, raw, "must be a string");
}

function int(raw: unknown, field: string): number {
  if (typeof raw === "number" && Number.isSafeInteger(raw)) return raw;
  throw bad(field, raw, "must be an integer");
}
