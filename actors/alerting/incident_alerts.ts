/**
 * The alerts of one incident under the paging budget: its members grouped by their source labels
 * as Alertmanager groups (`group_by`: `instance`, then `job`), one alert per group, each carrying
 * the group's common labels (`job`, `instance`, and `metric` when it is one series), and sent as a
 * page only when its evidence is past the budget (page_budget.ts). Members without those labels
 * (feeds that are no Prometheus series) stay one group: the incident's own time-window grouping.
 * Kinds that are context (change points, coherence by default) page nothing: they are named on a
 * page of the same group as what changed. Pure, as alertOfIncident is: the same incident, labels,
 * census and settings make the same alerts.
 */
import type { Incident, IncidentMember, PostableAlert } from "../../protocol/mod.ts";
import {
  alertOfIncident,
  type AlertOfIncidentOptions,
  SEVERITY_WORDS,
  sourceAlertLabels,
} from "./alert_of_incident.ts";
import {
  bitsProbability,
  budgetSeverity,
  type Census,
  evidenceBits,
  findingBits,
  PAGE_SEVERITY_MIN,
  pageThreshold,
} from "./page_budget.ts";
import { isContextKind, type PagingConfig } from "./paging_config.ts";

/** Series a description details, at most (the rest are counted). */
export const DESCRIBED_SERIES_MAX = 20;
/** Context incidents a page names, at most. */
export const CONTEXT_LISTED_MAX = 8;
/** What separates an incident's id from its group in an alert's key. */
export const GROUP_KEY_SEPARATOR = "|";

/** One alert of an incident: the outbox key it is kept under, the alert, whether it pages. */
export interface IncidentAlert {
  key: string;
  alert: PostableAlert;
  page: boolean;
}

/** What the alerts of an incident are built with besides it. */
export interface IncidentAlertsOptions extends AlertOfIncidentOptions {
  paging: PagingConfig;
  /** What the cluster watches now; undefined while unknown (nothing pages on the budget then). */
  census: Census | undefined;
  /** The stage's grouping window, s. */
  windowS: number;
  /** The other incidents the sender holds, for the context a page names. */
  others?: Iterable<Incident>;
  /**
   * Whether the alert of `key` was sent as a page before: it stays one while its incident lives.
   */
  paged?: (key: string) => boolean;
}

/** The incident id an alert's key belongs to. */
export function incidentIdOfKey(key: string): string {
  const at = key.indexOf(GROUP_KEY_SEPARATOR);
  return at < 0 ? key : key.slice(0, at);
}

/** The alerts of `incident`: none for a context kind, and none below the budget unless `info`. */
export function incidentAlerts(
  incident: Incident,
  options: IncidentAlertsOptions,
): IncidentAlert[] {
  const { paging } = options;
  if (isContextKind(incident.kind, paging)) return [];
  const census = options.census ??
    (paging.samples_per_day > 0
      ? { channels: incident.members.length, samples_per_day: paging.samples_per_day }
      : undefined);
  // Taken once: an iterator given would be spent on the first group.
  const others = [...(options.others ?? [])];
  const out: IncidentAlert[] = [];
  for (const [group, members] of groupsOf(incident, options)) {
    const key = group === "" ? incident.id : `${incident.id}${GROUP_KEY_SEPARATOR}${group}`;
    const judged = judge(incident.kind, members, census, options);
    const pagedBefore = options.paged?.(key) === true;
    const page = judged.pages || pagedBefore;
    if (!page && paging.below_budget === "drop") continue;
    // A page judged by the budget is at least a warning; one by its kind's own severity keeps it.
    const severity = page && judged.bits !== undefined
      ? Math.max(judged.severity, PAGE_SEVERITY_MIN)
      : judged.severity;
    out.push({
      key,
      page,
      alert: groupAlert(incident, members, {
        ...options,
        others,
        severity,
        page,
        judged,
        census,
      }),
    });
  }
  return out;
}

/** The members grouped by `group_by`'s labels, in order of first appearance. */
function groupsOf(
  incident: Incident,
  options: IncidentAlertsOptions,
): Map<string, IncidentMember[]> {
  const groups = new Map<string, IncidentMember[]>();
  for (const m of incident.members) {
    const g = groupKey(m.channel, options);
    let list = groups.get(g);
    if (!list) groups.set(g, list = []);
    list.push(m);
  }
  return groups;
}

