/**
 * Incident ids as the page's incidents list shows them: short enough that a line stays a line or
 * two (issue 31: `anomaly-1795516443237558-SYM008 (linked collapse-1795516445781558-SYM003, ...)`
 * wrapped a line to four to six). The full ids stay in the row's `title` and `data-id`.
 */

/** Linked ids a row names before `+N`. */
export const LINKS_SHOWN_MAX = 2;

/**
 * `anomaly-1795516443237558-SYM008` as `anomaly-…7558-SYM008` (the kind, the start's last four
 * digits, the channel); an id of another shape longer than 24 characters keeps its first 10 and
 * last 10 around `…`; a shorter one is itself.
 */
export function shortIncidentId(id: string): string {
  const m = /^([a-z]+)-(\d{6,})-(.+)$/.exec(id);
  if (m) return `${m[1]}-…${m[2]!.slice(-4)}-${m[3]}`;
  return id.length > 24 ? `${id.slice(0, 10)}…${id.slice(-10)}` : id;
}

/** The linked ids a row shows: the first `LINKS_SHOWN_MAX` shortened, then `+N` for the rest. */
export function shortLinks(links: readonly string[]): string[] {
  const shown = links.slice(0, LINKS_SHOWN_MAX).map(shortIncidentId);
  return links.length > shown.length ? [...shown, `+${links.length - shown.length}`] : shown;
}
