/**
 * Acknowledgements and silences in a session document, so everyone in the session sees them: the
 * top-level maps `acks` (one per incident id: who, when, a note) and `silences` (by id: matchers
 * on kind and channel, a start and an expiry, who and why). Every write is validated first: a bad
 * value throws a SessionDocError naming the field and the value, and nothing is written. The
 * bridge (bridge.ts) sends a session's silences to the incident stage and checks each ack against
 * the incidents it holds, writing the answer beside the entry (`status`, `detail`). Viewers cannot
 * write either map: the server drops their updates. `INCIDENT_DOC_VALIDATORS` is the table the
 * server-side schema check registers.
 */
import * as Y from "yjs";
import {
  formatSilenceMatchers,
  isValidName,
  parseSilenceMatchers,
  ProtocolError,
  type Silence,
  SILENCE_DURATION_US_MAX,
  SILENCES_PER_SESSION_MAX,
} from "../../protocol/mod.ts";
import { DOC_LIMITS, fail, SessionDocError } from "./session_doc.ts";

/** The incident stage's answer, written back beside an entry. */
export type IncidentAnswerStatus = "pending" | "ok" | "error";

/** A silence as the session document keeps it; times are milliseconds since the epoch. */
export interface SilenceEntry {
  id: string;
  /** Canonical matcher text: `kind=anomaly channel=~SYM00*`. */
  matchers: string;
  starts_ms: number;
  ends_ms: number;
  by: string;
  reason: string;
  /** Who ended it before its expiry (`troupe incidents unsilence`, the panel's button). */
  ended_by?: string;
  status?: IncidentAnswerStatus;
  /** What the stage applied, or why it was refused. */
  detail?: string;
}

/** An acknowledgement of one incident. */
export interface AckEntry {
  incident: string;
  by: string;
  at_ms: number;
  note: string;
  status?: IncidentAnswerStatus;
  /** The stage's refusal (an unknown incident) or what it acknowledged. */
  detail?: string;
}

/** What `addSilence` takes: matchers as text, a start (default now) and a duration or an end. */
export interface SilenceInput {
  id?: string;
  matchers: string;
  starts_ms?: number;
  ends_ms: number;
  by: string;
  reason: string;
}

const ANSWERS = ["pending", "ok", "error"];

/**
 * Checks a silence entry as written or read back; with `nowMs`, an expiry not after it is refused
 * (a new silence must end in the future). Returns a clean copy.
 */
export function checkSilence(field: string, value: unknown, nowMs?: number): SilenceEntry {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(field, "an object { id, matchers, starts_ms, ends_ms, by, reason }", value);
  }
  const v = value as Record<string, unknown>;
  const id = name(`${field}.id`, v.id);
  const matchers = matcherText(`${field}.matchers`, v.matchers);
  const starts_ms = time(`${field}.starts_ms`, v.starts_ms);
  const ends_ms = time(`${field}.ends_ms`, v.ends_ms);
  if (ends_ms <= starts_ms || (ends_ms - starts_ms) * 1000 > SILENCE_DURATION_US_MAX) {
    fail(`${field}.ends_ms`, `after starts_ms (${starts_ms}) by at most 30 days`, ends_ms);
  }
  if (nowMs !== undefined && ends_ms <= nowMs) {
    fail(`${field}.ends_ms`, `in the future (now is ${nowMs})`, ends_ms);
  }
  const out: SilenceEntry = {
    id,
    matchers,
    starts_ms,
    ends_ms,
    by: text(`${field}.by`, v.by, DOC_LIMITS.title_chars_max),
    reason: text(`${field}.reason`, v.reason, DOC_LIMITS.text_chars_max),
  };
  if (v.ended_by !== undefined) {
    out.ended_by = text(`${field}.ended_by`, v.ended_by, DOC_LIMITS.title_chars_max);
  }
  return answered(field, v, out);
}

/** Checks an acknowledgement entry; returns a clean copy. */
export function checkAck(field: string, value: unknown): AckEntry {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(field, "an object { incident, by, at_ms, note }", value);
  }
  const v = value as Record<string, unknown>;
  return answered<AckEntry>(field, v, {
    incident: text(`${field}.incident`, v.incident, 512),
    by: text(`${field}.by`, v.by, DOC_LIMITS.title_chars_max),
    at_ms: time(`${field}.at_ms`, v.at_ms),
    note: text(`${field}.note`, v.note ?? "", DOC_LIMITS.text_chars_max, true),
  });
}

/** The server-side schema's entries for the two maps: map name → validator of one value. */
export const INCIDENT_DOC_VALIDATORS = {
  silences: (key: string, value: unknown) => checkSilence(`silences.${key}`, value),
  acks: (key: string, value: unknown) => checkAck(`acks.${key}`, value),
} as const;

