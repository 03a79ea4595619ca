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
} from "./instances/mod.ts";
export { Host } from "./host/mod.ts";
export type { HostOptions } from "./host/mod.ts";
export {
  CHANNEL_SHARED_BYTES,
  CHANNELS_MAX_DEFAULT,
  channelsFitting,
  hostHeldBytes,
  MEMORY_SHARE_DEFAULT,
  memoryBudgetMbDefault,
  UNDECLARED_KIND_BYTES,
  UNKNOWN_HOST_BYTES,
} from "./host/mod.ts";
export type { HostLimits } from "./instances/mod.ts";
export { coreInput, type InputSource } from "./edge/mod.ts";
export { type InputGap, LOSS_REPORT_S, SequenceGaps } from "./edge/mod.ts";
export type { DecodedFrame, FrameDecoder } from "./instances/mod.ts";
export { type HostTimers, REAL_TIMERS } from "./instances/mod.ts";
export { DEFAULT_SUPERVISION, type SupervisionOptions } from "./instances/mod.ts";
export { InputRejectedError, type RejectionReason } from "./instances/mod.ts";
export { type FoldInput, foldInput, type FoldResult, MissingInitError } from "./instances/mod.ts";
export {
  channelsMaxFor,
  checkHttpHost,
  checkNatsUrl,
  defaultHostConfig,
  feedStreamOptions,
  type HostConfig,
  type HostConfigOverrides,
  type LeaseSettings,
  leaseSettings,
  LIMITS_MAX,
  parseHostConfig,
  runsOnMetricsHost,
} from "./host/mod.ts";
export {
  launchLeasedHost,
  type LeasedHost,
  leasesUnsupported,
  partitionHostId,
  recordLeftStepOverrun,
} from "./cluster/mod.ts";
export { jetStreamSetting, requireJetStream } from "./host/mod.ts";
export {
  type HeldLease,
  type HeldStageLease,
  LEASE_BUCKET,
  LeaseBucket,
  type LeaseStatus,
  leaseStatus,
  type LeaseStore,
  type LeaseView,
  type StageLeaseStore,
} from "./cluster/mod.ts";
export {
  registerStageLeaseMetrics,
  StageLeaseKeeper,
  type StageLeaseKeeperOptions,
  type StageRunner,
} from "./cluster/mod.ts";
export {
  type FindingHandler,
  FINDINGS_STREAM,
  type FindingSource,
  openFindingsStream,
} from "./transport/mod.ts";
export { LeaseFence, LeaseLostError } from "./cluster/mod.ts";
export { assignPartitions } from "./cluster/mod.ts";
export { partitionJournal, partitionJournalStream } from "./cluster/mod.ts";
export {
  PartitionLeases,
  type PartitionLeasesOptions,
  type PartitionRunner,
} from "./cluster/mod.ts";
export { describeError, HostFatalError, isFatalIoError } from "./operations/mod.ts";
export {
  type HostService,
  type HostServiceParts,
  type LaunchedHost,
  launchHost,
  type LaunchOptions,
} from "./host/mod.ts";
export type { HttpExtension } from "./operations/mod.ts";
export { InProcessBus } from "./transport/mod.ts";
export {
  claimDataDir,
  defaultThreads,
  THREAD_YOUNG_GENERATION_MB,
  threadChannelShare,
  threadConfig,
  threadCount,
  ThreadedHost,
  type ThreadedHostOptions,
  threadsOf,
  threadsUnsupported,
} from "./threaded/mod.ts";
export {
  ignoreErrorsAfterDestroy,
  NATS_CONNECT_TIMEOUT_MS,
  NatsBus,
  natsServerList,
} from "./transport/mod.ts";
export {
  describeNatsAuth,
  hasNatsAuth,
  mergeNatsAuth,
  NATS_AUTH_DIR,
  NATS_AUTH_ENV,
  NATS_AUTH_FIELDS,
  NATS_ROLE_PERMISSIONS,
  NATS_ROLES,
  type NatsAuth,
  NatsAuthError,
  natsAuthFromEnv,
  natsAuthOptions,
  natsAuthorizationConfig,
  type NatsPermissions,
  type NatsRole,
  natsRolesMarkdown,
  type NatsUserCredential,
  redactNatsUrl,
  roleSeedPath,
  splitNatsUrl,
} from "./transport/mod.ts";
export {
  ensureFeedStream,
  FEED_STREAM,
  type FeedStreamOptions,
  jetStreamInput,
} from "./edge/mod.ts";
export {
  type AcknowledgedCounts,
  AcknowledgedPublishes,
  type AcknowledgedPublishesOptions,
  JetStreamPublisher,
  type JetStreamPublisherOptions,
  type PublishCounts,
} from "./transport/mod.ts";
export * from "./journal/mod.ts";
export * from "./journal/jetstream/mod.ts";
export {
  describeLoss,
  type JournalLoss,
  JournalLossError,
  type LossPlan,
  planLossRebuild,
} from "./journal/mod.ts";
export { FileJournal } from "./journal/mod.ts";
export type { FileJournalOptions } from "./journal/mod.ts";
export { type DirLock, DirLockedError, lockDir } from "./journal/mod.ts";
export { type ControlApplied, describeControlApplied } from "./control/mod.ts";
export {
  answeredByAddressee,
  type ControlAnswers,
  describeHosts,
  describePasses,
  readControlAnswers,
  sumControlApplied,
} from "./control/mod.ts";
export { askControl, type AskControlOptions } from "./control/mod.ts";
export { requestAll, type RequestAllOptions } from "./control/mod.ts";
export { MemoryJournal } from "./journal/mod.ts";
export type { Snapshot, SnapshotStore } from "./snapshots/mod.ts";
export { decodeSnapshot, encodeSnapshot } from "./snapshots/mod.ts";
export { FileSnapshotStore, PackedSnapshotStore } from "./snapshots/mod.ts";
export { KvSnapshotStore } from "./snapshots/kv/mod.ts";
export { MemorySnapshotStore } from "./snapshots/mod.ts";
export { type DeadLetter, deadLetterOf, decodeDeadLetter, publishDeadLetter } from "./edge/mod.ts";
export { parsePartitions, partitionOf } from "./host/mod.ts";
export { DEFAULT_PROGRESS, ProgressReporter, type ProgressSettings } from "./host/mod.ts";
export { findNatsServer, freePort, NatsServer } from "./transport/mod.ts";
export { crc32 } from "./journal/mod.ts";
export { startWorker, type StartWorkerOptions, workerModuleUrl } from "../threads/mod.ts";
export { type KindRegistry, type KindsModule, loadKindsModule } from "./host/mod.ts";
export type { TeamKinds } from "./host/mod.ts";
export { type RecordedSkip, recordedSkipOf, RecordedSkips, RecordedTicks } from "./host/mod.ts";
export { VoidedPositions } from "./journal/mod.ts";
export { type FanOut, fanOut, type QueueMember } from "./transport/mod.ts";
export { STAGE, type Stage, type StageFigures, STAGES, StageTrace } from "./instances/mod.ts";
