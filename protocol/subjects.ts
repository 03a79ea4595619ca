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
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return i < s.length;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return p.length === s.length;
}
