/**
 * The kinds a replay runs whose outputs it cannot compare with the recording's, and why: a kind
 * of another version than the one recorded, and the incident stage fed by one.
 */
import type { AnyActorDefinition } from "../../actors/runtime/mod.ts";
import { isIncidentKind } from "../../actors/incidents/mod.ts";
import { INCIDENT_ACTOR } from "../../protocol/mod.ts";
import type { RecordingHeader } from "./recording.ts";

/** A kind whose outputs a replay did not compare, and why. */
export interface UncomparedKind {
  kind: string;
  reason: string;
}

/**
 * The kinds run whose outputs cannot be compared: those the recording notes another version of
 * (a kind's version changes when its outputs' meaning does), and the incident stage's when its
 * findings come from one of them. None for a recording that notes no versions.
 */
export function uncomparedKinds(
  header: RecordingHeader,
  kinds: readonly string[],
  registry: Readonly<Record<string, AnyActorDefinition>>,
  incidents: boolean,
): UncomparedKind[] {
  const out: UncomparedKind[] = [];
  const recorded = header.versions;
  if (recorded === null) return out;
  for (const kind of kinds) {
    const was = recorded[kind], now = registry[kind]!.version;
    if (was !== undefined && was !== now) {
      out.push({ kind, reason: `recorded by version ${was}, this troupe runs version ${now}` });
    }
  }
  const feeding = out.filter((u) => isIncidentKind(u.kind)).map((u) => u.kind);
  if (incidents && feeding.length > 0) {
    out.push({
      kind: INCIDENT_ACTOR,
      reason: `its findings come from ${feeding.join(", ")}, not compared`,
    });
  }
  return out;
}
