/**
 * The runtime that hosts actors: the buses, the journals and snapshot stores, the host and what
 * launches it, and the nats-server launcher.
 */
export type { ActorDefinition, AnyActorDefinition } from "../../protocol/mod.ts";
export {
  ActorInstance,
  type InstanceSnapshot,
  type Output,
  parseStream,
  streamOf,
} from "./actor_instance.ts";
export { Host } from "./host.ts";
export type { HostLimits, HostOptions } from "./host_options.ts";
export { coreInput, type InputSource } from "./input_source.ts";
export { type InputGap, LOSS_REPORT_S, SequenceGaps } from "./input_gaps.ts";
export type { DecodedFrame, FrameDecoder } from "./frame_decoder.ts";
export { type HostTimers, REAL_TIMERS } from "./host_timers.ts";
export { DEFAULT_SUPERVISION, type SupervisionOptions } from "./supervision.ts";
export { InputRejectedError, type RejectionReason } from "./input_rejected_error.ts";
export { type FoldInput, foldInput, type FoldResult, MissingInitError } from "./journal_fold.ts";
export {
  checkNatsUrl,
  defaultHostConfig,
  type HostConfig,
  type LeaseSettings,
  leaseSettings,
  LIMITS_MAX,
  parseHostConfig,
} from "./host_config.ts";
export {
  launchLeasedHost,
  type LeasedHost,
  leasesUnsupported,
  partitionHostId,
} from "./launch_leased_host.ts";
export { jetStreamSetting, requireJetStream } from "./jetstream_required.ts";
export {
  type HeldLease,
  type HeldStageLease,
  LEASE_BUCKET,
  LeaseBucket,
  type LeaseStore,
  type LeaseView,
  type StageLeaseStore,
} from "./lease_bucket.ts";
export {
  registerStageLeaseMetrics,
  StageLeaseKeeper,
  type StageLeaseKeeperOptions,
  type StageRunner,
} from "./stage_lease.ts";
export {
  type FindingHandler,
  FINDINGS_STREAM,
  type FindingSource,
  openFindingsStream,
} from "./findings_stream.ts";
export { LeaseFence, LeaseLostError } from "./lease_fence.ts";
export { assignPartitions } from "./lease_assignment.ts";
export {
  PartitionLeases,
  type PartitionLeasesOptions,
  type PartitionRunner,
} from "./partition_leases.ts";
export { describeError, HostFatalError, isFatalIoError } from "./fatal_error.ts";
export {
  type HostService,
  type HostServiceParts,
  type LaunchedHost,
  launchHost,
  type LaunchOptions,
} from "./launch_host.ts";
export type { HttpExtension } from "./host_http.ts";
export { InProcessBus } from "./in_process_bus.ts";
export {
  claimDataDir,
  defaultThreads,
  THREAD_YOUNG_GENERATION_MB,
  threadConfig,
  threadCount,
  ThreadedHost,
  type ThreadedHostOptions,
  threadsOf,
  threadsUnsupported,
} from "./threaded_host.ts";
export { NATS_CONNECT_TIMEOUT_MS, NatsBus } from "./nats_bus.ts";
export { ensureFeedStream, FEED_STREAM, jetStreamInput } from "./jetstream_input.ts";
export {
  JetStreamPublisher,
  type JetStreamPublisherOptions,
  type PublishCounts,
} from "./jetstream_publisher.ts";
export * from "./journal.ts";
export {
  describeLoss,
  type JournalLoss,
  JournalLossError,
  type LossPlan,
  planLossRebuild,
} from "./journal_loss.ts";
export { FileJournal } from "./file_journal.ts";
export type { FileJournalOptions } from "./file_journal_options.ts";
export { type DirLock, DirLockedError, lockDir } from "./_dir_lock.ts";
export { JetStreamJournal } from "./jetstream_journal.ts";
export { type ControlApplied, describeControlApplied } from "./control_input.ts";
export {
  answeredByAddressee,
  type ControlAnswers,
  describeHosts,
  describePasses,
  readControlAnswers,
  sumControlApplied,
} from "./control_answers.ts";
export { askControl, type AskControlOptions } from "./ask_control.ts";
export { requestAll, type RequestAllOptions } from "./request_all.ts";
export { MemoryJournal } from "./memory_journal.ts";
export type { Snapshot, SnapshotStore } from "./snapshot_store.ts";
export { decodeSnapshot, encodeSnapshot } from "./snapshot_store.ts";
export { FileSnapshotStore } from "./file_snapshot_store.ts";
export { KvSnapshotStore } from "./kv_snapshot_store.ts";
export { MemorySnapshotStore } from "./memory_snapshot_store.ts";
export {
  type DeadLetter,
  deadLetterOf,
  decodeDeadLetter,
  publishDeadLetter,
} from "./dead_letter.ts";
export { parsePartitions, partitionOf } from "./partition.ts";
export { findNatsServer, freePort, NatsServer } from "./nats_server.ts";
export { crc32 } from "./crc32.ts";
export { startWorker, type StartWorkerOptions, workerModuleUrl } from "../threads/mod.ts";
export { VoidedPositions } from "./voided_positions.ts";
export { type FanOut, fanOut, type QueueMember } from "./queue_groups.ts";
export { STAGE, type Stage, type StageFigures, STAGES, StageTrace } from "./stage_trace.ts";
