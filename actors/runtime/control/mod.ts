/**
 * The control input: configuration, pause and other control messages to actor instances, their
 * answers, and the control stream that keeps them.
 */
export { askControl, type AskControlOptions } from "./ask_control.ts";
export {
  answeredByAddressee,
  type ControlAnswers,
  describeHosts,
  describePasses,
  readControlAnswers,
  sumControlApplied,
} from "./control_answers.ts";
export {
  type ControlApplied,
  type ControlHost,
  describeControlApplied,
  onKeptControl,
  onLiveControl,
} from "./control_input.ts";
export { CONTROL_REFUSALS_KEPT_MAX, ControlRefusals } from "./control_refusals.ts";
export {
  CONTROL_STREAM,
  type ControlSource,
  type ControlStreamOptions,
  controlStreamSource,
  ensureControlStream,
} from "./control_stream.ts";
export {
  type AppliedChange,
  SettingsReporter,
  type SettingsReporterOptions,
} from "./settings_reporter.ts";
