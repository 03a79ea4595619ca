/**
 * An alert as Prometheus Alertmanager's API v2 takes it (`POST /api/v2/alerts`, a JSON array
 * of postable alerts: `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`). troupe posts
 * each incident as one; `encodePostableAlerts`/`parsePostableAlerts` are the pair, and parsing
 * checks what Alertmanager checks (label names, non-empty label values, RFC 3339 times, `endsAt`
 * not before `startsAt`), so a body troupe would send and Alertmanager refuse is caught here and
 * named. The identity of an alert in Alertmanager is its label set: `alertFingerprint` computes
 * the same 64-bit FNV-1a hash Alertmanager shows as `fingerprint` (and puts in its webhook body).
 */
import { describeValue, ProtocolError } from "./protocol_error.ts";

/** One alert of an Alertmanager API v2 post. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339. */
  startsAt: string;
  /** RFC 3339; absent while firing (Alertmanager then ends it itself after its resolve_timeout). */
  endsAt?: string;
  generatorURL?: string;
}

/** Labels (and annotations) one alert carries, at most. */
export const ALERT_LABELS_MAX = 64;
/** Characters of one label or annotation value, at most. */
export const ALERT_VALUE_CHARS_MAX = 8192;
/** Alerts one post carries, at most. */
export const ALERTS_PER_POST_MAX = 256;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** The JSON body of `POST /api/v2/alerts` carrying `alerts`, each checked first. */
export function encodePostableAlerts(alerts: readonly PostableAlert[]): string {
  if (alerts.length > ALERTS_PER_POST_MAX) {
    throw bad("alerts", alerts.length, `must hold at most ${ALERTS_PER_POST_MAX} alerts`);
  }
  return JSON.stringify(alerts.map((a, i) => postableBody(readPostableAlert(a, `alerts[${i}]`))));
}

/** Parses and checks a `POST /api/v2/alerts` body; a ProtocolError names the field and value. */
export function parsePostableAlerts(text: string): PostableAlert[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad("alerts", text.slice(0, 64), `must be JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw)) throw bad("alerts", raw, "must be an array");
  if (raw.length > ALERTS_PER_POST_MAX) {
    throw bad("alerts", raw.length, `must hold at most ${ALERTS_PER_POST_MAX} alerts`);
  }
  return raw.map((a, i) => readPostableAlert(a, `alerts[${i}]`));
}

/** Checks one postable alert (as parsed JSON), naming `where` in its error. */
export function readPostableAlert(raw: unknown, where = "alert"): PostableAlert {
  const m = obj(raw, where);
  const labels = stringMap(m.labels, `${where}.labels`, true);
  if (Object.keys(labels).length === 0) throw bad(`${where}.labels`, labels, "must not be empty");
  const annotations = m.annotations === undefined
    ? {}
    : stringMap(m.annotations, `${where}.annotations`, false);
  const startsAt = time(m.startsAt, `${where}.startsAt`);
  const alert: PostableAlert = { labels, annotations, startsAt };
  if (m.endsAt !== undefined) {
    alert.endsAt = time(m.endsAt, `${where}.endsAt`);
    if (Date.parse(alert.endsAt) < Date.parse(startsAt)) {
      throw bad(`${where}.endsAt`, alert.endsAt, `must not be before startsAt (${startsAt})`);
    }
  }
  if (m.generatorURL !== undefined) {
    if (typeof m.generatorURL !== "string" || !/^https?:\/\//.test(m.generatorURL)) {
      throw bad(`${where}.generatorURL`, m.generatorURL, "must be an http(s) URL");
    }
    alert.generatorURL = m.generatorURL;
  }
  return alert;
}

/** The alert's fields in one order (labels sorted), so equal alerts encode to equal text. */
export function postableBody(a: PostableAlert): Record<string, unknown> {
  const body: Record<string, unknown> = {
    labels: sorted(a.labels),
    annotations: sorted(a.annotations),
    startsAt: a.startsAt,
  };
  if (a.endsAt !== undefined) body.endsAt = a.endsAt;
  if (a.generatorURL !== undefined) body.generatorURL = a.generatorURL;
  return body;
}

/**
 * Alertmanager's fingerprint of a label set: FNV-1a 64 over the label names in order, each name and
 * value followed by the byte 0xff, as 16 hex digits (Prometheus's `model.LabelSet.Fingerprint`).
 */
export function alertFingerprint(labels: Readonly<Record<string, string>>): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  const enc = new TextEncoder();
  const eat = (bytes: Uint8Array) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * prime) & mask;
  };
  for (const name of Object.keys(labels).sort()) {
    eat(enc.encode(name));
    eat(SEP);
    eat(enc.encode(labels[name]!));
    eat(SEP);
  }
  return h.toString(16).padStart(16, "0");
}

const SEP = new Uint8Array([0xff]);

function sorted(m: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

function bad(field: string, value: unknown, rule: string): ProtocolError {
  return new ProtocolError(
    value === undefined ? "field" : "value",
    `Alertmanager alert field "${field}" ${rule}, got ${describeValue(value)}`,
    { field, value },
  );
}

function obj(raw: unknown, field: string): Record<string, unknown> {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
    return raw as Record<string, unknown>;
  }
  throw bad(field, raw, "must be an object");
}

function stringMap(raw: unknown, field: string, labels: boolean): Record<string, string> {
  const m = obj(raw, field);
  const keys = Object.keys(m);
  if (keys.length > ALERT_LABELS_MAX) {
    throw bad(field, keys.length, `must hold at most ${ALERT_LABELS_MAX} entries`);
  }
  const out: Record<string, string> = {};
  for (const k of keys) {
    if (!LABEL_NAME.test(k)) throw bad(`${field}.${k}`, k, "must be named [a-zA-Z_][a-zA-Z0-9_]*");
    const v = m[k];
    if (typeof v !== "string" || v.length > ALERT_VALUE_CHARS_MAX || (labels && v === "")) {
      throw bad(
        `${field}.${k}`,
        v,
        `must be a ${
          labels ? "non-empty " : ""
        }string of at most ${ALERT_VALUE_CHARS_MAX} characters`,
      );
    }
    out[k] = v;
  }
  return out;
}

/** An RFC 3339 time, checked. */
export function alertTime(raw: unknown, field: string): string {
  return time(raw, field);
}

function time(raw: unknown, field: string): string {
  if (typeof raw === "string" && RFC3339.test(raw) && Number.isFinite(Date.parse(raw))) return raw;
  throw bad(field, raw, "must be an RFC 3339 time");
}
