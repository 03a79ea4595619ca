/**
 * Recording and replay: the recording file format (its writer and reader), the recorder that
 * writes what a bus carries to one (and troupe up's, its header naming up's settings), and
 * replay, which feeds a recording through fresh actors (in process, or on worker threads) and can
 * verify what they publish against what was recorded.
 */
export {
  encodeRecordingHeader,
  encodeRecordingTrailer,
  parseRecordingHeader,
  RECORD_BYTES_MAX,
  type RecordedMessage,
  RECORDING_FORMAT_VERSION,
  RECORDING_FORMAT_VERSIONS_READ,
  RECORDING_KIND_MODULES_MAX,
  RECORDING_MAGIC,
  RECORDING_PREFIX_BYTES,
  RECORDING_START_FORMAT_VERSION,
  type RecordingConfig,
  type RecordingCut,
  RecordingFormatError,
  type RecordingHeader,
  type RecordingHeaderInit,
  type RecordingKindModule,
  type RecordingTrailer,
} from "./recording.ts";
export { RecordingReader, type RecordingReaderOptions } from "./recording_reader.ts";
export { RecordingWriter, type RecordingWriterOptions } from "./recording_writer.ts";
export {
  decodeRecordingStart,
  encodeRecordingStart,
  type RecordingStart,
  START_SECTION_BYTES_MAX,
  START_SECTION_VERSION,
  startInstances,
  startKindConfigs,
} from "./recording_start.ts";
export {
  CAPTURE_QUEUE_BYTES_MAX,
  describeRecording,
  Recorder,
  type RecorderOptions,
  type RecorderSummary,
} from "./recorder.ts";
export { type CaptureOutcome, type StateCaptureOptions } from "./capture_state.ts";
export { recordingKindsOf } from "./recording_kinds.ts";
export { missedByReason, namedInstances } from "./missed_instances.ts";
export { startUpRecorder, type UpRecorderOptions } from "./up_recorder.ts";
export {
  defaultReplayThreads,
  jsonable,
  mismatchPlace,
  replay,
  type ReplayCounts,
  ReplayError,
  type ReplayInspection,
  type ReplayMismatch,
  type ReplayOptions,
  type ReplayProgress,
  type ReplayResult,
  type ReplayStart,
  type ReplayVerification,
  THREADS_DEFAULT_MAX,
  THREADS_MAX,
  THREADS_MIN_FILE_BYTES,
  type UncomparedKind,
} from "./replay.ts";
export { type Incident, type KindDiff, OutputDiff, type OutputDiffReport } from "./output_diff.ts";
export { readReplaySettings } from "./replay_settings_file.ts";
