/**
 * Findings and incidents as a person reads them: the findings of an output event, their lines and
 * severities (the page's events panel and `troupe watch`), the subscriptions that stream them, the
 * latest few on a bus (`troupe up`'s status), and the lines and JSON of incidents, with where each
 * stands with the alert targets.
 * Nothing here needs Node: the page's code imports this room too.
 */
export {
  type EnvelopeFinding,
  envelopeFinding,
  type Finding,
  type FindingKindName,
  findingKindNames,
  findingsOf,
  findingSourcePattern,
  findingSourcePatterns,
  findingTime,
  findingUnit,
  formatFinding,
  isChannelFindingKind,
  lineTime,
  type LineTimeOptions,
  OTHER_FINDING_KINDS,
  severityAtLeast,
  VIEW_WORDS,
} from "./finding.ts";
export {
  ackJson,
  ackMarks,
  formatIncident,
  incidentJson,
  type IncidentLineOptions,
  incidentNews,
  LINE_CHANNELS_MAX,
  LINE_STATES,
  type LineState,
  lineState,
} from "./incident_line.ts";
export { findingJson } from "./finding_json.ts";
export { alertMarks, alertsJson } from "./alert_marks.ts";
export { findingSubscriptions, type FindingSubscriptionsOptions } from "./finding_subscriptions.ts";
export { LatestFindings } from "./latest_findings.ts";