/** A silence entry as the incident stage takes it (µs of event time). */
export function silenceOfEntry(e: SilenceEntry): Silence {
  return {
    id: e.id,
    matchers: parseSilenceMatchers(e.matchers),
    starts_us: e.starts_ms * 1000,
    ends_us: e.ends_ms * 1000,
  };
}

/** The acks and silences of a session document, typed and validated. */
export class SessionIncidents {
  readonly doc: Y.Doc;

  constructor(doc: Y.Doc) {
    this.doc = doc;
  }

  get silences(): Y.Map<SilenceEntry> {
    return this.doc.getMap("silences");
  }
  get acks(): Y.Map<AckEntry> {
    return this.doc.getMap("acks");
  }

  /**
   * Adds a silence; throws a SessionDocError naming the field for a bad matcher, an expiry not
   * in the future or a full table (silences ended longest ago are dropped to make room first).
   */
  addSilence(input: SilenceInput, nowMs: number): SilenceEntry {
    const id = input.id ?? `s${nowMs.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const clean = checkSilence(`silences.${id}`, {
      ...input,
      id,
      starts_ms: input.starts_ms ?? nowMs,
    }, nowMs);
    this.doc.transact(() => {
      const over = this.silences.size + 1 - SILENCES_PER_SESSION_MAX;
      if (over > 0) {
        const done = [...this.silences.values()].filter((s) => s.ends_ms <= nowMs)
          .sort((a, b) => a.ends_ms - b.ends_ms).slice(0, over);
        if (done.length < over) {
          fail("silences", `at most ${SILENCES_PER_SESSION_MAX} in force`, this.silences.size);
        }
        for (const s of done) this.silences.delete(s.id);
      }
      this.silences.set(id, { ...clean, status: "pending" });
    });
    return clean;
  }

  /** Ends a silence now (it stays listed, ended); throws naming the id when there is none. */
  endSilence(id: string, by: string, nowMs: number): SilenceEntry {
    const s = this.silences.get(id);
    if (s === undefined) {
      const known = [...this.silences.keys()].slice(0, 8).join(", ") || "none";
      throw new SessionDocError(
        `silences.${id}`,
        `No silence "${id}" in the session (silences: ${known})`,
      );
    }
    if (s.ends_ms <= nowMs) {
      fail(`silences.${id}.ends_ms`, "in the future (not yet ended)", s.ends_ms);
    }
    const ended: SilenceEntry = {
      ...s,
      ends_ms: Math.max(nowMs, s.starts_ms + 1),
      ended_by: text(`silences.${id}.ended_by`, by, DOC_LIMITS.title_chars_max),
      status: "pending",
    };
    delete ended.detail;
    this.silences.set(id, ended);
    return ended;
  }

  /** Every silence, newest start first. */
  silenceList(): SilenceEntry[] {
    return [...this.silences.values()].sort((a, b) => b.starts_ms - a.starts_ms);
  }

  /** Acknowledges an incident (replacing an earlier ack of it); the stage checks it exists. */
  ack(entry: Omit<AckEntry, "status" | "detail">): AckEntry {
    const clean = checkAck(`acks.${entry.incident}`, entry);
    this.acks.set(clean.incident, { ...clean, status: "pending" });
    return clean;
  }

  /** The ack of an incident, or undefined. */
  ackOf(incident: string): AckEntry | undefined {
    return this.acks.get(incident);
  }
}

function answered<T extends { status?: IncidentAnswerStatus; detail?: string }>(
  field: string,
  v: Record<string, unknown>,
  out: T,
): T {
  if (v.status !== undefined) {
    if (!ANSWERS.includes(v.status as string)) {
      fail(`${field}.status`, `one of ${ANSWERS.join(", ")}`, v.status);
    }
    out.status = v.status as IncidentAnswerStatus;
  }
  if (v.detail !== undefined) {
    out.detail = text(`${field}.detail`, v.detail, DOC_LIMITS.text_chars_max, true);
  }
  return out;
}

function matcherText(field: string, value: unknown): string {
  if (typeof value !== "string") {
    fail(field, "matchers as text, like kind=anomaly channel=~SYM*", value);
  }
  try {
    return formatSilenceMatchers(parseSilenceMatchers(value, field));
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw new SessionDocError(
      field,
      err.message.replace(/^Silence field/, "Session document field"),
    );
  }
}

function name(field: string, value: unknown): string {
  if (!isValidName(value)) {
    fail(field, "1 to 64 of A-Z a-z 0-9 _ -", value);
  }
  return value;
}

function time(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(field, "milliseconds since the epoch (an integer >= 0)", value);
  }
  return value;
}

function text(field: string, value: unknown, max: number, allowEmpty = false): string {
  if (typeof value !== "string" || value.length > max || (!allowEmpty && value.length === 0)) {
    fail(field, `a string of ${allowEmpty ? 0 : 1} to ${max} characters`, value);
  }
  return value;
}
