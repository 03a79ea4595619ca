/**
 * Recovery: an instance rebuilt from its snapshot and its journal's tail, inputs held while it
 * recovers, and the snapshots taken as it runs.
 */
export { type HeldInput, HeldInputs } from "./held_inputs.ts";
export { Recovery, type RecoveryHost } from "./recovery.ts";
export { StreamHold } from "./recovery_hold.ts";
export { type RestorableSnapshot, Snapshotter, type SnapshotterOptions } from "./snapshotter.ts";
