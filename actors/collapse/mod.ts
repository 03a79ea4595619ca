/**
 * The `collapse` actor: per channel, online change-point detection. It publishes a `collapse`
 * event on `troupe.out.collapse.<channel>` for each change it confirms (where the new regime began,
 * how late it was noticed, the level and spread before and after, direction and severity), and
 * per sample, as a columns frame, the posterior probability of a new regime (`change_prob`) and
 * the most probable run length (`run_length`). See kernel.ts for the detector and machine.ts for
 * the lifecycle.
 */
import { COLLAPSE_FINDING } from "../../protocol/mod.ts";
import type { ColumnsFrame, SampleFrame } from "../../protocol/mod.ts";
import type { ActorDefinition } from "../../protocol/mod.ts";
import { collapseHeldBytes } from "../kind/mod.ts";
import { type CollapseConfig, defaultCollapseConfig, parseCollapseConfig } from "./config.ts";
import {
  collapseKernel,
  type CollapseResult,
  type CollapseState,
  describeCollapse,
} from "./kernel.ts";
import { type CollapseFrameEvent, collapseMachine } from "./machine.ts";
import { SEASONLESS_BYTES } from "./_state.ts";

export {
  type CollapseConfig,
  defaultCollapseConfig,
  metricsCollapseConfig,
  parseCollapseConfig,
  RUNS_MAX_LIMIT,
} from "./config.ts";
export {
  type CollapseChange,
  collapseKernel,
  type CollapsePhase,
  type CollapseResult,
  type CollapseState,
  collapseStats,
  HISTORY_SAMPLES,
  PHASES,
  SEVERITY_MAX,
  VALUE_ABS_MAX,
} from "./kernel.ts";
export {
  type CollapseContext,
  type CollapseEmitted,
  type CollapseFrameEvent,
  collapseMachine,
} from "./machine.ts";

/**
 * The machine event of a frame; none for a frame without valid samples or changes, nor for one
 * that confirms no change and ends in the phase the machine is in (`machineState`, when the host
 * says it): there the event would take a transition back into the same state that emits nothing
 * and assigns nothing new, a snapshot made and dropped per frame (most of a channel's frames).
 */
export function collapseFrameEvent(
  result: CollapseResult,
  frame: SampleFrame,
  machineState?: unknown,
): CollapseFrameEvent | undefined {
  const n = frame.t.length;
  if (n === 0 || (result.validSamples === 0 && result.changes.length === 0)) return undefined;
  if (result.changes.length === 0 && result.phase === machineState) return undefined;
  return {
    type: "frame",
    ts: Math.round(frame.t[n - 1]!),
    changes: result.changes,
    changeProbMax: result.changeProbMax,
    changeProbLast: result.changeProbLast,
    samplesSinceChange: result.samplesSinceChange,
    phase: result.phase,
    valid: result.validSamples,
  };
}

/** The per-sample outputs of a frame: `change_prob` and `run_length` (NaN for missing samples). */
export function collapseColumns(
  result: CollapseResult,
  frame: SampleFrame,
  key: string,
): ColumnsFrame | undefined {
  if (frame.t.length === 0) return undefined;
  return {
    channel: key,
    seq0: frame.seq0,
    t: frame.t, // encoded by the host before this call returns: no copy needed
    columns: { change_prob: result.changeProb, run_length: result.runLength },
  };
}

/** The collapse actor kind. */
export const collapseActor: ActorDefinition<CollapseState, CollapseConfig, CollapseResult> = {
  kind: "collapse",
  findings: [COLLAPSE_FINDING],
  // 2: regimes hold a line (level and slope), state format 3, the phase decided per sample.
  // 3: a channel season and prewhitening for correlated noise, state format 4.
  // 4: the season's warm-up (no change counted until one period is seen), state format 5.
  version: 4,
  defaultConfig: defaultCollapseConfig,
  parseConfig: parseCollapseConfig,
  route: (channel) => [channel],
  heldBytes: (config) => collapseHeldBytes(config.season_us > 0 ? 0 : SEASONLESS_BYTES),
  kernel: collapseKernel,
  describeState: describeCollapse,
  machine: collapseMachine,
  frameEvent: collapseFrameEvent,
  columns: collapseColumns,
};
