/**
 * NATS subject patterns compared as patterns: whether a text is one, and whether two of them can
 * match the same subject (a recorder subscribed to both would record such a message twice).
 * Matching one subject against a pattern is subjects.ts's `subjectMatches`.
 */

/** Whether `s` is a NATS subject pattern: non-empty tokens, `*` and a final `>` whole tokens. */
export function isSubjectPattern(s: string): boolean {
  const tokens = s.split(".");
  return tokens.every((t, i) =>
    t.length > 0 && !/\s/.test(t) &&
    (!/[*>]/.test(t) || t === "*" || (t === ">" && i === tokens.length - 1))
  );
}

/** Whether some subject matches both patterns (both well-formed: see isSubjectPattern). */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split("."), y = b.split(".");
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const s = x[i], t = y[i];
    if (s === ">" || t === ">") return s !== undefined && t !== undefined;
    if (s === undefined || t === undefined) return false;
    if (s !== t && s !== "*" && t !== "*") return false;
  }
  return true;
}
