/**
 * A silence: matchers on an incident's kind and channels, a window of event time and who set it
 * and why. A silenced incident is still decided, journaled and published, marked `silenced`, and
 * `troupe watch` leaves it out of its default view. The matcher syntax follows Alertmanager's,
 * space-separated `label OP value`: labels `kind` and `channel`; `=` and `!=` compare a name,
 * `=~` and `!~` a glob (`*` any run of characters, `?` one), not a regular expression, so that no
 * pattern can be slow. Every matcher must hold; a `channel` matcher holds when it holds for every
 * member of the incident, so silencing `channel=SYM001` does not hide a crash across the market.
 */
import { findingKinds, isFindingType } from "./finding_kind.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName } from "./subjects.ts";
import type { Incident } from "./incident.ts";

/** The labels a matcher may name. */
export const SILENCE_LABELS = ["kind", "channel"] as const;
/** A matcher's label. */
export type SilenceLabel = (typeof SILENCE_LABELS)[number];
/** The operators: equal, not equal, glob match, glob non-match. */
export const SILENCE_OPS = ["=", "!=", "=~", "!~"] as const;
/** A matcher's operator. */
export type SilenceOp = (typeof SILENCE_OPS)[number];

/** Matchers one silence holds, at most. */
export const SILENCE_MATCHERS_MAX = 8;
/** Characters of a silence's matchers as text, at most. */
export const SILENCE_MATCHERS_CHARS_MAX = 600;
/** The longest a silence may last: 30 days. */
export const SILENCE_DURATION_US_MAX = 30 * 86_400 * 1_000_000;

/** One `label OP value` term. */
export interface SilenceMatcher {
  label: SilenceLabel;
  op: SilenceOp;
  value: string;
}

/** A silence as the incident stage takes it: event times in µs, `[starts_us, ends_us)`. */
export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  starts_us: number;
  ends_us: number;
}

const TERM = /^(kind|channel)(=~|!~|!=|=)(.*)$/;
const GLOB = /^[A-Za-z0-9_*?-]{1,64}$/;

/**
 * Parses matchers written as `kind=anomaly channel=~SYM00*` (or one term per array item); throws
 * a ProtocolError naming `field`, the term and why.
 */
export function parseSilenceMatchers(
  text: string | readonly string[],
  field = "matchers",
): SilenceMatcher[] {
  const terms = typeof text === "string" ? text.trim().split(/\s+/).filter(Boolean) : [...text];
  const whole = typeof text === "string" ? text : terms.join(" ");
  if (
    terms.length === 0 || terms.length > SILENCE_MATCHERS_MAX ||
    whole.length > SILENCE_MATCHERS_CHARS_MAX
  ) {
    throw bad(field, whole, `must hold 1 to ${SILENCE_MATCHERS_MAX} terms like kind=anomaly`);
  }
  return terms.map((term) => parseTerm(term, field));
}

function parseTerm(term: string, field: string): SilenceMatcher {
  const m = TERM.exec(term);
  if (!m) {
    throw bad(
      field,
      term,
      "has a term that is not label OP value (labels kind, channel; OP =, !=, =~, !~)",
    );
  }
  const label = m[1] as SilenceLabel;
  const op = m[2] as SilenceOp;
  const value = m[3]!;
  const glob = op === "=~" || op === "!~";
  if (/^[=~!]/.test(value)) {
    throw bad(field, term, "has an operator that is not one of =, !=, =~, !~");
  }
  if (!glob && /[*?]/.test(value) && GLOB.test(value)) {
    const want = op === "=" ? "=~" : "!~";
    throw bad(
      field,
      term,
      `compares the pattern ${value} with ${op}, which takes a name: a glob needs ${want} ` +
        `(${label}${want}${value})`,
    );
  }
  if (glob ? !GLOB.test(value) : !isValidName(value)) {
    const allowed = glob
      ? "1 to 64 of A-Z a-z 0-9 _ - * ?"
      : "a name of 1 to 64 of A-Z a-z 0-9 _ -";
    throw bad(field, term, `has a value that must be ${allowed}`);
  }
  // Where this process knows the kinds of finding (a host, a stage, the collab server), a kind
  // none declares is a typo; elsewhere (the dashboard's page) the server that takes it checks.
  const known = findingKinds().map((k) => k.type);
  if (label === "kind" && !glob && known.length > 0 && !isFindingType(value)) {
    throw bad(field, term, `names a kind that must be one of ${known.join(", ")}`);
  }
  return { label, op, value };
}

/** The canonical text of matchers: `kind=anomaly channel=~SYM00*`. */
export function formatSilenceMatchers(matchers: readonly SilenceMatcher[]): string {
  return matchers.map((m) => `${m.label}${m.op}${m.value}`).join(" ");
}

/** Whether `silence` is in force at event time `t_us`. */
export function silenceActive(silence: Silence, t_us: number): boolean {
  return silence.starts_us <= t_us && t_us < silence.ends_us;
}

/** Whether every matcher of `silence` holds for `incident` (a channel matcher for every member). */
export function silenceMatches(silence: Silence, incident: Incident): boolean {
  return silence.matchers.every((m) =>
    m.label === "kind"
      ? termHolds(m, incident.kind)
      : incident.members.length > 0 && incident.members.every((x) => termHolds(m, x.channel))
  );
}

function termHolds(m: SilenceMatcher, value: string): boolean {
  switch (m.op) {
    case "=":
      return value === m.value;
    case "!=":
      return value !== m.value;
    case "=~":
      return globMatches(m.value, value);
    case "!~":
      return !globMatches(m.value, value);
  }
}

/** Glob matching, `*` any run and `?` one character, in O(pattern × value) at worst. */
export function globMatches(pattern: string, value: string): boolean {
  let p = 0, v = 0, star = -1, mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

function bad(field: string, value: unknown, rule: string): ProtocolError {
  return new ProtocolError(
    "value",
    `Silence field "${field}" ${rule}, got ${describeValue(value)}`,
    { field, value },
  );
}
