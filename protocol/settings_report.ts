/**
 * What a host applies now: each actor kind's configuration (what its instances to come start
 * with, and what a kind-wide control message changed) and the configuration of every instance
 * whose settings differ from its kind's. A host publishes one on `troupe.sys.settings.report`
 * when it is asked (`troupe.sys.settings.query`, published by whoever wants to know: several hosts
 * answer, each for what it runs) and after every control message it applies, so a dashboard shows
 * the settings in force, whoever changed them (`troupe ctl`, the session document, a restart).
 */
import { decodeVersionedMap, encodeValue, requireInteger, requireMap } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName, sysSubject } from "./subjects.ts";

/** The settings report's encoding version. */
export const SETTINGS_REPORT_VERSION = 1;

/** One configuration: field name to value, as the kind's configuration holds it. */
export type AppliedSettings = Record<string, unknown>;

/** What one host applies now. */
export interface SettingsReport {
  host: string;
  /** The host's wall clock when it built the report, ms since the Unix epoch. */
  atMs: number;
  /** Per actor kind: the kind's configuration. */
  kinds: Record<string, AppliedSettings>;
  /** Per actor kind, per key: an instance's configuration, where it differs from its kind's. */
  keys: Record<string, Record<string, AppliedSettings>>;
}

/** `troupe.sys.settings.query`: asks every host to publish its settings report. */
export function settingsQuerySubject(): string {
  return sysSubject("settings", "query");
}

/** `troupe.sys.settings.report`: where hosts publish their settings reports. */
export function settingsReportSubject(): string {
  return sysSubject("settings", "report");
}

/** Encodes a report as one msgpack map `{ v, host, at_ms, kinds, keys }`. */
export function encodeSettingsReport(r: SettingsReport): Uint8Array {
  checkReport(r, "settings report");
  return encodeValue({
    v: SETTINGS_REPORT_VERSION,
    host: r.host,
    at_ms: r.atMs,
    kinds: r.kinds,
    keys: r.keys,
  });
}

/** Decodes a report; throws a ProtocolError naming the field and the value. */
export function decodeSettingsReport(bytes: Uint8Array, where = "settings report"): SettingsReport {
  const o = decodeVersionedMap(bytes, where, SETTINGS_REPORT_VERSION);
  const kinds = requireMap(o.kinds ?? null, `Cannot decode ${where}: field "kinds"`);
  const keys = requireMap(o.keys ?? null, `Cannot decode ${where}: field "keys"`);
  const r: SettingsReport = {
    host: o.host as string,
    atMs: requireInteger(o, "at_ms", where),
    kinds: kinds as Record<string, AppliedSettings>,
    keys: keys as Record<string, Record<string, AppliedSettings>>,
  };
  checkReport(r, where);
  return r;
}

function checkReport(r: SettingsReport, where: string): void {
  const bad = (field: string, want: string, value: unknown) =>
    new ProtocolError(
      "value",
      `Invalid ${where}: field "${field}" must be ${want}, got ${describeValue(value)}`,
      { field, value },
    );
  const isMap = (x: unknown) => x !== null && typeof x === "object" && !Array.isArray(x);
  if (!isValidName(r.host)) throw bad("host", "a host id (A-Z a-z 0-9 _ -)", r.host);
  if (!Number.isSafeInteger(r.atMs)) throw bad("at_ms", "an integer", r.atMs);
  for (const [kind, settings] of Object.entries(r.kinds)) {
    if (!isValidName(kind)) throw bad("kinds", "keyed by actor kinds", kind);
    if (!isMap(settings)) throw bad(`kinds.${kind}`, "a map of settings", settings);
  }
  for (const [kind, perKey] of Object.entries(r.keys)) {
    if (!isValidName(kind)) throw bad("keys", "keyed by actor kinds", kind);
    if (!isMap(perKey)) throw bad(`keys.${kind}`, "a map of keys", perKey);
    for (const [key, settings] of Object.entries(perKey)) {
      if (!isValidName(key)) throw bad(`keys.${kind}`, "keyed by actor keys", key);
      if (!isMap(settings)) throw bad(`keys.${kind}.${key}`, "a map of settings", settings);
    }
  }
}
