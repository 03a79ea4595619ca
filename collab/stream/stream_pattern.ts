/**
 * Which subjects a `/stream` subscription may reach: the gateway relays what lies inside
 * STREAM_PREFIXES (outputs, findings, dead letters, system events, scan results), never the feeds
 * or the control subjects. A pattern outside them is refused with an `err` (the socket stays
 * open), so the check is the gateway's, not the wire decoder's (protocol/stream_message.ts).
 */
import {
  areaPattern,
  scanPattern,
  STREAM_LIMITS,
  streamFieldError as bad,
} from "../../protocol/mod.ts";

/** The subject patterns a subscription may reach into (each pattern must lie inside one). */
export const STREAM_PREFIXES: readonly string[] = [
  areaPattern("out"),
  areaPattern("finding"),
  areaPattern("dlq"),
  areaPattern("sys"),
  scanPattern("results"),
];

/**
 * Throws unless every subject matching `pattern` is inside one of STREAM_PREFIXES (so a pattern
 * can narrow a prefix, never widen it): `troupe.out.anomaly.*` is in, `troupe.>` and
 * `troupe.feed.x.y` are not.
 */
export function checkStreamPattern(pattern: unknown, field = "subjects"): string {
  if (
    typeof pattern !== "string" || pattern === "" ||
    pattern.length > STREAM_LIMITS.pattern_chars_max
  ) {
    throw bad(
      field,
      pattern,
      `must be a subject pattern of 1 to ${STREAM_LIMITS.pattern_chars_max} chars`,
    );
  }
  const tokens = pattern.split(".");
  const tokenOk = (t: string, i: number) =>
    t === "*" || (t === ">" && i === tokens.length - 1) || /^[A-Za-z0-9_-]{1,64}$/.test(t);
  if (!tokens.every(tokenOk)) {
    throw bad(
      field,
      pattern,
      "is not a NATS subject pattern (tokens of A-Z a-z 0-9 _ -, * or a last >)",
    );
  }
  if (!STREAM_PREFIXES.some((prefix) => patternWithin(tokens, prefix.split(".")))) {
    throw bad(field, pattern, `is outside the relayed subjects (${STREAM_PREFIXES.join(", ")})`);
  }
  return pattern;
}

/** Whether every subject matched by `inner` is matched by `outer` (both split into tokens). */
function patternWithin(inner: string[], outer: string[]): boolean {
  for (let i = 0; i < outer.length; i++) {
    const o = outer[i]!;
    const t = inner[i];
    if (o === ">") return t !== undefined;
    if (t === undefined || t === ">") return false;
    if (o !== "*" && (t === "*" || t !== o)) return false;
  }
  return inner.length === outer.length;
}
