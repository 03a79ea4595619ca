/**
 * The incident stage's state as bytes, so that its journal can be compacted as the actors' are: a
 * snapshot at a journal position, then only the findings after it are refolded. The state is the
 * kernel's (the findings held for ordering, each open incident with its machine's state and update
 * count, the latest time and the watermark) and the stage's own (the resolved incidents it lists,
 * its counts, which incidents it saw firing). A stage restored from it and fed the journal's tail
 * holds what a stage fed every finding from the start holds, and numbers its updates on the same.
 * The sessions' silence tables (those in force and those held for their time) are in it, as they
 * are in the journal among the findings, so a stage restored from it marks incidents silenced as
 * the stage that saved it did. The settings are the running stage's (a snapshot taken under other
 * settings keeps the incidents it decided).
 */
import { decodeValue, encodeValue, type Incident, readIncident } from "../../protocol/mod.ts";
import type { IncidentFinding, IncidentKernelState, OpenIncident } from "./incident_kernel.ts";
import { incidentMachine, type IncidentMachineContext } from "./incident_machine.ts";
import { type SavedSilenceTable, SilenceTable } from "./silence_table.ts";
import type { SavedProgress } from "./progress_table.ts";

/** Incidents a stage has seen change, per kind: opened, fired, resolved. */
export interface IncidentCounts {
  opened: number;
  fired: number;
  resolved: number;
}

/**
 * The snapshot format's version: a snapshot of another is not loaded (the journal is refolded). 2:
 * an incident's machine keeps the episodes going on its channels (`ongoing`), which a refold of
 * a version 1 snapshot's journal restores and the snapshot cannot. 3: the sessions' silence
 * tables (`silences`), journaled since. A version 2 snapshot is still loaded, with no silences:
 * they were in neither its journal nor it, so a stage restored from it knows what the stage that
 * saved it would have known after a restart, and a refold of its compacted journal would know less.
 * 4: the ids of the findings taken last (`recent_ids`), so that a finding an actor publishes
 * again after a restart is not taken twice. Versions 2 and 3 are still loaded, with none. 5: the
 * feeds' progress (`progress`, the sources' last marks); versions 2 to 4 are loaded with none (no
 * mark was journaled before it).
 */
export const INCIDENT_SNAPSHOT_VERSION = 5;

/**
 * The snapshot versions a stage loads: this one, 4 (without progress), 3 (nor recent ids), 2 (nor
 * silences).
 */
export const INCIDENT_SNAPSHOT_VERSIONS_READ: readonly number[] = [
  2,
  3,
  4,
  INCIDENT_SNAPSHOT_VERSION,
];

/** An open incident as saved: its machine's state value and context (without the settings). */
interface SavedOpen {
  incident: Incident;
  value: string;
  context: Omit<IncidentMachineContext, "config">;
  updates: number;
  first_at_us: number;
  from_us: Array<[string, number]>;
}

/** The stage's state as saved. */
export interface SavedIncidentStage {
  held: IncidentFinding[];
  /** The ids of the findings taken last, oldest first. */
  recent_ids: string[];
  open: SavedOpen[];
  latest_us: number;
  watermark_us: number;
  resolved: Incident[];
  counts: Array<[string, IncidentCounts]>;
  firing: string[];
  silences: SavedSilenceTable;
  /** The feeds' progress: each source's last mark. */
  progress: SavedProgress;
}

/** A snapshot that cannot be restored: what is wrong, naming the field and the value. */
export class IncidentSnapshotError extends Error {
  override name = "IncidentSnapshotError";
}

/** The kernel's part of a stage's saved state. */
export function saveIncidentKernel(
  s: IncidentKernelState,
): Pick<SavedIncidentStage, "held" | "recent_ids" | "open" | "latest_us" | "watermark_us"> {
  return {
    held: s.held.map((f) => ({ ...f })),
    recent_ids: [...s.recent_ids],
    open: [...s.open.values()].map((o) => {
      const { config: _, ...context } = o.snapshot.context;
      return {
        incident: o.incident,
        value: o.snapshot.value as string,
        context,
        updates: o.updates,
        first_at_us: o.first_at_us,
        from_us: [...o.from_us],
      };
    }),
    latest_us: s.latest_us,
    watermark_us: s.watermark_us,
  };
}

