/**
 * A cluster of hosts: partitions held by lease, moved when a host dies, fenced so that one writer
 * holds each, and a leased host's start.
 */
export { launchLeasedHost, type LeasedHost, leasesUnsupported } from "./launch_leased_host.ts";
export { partitionHostId } from "./partition_host_id.ts";
export {
  type PartitionJournal,
  partitionJournal,
  partitionJournalStream,
} from "./partition_journal.ts";
export { recordLeftStepOverrun } from "./leased_step_deadlines.ts";
export {
  STEP_OVERRUN_BUCKET,
  StepOverrunBucket,
  type StepOverrunBucketOptions,
} from "./step_overrun_bucket.ts";
export { assignPartitions } from "./lease_assignment.ts";
export { ColdStartSettle, type SettleDecision } from "./cold_start_settle.ts";
export {
  type HeldLease,
  type HeldStageLease,
  LEASE_BUCKET,
  LeaseBucket,
  type LeaseBucketOptions,
  type LeaseStore,
  type LeaseView,
  type StageLeaseStore,
} from "./lease_bucket.ts";
export { LeaseFence, LeaseLostError } from "./lease_fence.ts";
export { type LeaseStatus, leaseStatus } from "./lease_status.ts";
export { LeaseMetrics } from "./lease_metrics.ts";
export {
  type LeaseCounts,
  LOOK_MS_MAX,
  PartitionLeases,
  type PartitionLeasesOptions,
  type PartitionRunner,
} from "./partition_leases.ts";
export {
  registerStageLeaseMetrics,
  StageLeaseKeeper,
  type StageLeaseKeeperOptions,
  type StageRunner,
} from "./stage_lease.ts";
