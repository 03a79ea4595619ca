/**
 * An incident as an Alertmanager alert: pure, so the alert a restarted or taken-over sender builds
 * from the same incident is the same alert (Alertmanager keys alerts by their labels). Labels are
 * what a route matches and must stay put while the incident lives: `alertname` per kind, `kind`,
 * `severity` (a word: info, low, warning, high, critical for 1-5) with `severity_level` (the
 * number), `incident` (its id), and `channel` for an incident of one channel or `scope=group` for a
 * grouped one, whose members are listed in the `channels` annotation; a channel that came from
 * Prometheus adds its source labels under their own names (sourceAlertLabels: a name troupe's
 * labels use is prefixed `source_`). Annotations carry what the dashboard
 * says, the incident id, and an acknowledgement (an update, never a resolve).
 */
import type { Incident, PostableAlert } from "../../protocol/mod.ts";
import { findingKindOf } from "../../protocol/mod.ts";

/** The words of severities 1 to 5, for routes to match (`severity=~"high|critical"`). */
export const SEVERITY_WORDS = ["info", "low", "warning", "high", "critical"] as const;

/** Members listed in the `channels` annotation, at most. */
export const ALERT_CHANNELS_LISTED_MAX = 64;

/** Who acknowledged an incident, and when (ms). */
export interface AlertAck {
  by: string;
  at_ms: number;
}

/** What an alert is built with besides its incident. */
export interface AlertOfIncidentOptions {
  /** The dashboard's base URL; empty: no generatorURL. */
  dashboardUrl: string;
  /** The session the dashboard opens. */
  session: string;
  ack?: AlertAck;
  /** The labels a channel came with from Prometheus, when it did. */
  sourceLabels?: (channel: string) => Readonly<Record<string, string>> | undefined;
}

/** `TroupeAnomaly`, `TroupeCollapse`, `TroupeCoherence`. */
export function alertName(kind: string): string {
  return `Troupe${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
}

/** The alert of `incident`: firing without `endsAt`, resolved with it (the last finding's time). */
export function alertOfIncident(
  incident: Incident,
  options: AlertOfIncidentOptions,
): PostableAlert {
  const level = Math.min(5, Math.max(1, incident.peak_severity));
  const labels: Record<string, string> = {
    alertname: alertName(incident.kind),
    kind: incident.kind,
    severity: SEVERITY_WORDS[level - 1]!,
    severity_level: String(level),
    incident: incident.id,
  };
  const channels = incident.members.map((m) => m.channel);
  if (channels.length === 1) labels.channel = channels[0]!;
  else labels.scope = "group";
  if (channels.length === 1 && options.sourceLabels) {
    sourceAlertLabels(labels, options.sourceLabels(channels[0]!) ?? {});
  }
  const listed = channels.slice(0, ALERT_CHANNELS_LISTED_MAX).join(",") +
    (channels.length > ALERT_CHANNELS_LISTED_MAX
      ? ` and ${channels.length - ALERT_CHANNELS_LISTED_MAX} more`
      : "");
  // The unit the kind of finding declared (a kind of the user's too).
  const measure = findingKindOf(incident.kind)?.unit ?? "measure";
  const annotations: Record<string, string> = {
    summary: `${incident.kind} on ${
      channels.length === 1 ? channels[0] : `${channels.length} channels`
    }, severity ${level} (${SEVERITY_WORDS[level - 1]})`,
    description:
      `${incident.findings} finding(s) of ${incident.kind} from ${iso(incident.first_us)} to ${
        iso(incident.last_us)
      } over ${channels.length} channel(s); severity ${level} of 5 ` +
      `on the ${measure} scale; ${incident.state}`,
    incident_id: incident.id,
    channels: listed,
  };
  if (options.ack) {
    annotations.acknowledged_by = options.ack.by;
    annotations.acknowledged_at = new Date(options.ack.at_ms).toISOString();
  }
  const alert: PostableAlert = { labels, annotations, startsAt: iso(incident.first_us) };
  if (incident.state === "resolved") {
    alert.endsAt = iso(Math.max(incident.last_us, incident.first_us));
  }
  if (options.dashboardUrl !== "") {
    const q = new URLSearchParams({
      session: options.session,
      from: iso(incident.first_us),
      to: iso(incident.last_us),
      channels: channels.slice(0, ALERT_CHANNELS_LISTED_MAX).join(","),
      incident: incident.id,
    });
    alert.generatorURL = `${options.dashboardUrl}/?${q}`;
  }
  return alert;
}

/** Source labels at most on one alert (a series' labels are bounded by the receiver too). */
export const SOURCE_LABELS_MAX = 64;

/** The labels troupe gives an alert: a source label never takes one of these names. */
export const ALERT_LABELS_RESERVED: ReadonlySet<string> = new Set([
  "alertname",
  "kind",
  "severity",
  "severity_level",
  "incident",
  "channel",
  "scope",
]);

/**
 * Adds a channel's source labels to an alert's `labels`, in name order: each under its own name
 * (`job`, `instance`), `__name__` as `metric`, other `__` names (Prometheus's own) left out; a
 * name the alert already has (`alertname`, `severity`, `kind`, `channel`, ...) is never
 * overwritten: the source label goes as `source_<name>`, or is left out when that is taken too.
 */
export function sourceAlertLabels(
  labels: Record<string, string>,
  source: Readonly<Record<string, string>>,
): void {
  let added = 0;
  for (const k of Object.keys(source).sort()) {
    const v = source[k]!;
    let name = (k === "__name__" ? "metric" : k).replace(/[^a-zA-Z0-9_]/g, "_");
    if (v === "" || name.startsWith("__") || added >= SOURCE_LABELS_MAX) continue;
    if (name in labels || ALERT_LABELS_RESERVED.has(name)) name = `source_${name}`;
    if (name in labels) continue;
    labels[name] = v;
    added++;
  }
}

function iso(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}