/** Puts a saved kernel state into `s` (a new kernel's), under `s`'s settings. */
export function restoreIncidentKernel(s: IncidentKernelState, saved: SavedIncidentStage): void {
  s.held = saved.held.map((f) => ({ ...f }));
  s.recent_ids = new Set(saved.recent_ids);
  s.open = new Map(saved.open.map((o): [string, OpenIncident] => [o.incident.id, {
    incident: o.incident,
    snapshot: incidentMachine.resolveState({
      value: o.value,
      context: { ...o.context, config: s.config },
    }),
    updates: o.updates,
    first_at_us: o.first_at_us,
    from_us: new Map(o.from_us),
  }]));
  s.latest_us = saved.latest_us;
  s.watermark_us = saved.watermark_us;
}

/** The bytes of a saved stage (msgpack). */
export function encodeIncidentSnapshot(saved: SavedIncidentStage): Uint8Array {
  return encodeValue({ v: INCIDENT_SNAPSHOT_VERSION, ...saved });
}

/** Decodes and checks a saved stage; throws an IncidentSnapshotError naming the field. */
export function decodeIncidentSnapshot(bytes: Uint8Array): SavedIncidentStage {
  const raw = decodeValue(bytes) as Record<string, unknown>;
  const check = (ok: boolean, field: string, value: unknown, want: string) => {
    if (!ok) {
      throw new IncidentSnapshotError(
        `Cannot restore the incident stage's snapshot: field "${field}" must be ${want}, got ` +
          `${JSON.stringify(value)?.slice(0, 80)}`,
      );
    }
  };
  check(raw !== null && typeof raw === "object", "", raw, "a map");
  check(
    INCIDENT_SNAPSHOT_VERSIONS_READ.includes(raw.v as number),
    "v",
    raw.v,
    INCIDENT_SNAPSHOT_VERSIONS_READ.join(" or "),
  );
  if (raw.v === 2) raw.silences = { tables: [], held: [] }; // a version 2 snapshot had none
  if (raw.v === 2 || raw.v === 3) raw.recent_ids = []; // nor had one of version 3 these
  if ((raw.v as number) < 5) raw.progress = []; // nor one of version 4 marks
  for (const f of ["held", "recent_ids", "open", "resolved", "counts", "firing", "progress"]) {
    check(Array.isArray(raw[f]), f, raw[f], "an array");
  }
  const silences = raw.silences as SavedSilenceTable | undefined;
  check(
    typeof silences === "object" && silences !== null && Array.isArray(silences.tables) &&
      Array.isArray(silences.held),
    "silences",
    silences,
    "a map of tables and held changes",
  );
  for (const f of ["latest_us", "watermark_us"]) {
    check(typeof raw[f] === "number", f, raw[f], "a number");
  }
  (raw.recent_ids as unknown[]).forEach((id, i) =>
    check(typeof id === "string", `recent_ids[${i}]`, id, "a string")
  );
  const open = raw.open as SavedOpen[];
  open.forEach((o, i) => {
    const value = o?.value;
    check(
      value === "pending" || value === "firing",
      `open[${i}].value`,
      value,
      "pending or firing",
    );
    check(typeof o.context === "object" && o.context !== null, `open[${i}].context`, o, "a map");
  });
  try {
    new SilenceTable().restore(silences!); // each matcher parses, or the field is named
    return {
      held: raw.held as IncidentFinding[],
      recent_ids: raw.recent_ids as string[],
      open: open.map((o) => ({ ...o, incident: readIncident(o.incident) })),
      latest_us: raw.latest_us as number,
      watermark_us: raw.watermark_us as number,
      resolved: (raw.resolved as unknown[]).map(readIncident),
      counts: raw.counts as Array<[string, IncidentCounts]>,
      firing: raw.firing as string[],
      silences: silences!,
      progress: raw.progress as SavedProgress,
    };
  } catch (err) {
    throw new IncidentSnapshotError(
      `Cannot restore the incident stage's snapshot: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
