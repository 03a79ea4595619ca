/**
 * Deterministic simulation, feeds, recording and replay: the seeded PRNG and clocks, the feed
 * generators and injector, the recording format, replay, and the whole-cluster simulator.
 */
export * from "./prng.ts";
export * from "./clock.ts";
export * from "./feeds/mod.ts";
export { inject } from "./feeds/inject.ts";
export {
  RECORDING_FORMAT_VERSION,
  RecordingFormatError,
  RecordingReader,
  RecordingWriter,
} from "./recording.ts";
export { describeRecording, Recorder } from "./recorder.ts";
export {
  defaultReplayThreads,
  replay,
  ReplayError,
  type ReplayOptions,
  type ReplayProgress,
  type ReplayResult,
  THREADS_MAX,
} from "./replay.ts";
export { FAULT_KINDS, parseFaults, reproduceCommand, simulate } from "./simulator.ts";
export type { FaultKind, SimOptions, SimResult } from "./simulator.ts";
export { SimBus } from "./sim_bus.ts";
export { Scheduler } from "./scheduler.ts";
