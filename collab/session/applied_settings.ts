/**
 * The settings the actor hosts apply now, kept in a session document's `applied` map beside what
 * the team asked for (`thresholds`): per threshold key (`<kind>` or `<kind>/<channel>`), the
 * settings in force, the host that said so and when. Only the collab server writes it, from the
 * hosts' settings reports (protocol/settings_report.ts): it asks when a room opens, so a page
 * opened late learns the current settings, and hosts report after every control message they
 * apply, so a change made with `troupe ctl` shows up as well as one made on the page. A report
 * from each host replaces that host's previous one; a key no host reports any more is removed
 * (settings_watch.ts does the writing; this file is what the page reads too).
 */
import type * as Y from "yjs";
import type { AppliedSettings, SettingsReport } from "../../protocol/mod.ts";

/** The name of the document's map of applied settings. */
export const APPLIED_MAP = "applied";

/** What the hosts apply for one threshold key. */
export interface AppliedEntry {
  settings: AppliedSettings;
  /** The hosts whose reports said so, sorted and comma-separated ("h1-t0, h1-t1"). */
  host: string;
  /** When that host built its report, ms since the Unix epoch. */
  at_ms: number;
}

/** The document's map of applied settings (written by the server only). */
export function appliedMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap(APPLIED_MAP);
}

/** The applied entry of `key`, or undefined when no host reported one or it is malformed. */
export function appliedEntry(doc: Y.Doc, key: string): AppliedEntry | undefined {
  const raw = appliedMap(doc).get(key) as Partial<AppliedEntry> | undefined;
  if (raw === null || typeof raw !== "object") return undefined;
  const { settings, host, at_ms } = raw;
  if (settings === null || typeof settings !== "object" || typeof host !== "string") {
    return undefined;
  }
  return { settings, host, at_ms: typeof at_ms === "number" ? at_ms : 0 };
}

/**
 * Merges the latest report of each host into one entry per threshold key: the settings of the
 * newest report that has the key, and every host whose report says the same (the threads of a
 * threaded host each report their own), so "reported by" names them all.
 */
export function mergeReports(reports: Iterable<SettingsReport>): Map<string, AppliedEntry> {
  const byKey = new Map<string, Array<{ settings: AppliedSettings; report: SettingsReport }>>();
  const add = (key: string, settings: AppliedSettings, report: SettingsReport) => {
    let list = byKey.get(key);
    if (!list) byKey.set(key, list = []);
    list.push({ settings, report });
  };
  const newest = [...reports].sort((a, b) => a.atMs - b.atMs); // later reports win a kind
  for (const r of newest) {
    for (const [kind, settings] of Object.entries(r.kinds)) add(kind, settings, r);
  }
  for (const r of newest) {
    for (const [kind, perKey] of Object.entries(r.keys)) {
      for (const [key, settings] of Object.entries(perKey)) add(`${kind}/${key}`, settings, r);
    }
  }
  const out = new Map<string, AppliedEntry>();
  for (const [key, list] of byKey) {
    const last = list[list.length - 1]!;
    const same = JSON.stringify(last.settings);
    const hosts = list.filter((e) => JSON.stringify(e.settings) === same).map((e) => e.report.host);
    out.set(key, { settings: last.settings, host: hostList(hosts), at_ms: last.report.atMs });
  }
  return out;
}

/**
 * The most characters a list of hosts takes (an applied entry's `host`, a threshold entry's, whose
 * limit is the session's `title_chars_max`): past it, the hosts are counted, not named.
 */
export const HOST_LIST_CHARS_MAX = 200;

/** "h1-t0, h1-t1": the hosts sorted, once each; "12 hosts" when their names would not fit. */
export function hostList(hosts: readonly string[]): string {
  const all = [...new Set(hosts)].sort();
  const text = all.join(", ");
  return text.length <= HOST_LIST_CHARS_MAX ? text : `${all.length} hosts`;
}
