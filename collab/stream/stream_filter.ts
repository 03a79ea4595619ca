/**
 * A `/stream` subscription's filter: its subject patterns and channel globs, compiled once and
 * applied by the gateway to every message it relays (and by `troupe watch` to what it prints).
 */
import { subjectMatches } from "../../protocol/mod.ts";

/** A compiled subscription filter: its subject patterns and channel globs. */
export interface StreamFilter {
  subjects: readonly string[];
  /** Absent: every channel. */
  channels?: readonly RegExp[];
}

/** Compiles channel globs (`*` = any run of characters) to anchored regular expressions. */
export function compileChannelGlobs(globs: readonly string[]): RegExp[] {
  return globs.map((g) =>
    new RegExp(
      "^" + g.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$",
    )
  );
}

/** The channel of a subject: its last token (`troupe.out.<kind>.<key>` → key). */
export function subjectChannel(subject: string): string {
  return subject.slice(subject.lastIndexOf(".") + 1);
}

/** Whether `subject` passes `filter`. */
export function filterMatches(filter: StreamFilter, subject: string): boolean {
  if (!filter.subjects.some((p) => subjectMatches(p, subject))) return false;
  if (!filter.channels) return true;
  const channel = subjectChannel(subject);
  return filter.channels.some((re) => re.test(channel));
}
