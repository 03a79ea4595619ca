/**
 * The control input: configuration, pause and other control messages to actor instances, and
 * their answers, gathered from every host that has a share. The control stream that keeps them in
 * JetStream, which loads the NATS clients, is entered through stream/mod.ts, so that a client that
 * only asks (the collaboration server's bridge) does not load them.
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
  ANSWERS_QUIET_MS_MIN,
  ANSWERS_QUIET_ROUND_TRIPS,
  requestAll,
  type RequestAllOptions,
} from "./request_all.ts";
export {
  type AppliedChange,
  SettingsReporter,
  type SettingsReporterOptions,
} from "./settings_reporter.ts";
