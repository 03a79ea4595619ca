/**
 * The `coherence` actor: per group of channels, how much the group moves as one. It aligns the
 * members' prices on bars, tracks the absorption ratio of their exponentially weighted covariance
 * and its standardized shift (kernel.ts), publishes both per bar as a columns frame on
 * `troupe.out.coherence.<group>`, and a `coherence` event each time the group turns `coherent`,
 * `fragmented` or back to `normal` (machine.ts). Groups come from the configuration: explicit
 * channel lists or prefixes (config.ts); with none configured every channel is in group `all`.
 */
import type { ColumnsFrame, SampleFrame } from "../../protocol/mod.ts";
import type { ActorDefinition } from "../../protocol/mod.ts";
import {
  type CoherenceConfig,
  defaultCoherenceConfig,
  groupsOf,
  parseCoherenceConfig,
} from "./config.ts";
import { coherenceKernel, type CoherenceResult, type CoherenceState } from "./kernel.ts";
import { type CoherenceFrameEvent, coherenceMachine } from "./machine.ts";

export {
  type CoherenceConfig,
  DEFAULT_GROUP,
  defaultCoherenceConfig,
  groupsOf,
  parseCoherenceConfig,
} from "./config.ts";
export {
  coherenceCounters,
  coherenceKernel,
  type CoherenceResult,
  type CoherenceState,
  type CoherenceStep,
  type CounterName,
  covarianceOf,
  type Loading,
  SHIFT_STD_FLOOR,
  topCountOf,
  topLoadings,
} from "./kernel.ts";
export {
  type CoherenceContext,
  type CoherenceEmitted,
  type CoherenceFrameEvent,
  coherenceMachine,
  type CoherenceStateName,
} from "./machine.ts";

/**
 * The machine event of a frame: the group after the last bar it closed, or none if it closed none.
 * Live, a frame of one channel closes at most about one bar; a replay in frames of many bars is
 * judged by the machine at frame boundaries (the columns still carry every bar).
 */
export function coherenceFrameEvent(
  result: CoherenceResult,
  _frame: SampleFrame,
): CoherenceFrameEvent | undefined {
  const last = result.last;
  if (last === null) return undefined;
  return {
    type: "frame",
    ts: last.ts,
    ratio: last.ratio,
    shift: last.shift,
    ready: last.ready,
    channels: last.channels,
    top: last.top,
    topChannels: result.topChannels,
  };
}

/** Per-bar outputs of a frame, keyed by group: `ratio` and `shift` at each bar it closed. */
export function coherenceColumns(
  result: CoherenceResult,
  _frame: SampleFrame,
  key: string,
): ColumnsFrame | undefined {
  if (result.steps === 0) return undefined;
  return {
    channel: key,
    seq0: result.seq0,
    t: result.t,
    columns: { ratio: result.ratio, shift: result.shift },
  };
}

/** The coherence actor kind. */
export const coherenceActor: ActorDefinition<CoherenceState, CoherenceConfig, CoherenceResult> = {
  kind: "coherence",
  version: 1,
  defaultConfig: defaultCoherenceConfig,
  parseConfig: parseCoherenceConfig,
  route: groupsOf,
  kernel: coherenceKernel,
  machine: coherenceMachine,
  frameEvent: coherenceFrameEvent,
  columns: coherenceColumns,
};