/** `instance=a,job=b` for a channel with any of `group_by`'s labels; "" for none. */
function groupKey(channel: string, options: IncidentAlertsOptions): string {
  const by = options.paging.group_by;
  if (by.length === 0) return "";
  const labels = options.sourceLabels?.(channel);
  if (!labels || !by.some((l) => (labels[l] ?? "") !== "")) return "";
  return by.map((l) => `${l}=${labels[l] ?? ""}`).join(",");
}

/** How a group stands against the budget. */
interface Judged {
  severity: number;
  /** Whether it pages (past the budget, or fired when the budget does not judge it). */
  pages: boolean;
  /** Bits past the budget; undefined when the kind states no surprise (its own severity counts). */
  bits?: number;
}

function judge(
  kind: string,
  members: readonly IncidentMember[],
  census: Census | undefined,
  options: IncidentAlertsOptions,
): Judged {
  const own = Math.max(...members.map((m) => m.peak_severity));
  // Not judged by the budget: a fired incident pages with its kind's own severity.
  if (!options.paging.budget) return { severity: own, pages: true };
  const bits = members.map((m) => findingBits(kind, m.peak)).filter((b) => b !== undefined);
  // A kind that states no surprise (a user's, or members from before peaks were carried).
  if (bits.length === 0) return { severity: own, pages: true };
  if (census === undefined) return { severity: 1, pages: false, bits: -Infinity };
  const past = evidenceBits(bits, {
    census,
    pagesPerDay: options.paging.pages_per_day,
    windowS: options.windowS,
  });
  const severity = budgetSeverity(past);
  return { severity, pages: severity >= PAGE_SEVERITY_MIN, bits: past };
}

function groupAlert(
  incident: Incident,
  members: IncidentMember[],
  o: IncidentAlertsOptions & {
    severity: number;
    page: boolean;
    judged: Judged;
    census: Census | undefined;
  },
): PostableAlert {
  const sub: Incident = {
    ...incident,
    members,
    findings: members.reduce((n, m) => n + m.findings, 0),
    first_us: Math.min(...members.map((m) => m.first_us)),
    last_us: Math.max(...members.map((m) => m.last_us)),
    peak_severity: o.severity,
  };
  if (incident.state === "resolved") sub.last_us = Math.max(sub.last_us, incident.last_us);
  const alert = alertOfIncident(sub, o);
  alert.labels.page = o.page ? "true" : "false";
  if (members.length > 1 && o.sourceLabels) {
    sourceAlertLabels(alert.labels, commonLabels(members.map((m) => o.sourceLabels!(m.channel))));
  }
  const word = SEVERITY_WORDS[o.severity - 1]!;
  const a = alert.annotations;
  const where = ["instance", "job"].map((l) => alert.labels[l]).filter((x) => x !== undefined);
  a.summary = `${incident.kind} on ${
    members.length === 1 ? members[0]!.channel : `${members.length} series`
  }${where.length > 0 ? ` of ${where.join(" ")}` : ""}, severity ${o.severity} (${word})${
    o.page ? "" : ", below the page budget"
  }`;
  a.description = describe(incident, members, o);
  if (o.census !== undefined && o.paging.budget) {
    a.page_threshold = fmt(pageThreshold(o.census, o.paging.pages_per_day));
  }
  if (o.judged.bits !== undefined && Number.isFinite(o.judged.bits)) {
    a.budget_bits = o.judged.bits.toFixed(1);
  }
  const context = contextOf(incident, alert.labels, o);
  if (context !== "") a.what_changed = context;
  return alert;
}

/** The labels every member has with one value (none when a member has no labels). */
function commonLabels(
  all: ReadonlyArray<Readonly<Record<string, string>> | undefined>,
): Record<string, string> {
  const first = all[0];
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) {
    if (all.every((l) => l !== undefined && l[k] === v)) out[k] = v;
  }
  return out;
}

