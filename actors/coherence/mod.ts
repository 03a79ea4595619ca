/**
 * The `coherence` actor: per group of channels, how much the group moves as one. It aligns the
 * members' prices on bars, tracks the absorption ratio of their exponentially weighted covariance
 * and its standardized shift (kernel.ts), publishes both per bar as a columns frame on
 * `troupe.out.coherence.<group>`, and a `coherence` event each time the group turns `coherent`,
 * `fragmented` or back to `normal` (judged per bar, phase.ts; announced by machine.ts). Groups come
 * from the configuration: explicit channel lists or prefixes (config.ts); with none configured
 * every channel is in group `all`.
 */
import { COHERENCE_FINDING } from "../../protocol/mod.ts";
import type { ColumnsFrame, SampleFrame } from "../../protocol/mod.ts";
import type { ActorDefinition, HeldBytes } from "../../protocol/mod.ts";
import { coherenceGroupBytes } from "../kind/mod.ts";
import {
  type CoherenceConfig,
  defaultCoherenceConfig,
  groupsOf,
  parseCoherenceConfig,
} from "./config.ts";
import {
  coherenceCounters,
  coherenceKernel,
  type CoherenceResult,
  type CoherenceState,
  topCountOf,
  topLoadings,
} from "./kernel.ts";
import { type CoherenceFrameEvent, coherenceMachine } from "./machine.ts";
import { shiftStd } from "./shift.ts";

export {
  type CoherenceConfig,
  DEFAULT_GROUP,
  defaultCoherenceConfig,
  groupsOf,
  parseCoherenceConfig,
} from "./config.ts";
export { type CoherencePhase, nextPhase } from "./phase.ts";
export {
  type CoherenceChange,
  coherenceCounters,
  coherenceKernel,
  type CoherenceResult,
  type CoherenceState,
  type CoherenceStep,
  type CounterName,
  covarianceOf,
  type Loading,
  topCountOf,
  topLoadings,
} from "./kernel.ts";
export { SHIFT_STD_FLOOR } from "./shift.ts";
export {
  type CoherenceContext,
  type CoherenceEmitted,
  type CoherenceFrameEvent,
  coherenceMachine,
  type CoherenceStateName,
} from "./machine.ts";

/**
 * The machine event of a frame: every phase change its bars made, in order, or none if they made
 * none (the kernel judges each bar, so a frame of many bars is judged as single bars would be).
 */
export function coherenceFrameEvent(
  result: CoherenceResult,
  _frame: SampleFrame,
): CoherenceFrameEvent | undefined {
  return result.changes.length > 0 ? { type: "frame", changes: result.changes } : undefined;
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

/** The group's state by name (the covariance and basis left out: they are m x m numbers). */
export function describeCoherence(s: CoherenceState): Record<string, unknown> {
  return {
    group: s.group,
    phase: s.phase,
    ratio: s.ratio,
    shift: s.shift,
    short_mean: s.shortMean,
    long_mean: s.longMean,
    long_std: shiftStd(s),
    bars_with_ratio: s.ratioCount,
    channels: s.names.slice(0, s.m),
    channels_entered: s.entered,
    top_n: topCountOf(s),
    top_channels: topLoadings(s, s.config.top_channels),
    last_closed_bar_us: s.closedBucket * s.config.bar_us,
    counters: coherenceCounters(s),
  };
}

/**
 * What the kind's instances hold: its groups (one, of every channel, when none is configured),
 * each at its largest, `channels_max` members, or as many as it names where it names channels and
 * no prefix.
 */
function coherenceHeldBytes(config: CoherenceConfig): HeldBytes {
  const groups = Object.values(config.groups);
  const members = (g: readonly string[]) =>
    g.some((m) => m.endsWith("*")) ? config.channels_max : Math.min(g.length, config.channels_max);
  const sizes = groups.length === 0 ? [config.channels_max] : groups.map(members);
  return { perChannel: 0, fixed: sizes.reduce((sum, n) => sum + coherenceGroupBytes(n), 0) };
}

/** The coherence actor kind. */
export const coherenceActor: ActorDefinition<CoherenceState, CoherenceConfig, CoherenceResult> = {
  kind: "coherence",
  findings: [COHERENCE_FINDING],
  // 2: the kernel judges the phase per bar and the machine announces every change (format 2).
  // 3: a new phase must hold change_for_bars bars in a row (format 3).
  // 4: the baseline is held during an episode, for at most its long half-life (format 4).
  version: 4,
  defaultConfig: defaultCoherenceConfig,
  parseConfig: parseCoherenceConfig,
  route: groupsOf,
  heldBytes: coherenceHeldBytes,
  kernel: coherenceKernel,
  machine: coherenceMachine,
  frameEvent: coherenceFrameEvent,
  columns: coherenceColumns,
  describeState: describeCoherence,
};
