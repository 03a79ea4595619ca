/**
 * A finding as one JSON object, the line `troupe watch --findings --json` prints for it: its time
 * also as an ISO string, its unit, and its binary details in base64. Pure: no `node:` import, so
 * it bundles for the browser.
 */
import { type Finding, findingUnit } from "./finding.ts";

/** The JSON object of a finding, `seq` its sequence number on the stream. */
export function findingJson(f: Finding, seq: number): Record<string, unknown> {
  return {
    time: new Date(f.ts_us / 1000).toISOString(),
    ts_us: f.ts_us,
    kind: f.kind,
    channel: f.channel,
    what: f.what,
    strength: f.strength,
    severity: f.severity,
    unit: findingUnit(f),
    subject: f.subject,
    seq,
    detail: Object.fromEntries(
      Object.entries(f.detail).map(([k, v]) => [k, v instanceof Uint8Array ? base64(v) : v]),
    ),
  };
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
