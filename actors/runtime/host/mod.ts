/**
 * The host: one process's actor instances, fed and supervised, with its configuration, options,
 * notices, liveness and start (launchHost), and the kinds module it runs.
 */
export { Host } from "./host.ts";
export {
  checkHttpHost,
  checkNatsUrl,
  defaultHostConfig,
  feedStreamOptions,
  type HostConfig,
  type HostConfigOverrides,
  type LeaseSettings,
  leaseSettings,
  parseHostConfig,
  REPLICAS_MAX,
  runsOnMetricsHost,
} from "./host_config.ts";
export { channelsMaxFor, LIMITS_MAX, type LimitsConfig } from "./limits_config.ts";
export {
  CHANNEL_SHARED_BYTES,
  channelsFitting,
  hostHeldBytes,
  MEMORY_SHARE_DEFAULT,
  memoryBudgetMbDefault,
  UNDECLARED_KIND_BYTES,
  UNKNOWN_HOST_BYTES,
} from "./channel_budget.ts";

export { HostNotices, type HostNoticesOptions } from "./host_notices.ts";
export { CHANNELS_MAX_DEFAULT, hostLimits, type HostOptions, kindConfigs } from "./host_options.ts";
export { jetStreamSetting, requireJetStream } from "./jetstream_required.ts";
export { type KindRegistry, type KindsModule, loadKindsModule } from "./kinds_module.ts";
export { letGoUndelivered, startStepTrials, type TeamKinds, triedKinds } from "./step_deadlines.ts";
export { StepWatch, type StepWatchHandle } from "./step_watch.ts";
export { readStepOverrun, STEP_OVERRUN_FILE, StepOverrunSkip } from "./step_overrun.ts";
export {
  type StepTrialModules,
  stepTrialModules,
  STUCK_AFTER_MS,
  type StuckStep,
} from "./step_trials.ts";
export { stepDeadlineMs } from "./supervision_config.ts";
export {
  type RecordedSkip,
  recordedSkipOf,
  RecordedSkips,
  SKIPPED_REASONS,
} from "./recorded_skips.ts";
export { RecordedTicks } from "./recorded_ticks.ts";
export {
  connectBus,
  hostOptions,
  type HostService,
  type HostServiceParts,
  type LaunchedHost,
  launchHost,
  type LaunchOptions,
  openSnapshots,
  SNAPSHOTS_PER_SLICE_MAX,
} from "./launch_host.ts";
export {
  type ChannelRoom,
  channelRoom,
  type ConnectionState,
  countByStatus,
  type HealthParts,
  type HostHealth,
  hostHealth,
  type LivenessCheck,
  natsLiveness,
  ProgressWatch,
  refreshGauges,
  STALL_S,
} from "./liveness.ts";
export { Mailboxes, type MailboxParts } from "./mailboxes.ts";
export { parsePartitions, partitionOf } from "./partition.ts";
export { PeriodicRounds } from "./periodic_rounds.ts";
export {
  DEFAULT_PROGRESS,
  ProgressReporter,
  type ProgressReporterOptions,
  type ProgressSettings,
} from "./progress_reporter.ts";
export { publishOutputs } from "./publish_outputs.ts";
export { onInstanceFailed, onJournalConflict, type RestartParts } from "./restarts.ts";
export { SlotPump, type SlotPumpParts } from "./slot_pump.ts";
export {
  answerStateCapture,
  listenStateCaptures,
  type StateCaptureParts,
} from "./state_capture_answer.ts";
export { TICK_EVERY_MS, Ticker, type TickerOptions } from "./ticker.ts";
