/**
 * Alerting: the cluster's incidents posted to every configured Prometheus Alertmanager and to
 * webhooks that take Alertmanager's body (alert_sender.ts), from a durable outbox per target
 * (alert_outbox.ts) so restarts, takeovers and outages end with each target holding the true state;
 * troupe's silences decide what is sent. docs/alerting.md is the user's page.
 */
export {
  type AlertingConfig,
  alertingEnabled,
  defaultAlertingConfig,
  parseAlertingConfig,
  type WebhookTarget,
} from "./alerting_config.ts";
export {
  ALERT_LABELS_RESERVED,
  type AlertAck,
  alertName,
  alertOfIncident,
  type AlertOfIncidentOptions,
  SEVERITY_WORDS,
  sourceAlertLabels,
} from "./alert_of_incident.ts";
export {
  AlertOutbox,
  FIRED_UNSEEN_ANNOTATION,
  FIRED_UNSEEN_TEXT,
  type OwedAlert,
  type TargetKind,
} from "./alert_outbox.ts";
export {
  ALERTS_OWED_STREAM,
  AlertSender,
  type AlertSenderOptions,
  LABELS_ASK_MS_MAX,
  publicUrl,
  type TargetCounts,
} from "./alert_sender.ts";
export { registerAlertMetrics } from "./alert_metrics.ts";
export {
  GROUP_KEY_SEPARATOR,
  type IncidentAlert,
  incidentAlerts,
  type IncidentAlertsOptions,
  incidentIdOfKey,
} from "./incident_alerts.ts";
export {
  bitsProbability,
  budgetBits,
  budgetSeverity,
  type Census,
  evidenceBits,
  findingBits,
  PAGE_SEVERITY_MIN,
  pageMeasure,
  pageThreshold,
} from "./page_budget.ts";
export { registerPageMetrics } from "./page_metrics.ts";
export {
  BELOW_BUDGET_CHOICES,
  defaultPagingConfig,
  isContextKind,
  type PagingConfig,
  parsePagingConfig,
} from "./paging_config.ts";
export { CENSUS_WINDOW_MS, SampleCensus } from "./sample_census.ts";
export { runAlerting, type RunAlertingOptions, type RunningAlerting } from "./run_alerting.ts";
export { askAlertDelivery, type AskAlertDeliveryOptions } from "./ask_alert_delivery.ts";