/** Per series: the value, the expected range and the tail probability against the threshold. */
function describe(
  incident: Incident,
  members: readonly IncidentMember[],
  o: IncidentAlertsOptions & { judged: Judged; census: Census | undefined },
): string {
  const threshold = o.census && o.paging.budget
    ? pageThreshold(o.census, o.paging.pages_per_day)
    : undefined;
  const head = o.judged.bits === undefined || !Number.isFinite(o.judged.bits)
    ? `${members.length} series, ${incident.state}`
    : `${members.length} series, ${incident.state}; ${
      Math.abs(o.judged.bits * Math.LOG10E * Math.LN2).toFixed(1)
    } decade(s) ${
      o.judged.bits >= 0 ? "past" : "short of"
    } the budget of ${o.paging.pages_per_day} ` +
      `page(s) a day`;
  const lines = [...members]
    .sort((x, y) => (y.peak?.measure ?? -Infinity) - (x.peak?.measure ?? -Infinity))
    .slice(0, DESCRIBED_SERIES_MAX)
    .map((m) => {
      const p = m.peak;
      const parts = [m.channel + ":"];
      if (p?.value !== undefined) parts.push(`value ${fmt(p.value)}`);
      if (p?.lower !== undefined && p.upper !== undefined) {
        const floor = isCounterRate(o.sourceLabels?.(m.channel)) ? 0 : -Infinity;
        parts.push(`expected ${fmt(Math.max(p.lower, floor))} to ${fmt(Math.max(p.upper, floor))}`);
      } else if (p?.expected !== undefined) parts.push(`expected ${fmt(p.expected)}`);
      const bits = findingBits(incident.kind, p);
      if (bits !== undefined) {
        parts.push(
          `p ${fmt(bitsProbability(bits))}` +
            (threshold === undefined ? "" : ` (page threshold ${fmt(threshold)})`),
        );
      } else parts.push(`severity ${m.peak_severity}`);
      return parts.join(" ");
    });
  const more = members.length - lines.length;
  return [head, ...lines, ...(more > 0 ? [`and ${more} more`] : [])].join("\n");
}

/**
 * Whether a channel is a counter's rate, which is never below 0 (the receiver makes a counter its
 * per-second increase, from 0 again after a reset): a series named `*_total`, the suffix
 * Prometheus's naming conventions give counters and the receiver reads as one whatever its
 * metadata says. A finding's band is symmetric about the expected value, so on a quiet counter
 * its lower edge can fall below 0, a rate no counter has; the description says 0 there.
 */
function isCounterRate(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels?.__name__?.endsWith("_total") === true;
}

/**
 * The context incidents on this alert's group: of a context kind, within a grouping window of its
 * span, with a member of the same `group_by` labels (a group without them: linked to the incident
 * by the stage).
 */
function contextOf(
  incident: Incident,
  labels: Readonly<Record<string, string>>,
  o: IncidentAlertsOptions,
): string {
  const windowUs = o.windowS * 1e6;
  const out: string[] = [];
  for (const other of o.others ?? []) {
    if (out.length >= CONTEXT_LISTED_MAX) break;
    if (!isContextKind(other.kind, o.paging)) continue;
    if (other.last_us < incident.first_us - windowUs) continue;
    if (other.first_us > incident.last_us + windowUs) continue;
    // A group of labels takes the context on its own series' node; an unlabelled one, what the
    // stage linked to its incident.
    const labelled = o.paging.group_by.some((l) => labels[l] !== undefined);
    const here = other.members.filter((m) => sameGroup(m.channel, labels, o));
    const linked = incident.links.includes(other.id) || other.links.includes(incident.id);
    if (labelled ? here.length === 0 : !linked) continue;
    const shown = (here.length > 0 ? here : other.members).map((m) => m.channel);
    out.push(
      `${other.kind} on ${shown.slice(0, 3).join(", ")}${
        shown.length > 3 ? ` and ${shown.length - 3} more` : ""
      } from ${
        new Date(Math.floor(other.first_us / 1000)).toISOString()
      } (severity ${other.peak_severity})`,
    );
  }
  return out.join("; ");
}

function sameGroup(
  channel: string,
  labels: Readonly<Record<string, string>>,
  o: IncidentAlertsOptions,
): boolean {
  const src = o.sourceLabels?.(channel);
  const by = o.paging.group_by.filter((l) => labels[l] !== undefined);
  return src !== undefined && by.length > 0 && by.every((l) => src[l] === labels[l]);
}

/** 4 significant digits, in exponent form when small or large (a probability of 4.32e-5). */
function fmt(x: number): string {
  if (x === 0 || (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6)) {
    return String(Number(x.toPrecision(4)));
  }
  return x.toExponential(2);
}
