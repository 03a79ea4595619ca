/**
 * What the host and its step trials threads say to each other (step_trials.ts): messages between
 * threads of one process, not a wire. Private to the host folder.
 */
import type { InputRecord } from "../../../protocol/mod.ts";
import type { InstanceSnapshot } from "../instances/mod.ts";

/** What the trials thread is started with. */
export interface StepTrialData {
  stepTrials: true;
  /** The URL of the kinds module it loads (the host's, bundled with it on Node). */
  kindsModule: string;
}

/** One input to try: the instance's snapshot comes along when the thread's copy is not at it. */
export interface StepTrialAsk {
  id: number;
  kind: string;
  key: string;
  pos: number;
  record: InputRecord;
  snapshot?: InstanceSnapshot;
}

/** The thread's answer: the step returned, or threw `error`. */
export interface StepTrialAnswer {
  id: number;
  error?: string;
}
