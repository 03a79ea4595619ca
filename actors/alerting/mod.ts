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
  publicUrl,
  type TargetCounts,
} from "./alert_sender.ts";
export { registerAlertMetrics } from "./alert_metrics.ts";
export { runAlerting, type RunAlertingOptions, type RunningAlerting } from "./run_alerting.ts";
