/**
 * An actor instance and its slot in a host: the pure instance, its input-id window, supervision,
 * the limits it is held to, the stage trace, the frame decoder, and the kinds' configurations
 * restored instances share.
 */
export {
  ActorInstance,
  ApplyError,
  type ApplyOptions,
  type InstanceSnapshot,
  type Output,
  parseStream,
  SEED_BYTES_MAX,
  streamOf,
} from "./actor_instance.ts";
export { AppliedListeners } from "./applied_listeners.ts";
export {
  type DecodedFrame,
  type FrameDecoder,
  lastFrameDecoder,
  replayDecoded,
  timeColumnIn,
} from "./frame_decoder.ts";
export { type HostLimits } from "./host_limits.ts";
export { ChannelBook } from "./channel_book.ts";
export { containedTimers, errorLine, type HostTimers, REAL_TIMERS } from "./host_timers.ts";
export {
  DROPPED_KEPT_MAX,
  INPUT_IDS_MAX,
  InputIdWindow,
  savedWindowOf,
} from "./input_id_window.ts";
export { InputRejectedError, type RejectionReason } from "./input_rejected_error.ts";
export { contextOf, sameConfig, shareConfig } from "./shared_configs.ts";
export { type FoldInput, foldInput, type FoldResult, MissingInitError } from "./journal_fold.ts";
export {
  addSkip,
  admitSrcPos,
  compactMailbox,
  type Dormant,
  type DormantTail,
  isSkipped,
  newSlot,
  type Pending,
  positionsOf,
  type Slot,
  type Status,
  wake,
} from "./slot.ts";
export {
  STAGE,
  type Stage,
  STAGE_TRACE_FRAMES_MAX,
  type StageFigures,
  STAGES,
  StageTrace,
  type StageTraceOptions,
} from "./stage_trace.ts";
export {
  DEFAULT_SUPERVISION,
  type FailureDecision,
  type FailureHistory,
  isPoison,
  recordFailure,
  type SupervisionOptions,
} from "./supervision.ts";
