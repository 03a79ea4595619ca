/**
 * Incidents: the findings of the actors (anomaly, collapse, coherence) grouped into incidents a
 * team can act on. A market-wide crash over 8 symbols is one incident with 8 members; each incident
 * goes pending → firing → resolved in event time (incident_machine.ts), links to the incidents of
 * other kinds on its channels at the same moment, and carries a peak severity on one 1-5 scale
 * (protocol/severity.ts). The kernel (incident_kernel.ts) is a pure fold; the stage
 * (incident_stage.ts) feeds it from the bus and publishes its updates on
 * `troupe.out.incident.<kind>`; the one stage that runs in a cluster (durable_incident_stage.ts)
 * reads its journal (the findings stream on NATS, else a journal of its own,
 * journal_finding_source.ts) and is rebuilt exactly after a restart, from a snapshot
 * (incident_snapshot.ts, stage_snapshots.ts) and the journal's tail.
 */
export {
  defaultIncidentConfig,
  type IncidentConfig,
  legacyIncidentConfig,
  parseIncidentConfig,
  recordedIncidentBase,
} from "./config.ts";
export {
  advanceIncidents,
  flushIncidents,
  HELD_FINDINGS_MAX,
  type IncidentFinding,
  type IncidentKernelState,
  type IncidentUpdate,
  initIncidents,
  openIncidents,
  resilence,
  stepIncidents,
} from "./incident_kernel.ts";
export { INCIDENT_JOURNAL_STREAM, INCIDENT_SNAPSHOT_EVERY_FINDINGS } from "./stage_snapshots.ts";
export {
  type JournaledIncidentStageOptions,
  runJournaledIncidentStage,
} from "./journaled_incident_stage.ts";
export {
  INCIDENT_JOURNAL_NAME,
  type JournalFindingSource,
  journalFindingSource,
} from "./journal_finding_source.ts";
export {
  type DurableIncidentStage,
  type DurableIncidentStageOptions,
  type JournaledIncidentStage,
  runDurableIncidentStage,
} from "./durable_incident_stage.ts";
export { INCIDENT_PUBLISHED_STREAM, PublishedMark } from "./published_mark.ts";
export {
  decodeIncidentSnapshot,
  encodeIncidentSnapshot,
  INCIDENT_SNAPSHOT_VERSION,
  type IncidentCounts,
  IncidentSnapshotError,
  type SavedIncidentStage,
} from "./incident_snapshot.ts";
export { SILENCE_CHANGES_HELD_MAX, type SilenceChange, SilenceTable } from "./silence_table.ts";
export { registerIncidentMetrics } from "./incident_metrics.ts";
export {
  incidentMachine,
  type IncidentMachineContext,
  type IncidentMachineEvent,
} from "./incident_machine.ts";
export {
  encodeIncidentUpdate,
  findingOfEvent,
  INCIDENT_SRC,
  type IncidentEvent,
  incidentEventOf,
  incidentFindingOf,
  IncidentStage,
  type IncidentStageOptions,
  readIncidentFinding,
  RESOLVED_KEPT_MAX,
  runIncidentStage,
} from "./incident_stage.ts";
export { findingSeverity, type IncidentKind, isIncidentKind } from "../../protocol/mod.ts";
export { askIncidentList, type AskIncidentListOptions } from "./ask_incident_list.ts";
