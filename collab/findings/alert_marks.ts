/**
 * Where an incident stands with each Alertmanager or webhook the alert sender posts to (protocol's
 * AlertTargetDelivery), as `troupe incidents` shows it: marks on the incident's line, beside an
 * acknowledgement's (incident_line.ts), and an object in its JSON. Pure: no `node:` import.
 */
import type { AlertTargetDelivery } from "../../protocol/mod.ts";

/** The line's marks: `alertmanager http://am:9093 sent`, one per target holding the incident. */
export function alertMarks(
  delivery: readonly AlertTargetDelivery[] | undefined,
  id: string,
): string[] {
  return (delivery ?? []).flatMap((t) => {
    const s = t.incidents[id];
    return s === undefined ? [] : [`${t.kind} ${t.target} ${s}`];
  });
}

/** Per target, where the incident stands (`--json`'s `alerts`: target to state, or "none"). */
export function alertsJson(
  delivery: readonly AlertTargetDelivery[],
  id: string,
): Record<string, string> {
  return Object.fromEntries(delivery.map((t) => [t.target, t.incidents[id] ?? "none"]));
}
