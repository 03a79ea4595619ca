/**
 * The `alerting` section of a host configuration: where incidents go (Alertmanagers, webhooks with
 * Alertmanager's body), how often a firing one is sent again, for how long a resolved one is, and
 * the bounds of delivery (request timeout, backoff, backlog). Every field is checked and a bad one
 * is a ConfigError naming `alerting.<field>` and the value.
 */
import {
  ConfigError,
  configObject,
  readNumber,
  readString,
  rejectUnknown,
} from "../../protocol/mod.ts";
import { defaultPagingConfig, type PagingConfig, parsePagingConfig } from "./paging_config.ts";

/** A webhook target: a URL and the headers each post carries (a bearer token). */
export interface WebhookTarget {
  url: string;
  headers: Record<string, string>;
}

/** Alerting settings. */
export interface AlertingConfig {
  /** Alertmanager base URLs; an HA pair is listed whole: each gets every alert. */
  alertmanagers: string[];
  webhooks: WebhookTarget[];
  /** A firing alert is posted again this often, so Alertmanager never times it out. */
  resend_ms: number;
  /** A resolved alert is posted again for this long, so every replica learns it. */
  resolved_resend_ms: number;
  /**
   * An incident that fired and resolved while an Alertmanager could not be reached is sent to it
   * firing, then resolved this long after it accepted the firing one: longer than the route's
   * `group_interval` (Alertmanager's default, 5 min), so the group is notified while it fires.
   */
  unseen_hold_ms: number;
  /** One request's timeout. */
  timeout_ms: number;
  /** The longest wait between two retries (the backoff doubles from 500 ms up to it). */
  retry_ms_max: number;
  /** Alerts owed to one target, at most; past it the oldest resolved (then oldest) falls off. */
  owed_max: number;
  /** The dashboard's base URL, for each alert's generatorURL (empty: none). */
  dashboard_url: string;
  /** The dashboard session generatorURL opens. */
  session: string;
  /** What pages: the budget, grouping by labels, the kinds that are context (paging_config.ts). */
  paging: PagingConfig;
}

/** Targets one cluster may have, at most, per kind. */
export const ALERT_TARGETS_PER_KIND_MAX = 8;
/** Headers one webhook may carry, at most. */
export const WEBHOOK_HEADERS_MAX = 16;

/** The defaults: no targets (nothing is sent), re-sent every minute, resolved ones for 5 min. */
export const defaultAlertingConfig: Readonly<AlertingConfig> = {
  alertmanagers: [],
  webhooks: [],
  resend_ms: 60_000,
  resolved_resend_ms: 300_000,
  unseen_hold_ms: 300_000,
  timeout_ms: 5_000,
  retry_ms_max: 30_000,
  owed_max: 4096,
  dashboard_url: "",
  session: "main",
  paging: defaultPagingConfig,
};

const FIELDS = [
  "alertmanagers",
  "webhooks",
  "resend_ms",
  "resolved_resend_ms",
  "unseen_hold_ms",
  "timeout_ms",
  "retry_ms_max",
  "owed_max",
  "dashboard_url",
  "session",
  "paging",
];

/** Whether anything is configured to receive alerts. */
export function alertingEnabled(c: AlertingConfig): boolean {
  return c.alertmanagers.length + c.webhooks.length > 0;
}

/** Validates `raw` (absent: the defaults); throws a ConfigError naming `path.<field>`. */
export function parseAlertingConfig(raw: unknown, path = "alerting"): AlertingConfig {
  const o = configObject(raw ?? {}, path);
  rejectUnknown(o, FIELDS, path);
  const d = defaultAlertingConfig;
  const ms = (key: keyof AlertingConfig, min: number, max: number) =>
    readNumber(o, key, path, d[key] as number, { min, max, integer: true });
  const alertmanagers = list(o.alertmanagers, `${path}.alertmanagers`).map((u, i) =>
    checkUrl(u, `${path}.alertmanagers[${i}]`)
  );
  const webhooks = list(o.webhooks, `${path}.webhooks`).map((w, i) =>
    readWebhook(w, `${path}.webhooks[${i}]`)
  );
  const dashboard_url = readString(o, "dashboard_url", path, d.dashboard_url);
  if (dashboard_url !== "") checkUrl(dashboard_url, `${path}.dashboard_url`);
  return {
    alertmanagers,
    webhooks,
    resend_ms: ms("resend_ms", 100, 3_600_000),
    resolved_resend_ms: ms("resolved_resend_ms", 0, 86_400_000),
    unseen_hold_ms: ms("unseen_hold_ms", 0, 86_400_000),
    timeout_ms: ms("timeout_ms", 50, 120_000),
    retry_ms_max: ms("retry_ms_max", 100, 3_600_000),
    owed_max: ms("owed_max", 16, 1_000_000),
    dashboard_url: dashboard_url.replace(/\/+$/, ""),
    session: readString(o, "session", path, d.session),
    paging: parsePagingConfig(o.paging, `${path}.paging`),
  };
}

function list(raw: unknown, field: string): unknown[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > ALERT_TARGETS_PER_KIND_MAX) {
    throw new ConfigError(
      field,
      `Field "${field}" must be a list of at most ${ALERT_TARGETS_PER_KIND_MAX} targets, got ${
        JSON.stringify(raw)
      }`,
      { value: raw },
    );
  }
  return raw;
}

/** An http(s) URL without a trailing slash; a ConfigError naming `field` otherwise. */
export function checkUrl(raw: unknown, field: string): string {
  let ok = false;
  if (typeof raw === "string") {
    try {
      ok = /^https?:$/.test(new URL(raw).protocol);
    } catch {
      ok = false;
    }
  }
  if (!ok) {
    throw new ConfigError(
      field,
      `Field "${field}" must be an http(s) URL, got ${JSON.stringify(raw)}`,
      { value: raw },
    );
  }
  return (raw as string).replace(/\/+$/, "");
}

function readWebhook(raw: unknown, field: string): WebhookTarget {
  if (typeof raw === "string") return { url: checkUrl(raw, field), headers: {} };
  const o = configObject(raw, field);
  rejectUnknown(o, ["url", "headers"], field);
  const url = checkUrl(o.url, `${field}.url`);
  const h = o.headers === undefined ? {} : configObject(o.headers, `${field}.headers`);
  const entries = Object.entries(h);
  if (entries.length > WEBHOOK_HEADERS_MAX) {
    throw new ConfigError(
      `${field}.headers`,
      `Field "${field}.headers" must hold at most ${WEBHOOK_HEADERS_MAX} headers, got ` +
        `${entries.length}`,
      { value: entries.length },
    );
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(k) || typeof v !== "string" || /[\r\n]/.test(v)) {
      throw new ConfigError(
        `${field}.headers.${k}`,
        `Field "${field}.headers.${k}" must be a header name with a one-line string value, got ${
          JSON.stringify(v)
        }`,
        { value: v },
      );
    }
    headers[k] = v;
  }
  return { url, headers };
}
