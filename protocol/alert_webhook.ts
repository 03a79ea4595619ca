/**
 * Alertmanager's webhook body, version 4: what Alertmanager posts to a `webhook_configs` receiver,
 * and what troupe's own `alerting.webhooks` post, so a consumer written for Alertmanager (Robusta,
 * a team's own handler) takes troupe's unchanged. One body is one group: `status` is `firing` when
 * any of its alerts fires; `groupLabels`, `commonLabels` and `commonAnnotations` are the labels the
 * group is keyed on and those every alert shares; each alert carries its `fingerprint`
 * (alertmanager_alert.ts). `buildWebhookPayload`/`parseWebhookPayload` are the pair.
 */
import {
  alertFingerprint,
  alertTime,
  type PostableAlert,
  readPostableAlert,
} from "./alertmanager_alert.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";

/** The version this module builds and reads. */
export const WEBHOOK_VERSION = "4";
/** Alerts one body carries, at most (Alertmanager's `max_alerts`, 0 meaning all, is ours). */
export const WEBHOOK_ALERTS_MAX = 256;
/** Alertmanager's "zero" end time: an alert still firing. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** One alert of a webhook body. */
export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** A webhook body, version 4. */
export interface WebhookPayload {
  version: typeof WEBHOOK_VERSION;
  groupKey: string;
  truncatedAlerts: number;
  status: "firing" | "resolved";
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** What a body is built from besides its alerts. */
export interface WebhookPayloadOptions {
  receiver: string;
  externalURL: string;
  /** The label names the group is keyed on (default `alertname`). */
  groupBy?: readonly string[];
  /** The time an alert whose `endsAt` is past counts as resolved at (ms; default now). */
  nowMs?: number;
}

/** The webhook body of one group of alerts as Alertmanager would post it. */
export function buildWebhookPayload(
  alerts: readonly PostableAlert[],
  options: WebhookPayloadOptions,
): WebhookPayload {
  if (alerts.length === 0) throw bad("alerts", 0, "must hold at least one alert");
  const now = options.nowMs ?? Date.now();
  const kept = alerts.slice(0, WEBHOOK_ALERTS_MAX);
  const out: WebhookAlert[] = kept.map((a) => {
    const resolved = a.endsAt !== undefined && Date.parse(a.endsAt) <= now;
    return {
      status: resolved ? "resolved" : "firing",
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? ZERO_TIME,
      generatorURL: a.generatorURL ?? "",
      fingerprint: alertFingerprint(a.labels),
    };
  });
  const groupLabels: Record<string, string> = {};
  for (const name of options.groupBy ?? ["alertname"]) {
    const v = out[0]!.labels[name];
    if (v !== undefined) groupLabels[name] = v;
  }
  return {
    version: WEBHOOK_VERSION,
    groupKey: `{}:${JSON.stringify(groupLabels)}`,
    truncatedAlerts: alerts.length - kept.length,
    status: out.some((a) => a.status === "firing") ? "firing" : "resolved",
    receiver: options.receiver,
    groupLabels,
    commonLabels: common(out.map((a) => a.labels)),
    commonAnnotations: common(out.map((a) => a.annotations)),
    externalURL: options.externalURL,
    alerts: out,
  };
}

/** Parses and checks a webhook body (Alertmanager's or troupe's); names the field and value. */
export function parseWebhookPayload(text: string): WebhookPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad("body", text.slice(0, 64), `must be JSON (${(err as Error).message})`);
  }
  const m = obj(raw, "body");
  if (m.version !== WEBHOOK_VERSION) {
    throw bad("version", m.version, `must be "${WEBHOOK_VERSION}"`);
  }
  if (!Array.isArray(m.alerts) || m.alerts.length > WEBHOOK_ALERTS_MAX) {
    throw bad("alerts", m.alerts, `must be an array of at most ${WEBHOOK_ALERTS_MAX}`);
  }
  const alerts = m.alerts.map((x, i) => readAlert(x, `alerts[${i}]`));
  const truncated = m.truncatedAlerts;
  if (typeof truncated !== "number" || !Number.isSafeInteger(truncated) || truncated < 0) {
    throw bad("truncatedAlerts", truncated, "must be an integer >= 0");
  }
  return {
    version: WEBHOOK_VERSION,
    groupKey: str(m.groupKey, "groupKey"),
    truncatedAlerts: truncated,
    status: status(m.status, "status"),
    receiver: str(m.receiver, "receiver"),
    groupLabels: strings(m.groupLabels, "groupLabels"),
    commonLabels: strings(m.commonLabels, "commonLabels"),
    commonAnnotations: strings(m.commonAnnotations, "commonAnnotations"),
    externalURL: str(m.externalURL, "externalURL"),
    alerts,
  };
}

function readAlert(raw: unknown, where: string): WebhookAlert {
  const m = obj(raw, where);
  const fingerprint = str(m.fingerprint, `${where}.fingerprint`);
  if (!/^[0-9a-f]{16}$/.test(fingerprint)) {
    throw bad(`${where}.fingerprint`, fingerprint, "must be 16 hex digits");
  }
  const endsAt = alertTime(m.endsAt, `${where}.endsAt`);
  // The label and annotation rules are the postable alert's; its end may be the zero time.
  const checked = readPostableAlert({
    labels: m.labels,
    annotations: m.annotations,
    startsAt: m.startsAt,
  }, where);
  return {
    status: status(m.status, `${where}.status`),
    labels: checked.labels,
    annotations: checked.annotations,
    startsAt: checked.startsAt,
    endsAt,
    generatorURL: str(m.generatorURL, `${where}.generatorURL`),
    fingerprint,
  };
}

function common(maps: readonly Record<string, string>[]): Record<string, string> {
  const out: Record<string, string> = { ...maps[0] };
  for (const m of maps.slice(1)) {
    for (const k of Object.keys(out)) if (m[k] !== out[k]) delete out[k];
  }
  return out;
}

function bad(field: string, value: unknown, rule: string): ProtocolError {
  return new ProtocolError(
    value === undefined ? "field" : "value",
    `Webhook body field "${field}" ${rule}, got ${describeValue(value)}`,
    { field, value },
  );
}

function obj(raw: unknown, field: string): Record<string, unknown> {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    return raw as Record<string, unknown>;
  }
  throw bad(field, raw, "must be an object");
}

function str(raw: unknown, field: string): string {
  if (typeof raw === "string") return raw;
  throw bad(field, raw, "must be a string");
}

function status(raw: unknown, field: string): "firing" | "resolved" {
  if (raw === "firing" || raw === "resolved") return raw;
  throw bad(field, raw, `must be "firing" or "resolved"`);
}

function strings(raw: unknown, field: string): Record<string, string> {
  const m = obj(raw, field);
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== "string") throw bad(`${field}.${k}`, v, "must be a string");
  }
  return m as Record<string, string>;
}
