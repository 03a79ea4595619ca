/**
 * Recovery: an instance rebuilt from its snapshot and its journal's tail, inputs held while it
 * recovers, and the snapshots taken as it runs.
 */
export { type HeldInput, HeldInputs } from "./held_inputs.ts";
export {
  type AttemptJournal,
  CrashAttempts,
  type OverrunToSkip,
  type TailInput,
} from "./crash_attempts.ts";
export { Recovery } from "./recovery.ts";
export { type RecoveryAccess } from "./recovery_access.ts";
export { StreamHold } from "./recovery_hold.ts";
export { type RestorableSnapshot } from "./restorable_snapshot.ts";
export {
  SNAPSHOT_MAX_AGE_MS,
  SNAPSHOT_MIN_INPUTS,
  SNAPSHOTS_PER_ROUND_MAX,
  Snapshotter,
  type SnapshotterOptions,
} from "./snapshotter.ts";
