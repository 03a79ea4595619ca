/**
 * The collapse machine: the lifecycle of one channel's regimes. `stable` while the posterior sees
 * no new regime; `suspect` once the probability of a regime newer than the last confirmed change
 * reaches `suspect_threshold` (and back to `stable` if it falls away); `collapsed` at the sample
 * that confirms a change, emitting one `collapse` event per change; `recovering` from the next
 * sample while the new regime is young, and `stable` again once it has lasted `recover_samples`
 * with no new suspicion. The kernel walks this lifecycle sample by sample and each frame event
 * carries every change, in order, and the phase after the frame's last sample: the machine's
 * events and its state after a frame do not depend on how the samples were framed. The thresholds,
 * the hazard and the rest change at run time through a `config` event (the host applies the same
 * configuration to the kernel); ticks carry no meaning here and are ignored.
 */
import { assign, enqueueActions, setup } from "xstate";
import { type CollapseEvent, collapseEvent } from "../../protocol/mod.ts";
import type { CollapseConfig } from "./config.ts";
import type { CollapseChange, CollapsePhase } from "./kernel.ts";

/** The event the host sends per frame: what the kernel found in it. */
export interface CollapseFrameEvent {
  type: "frame";
  /** Time of the frame's last sample, microseconds since the epoch. */
  ts: number;
  /** Changes confirmed in the frame, in order. */
  changes: CollapseChange[];
  /** Largest and last probability of a new regime over the frame's valid samples. */
  changeProbMax: number;
  changeProbLast: number;
  /** Samples since the last confirmed change, at the end of the frame. */
  samplesSinceChange: number;
  /** The lifecycle phase after the frame's last valid sample, decided per sample by the kernel. */
  phase: CollapsePhase;
  /** Valid samples in the frame. */
  valid: number;
}

/**
 * What the machine emits: published as an envelope on troupe.out.collapse.<channel>; `ts` is when
 * the change was confirmed (protocol/events/collapse.ts).
 */
export type CollapseEmitted = CollapseEvent;

/** The machine's context: plain data, persisted as JSON. */
export interface CollapseContext {
  key: string;
  config: CollapseConfig;
  /** Changes confirmed so far. */
  changes: number;
  /** When the last confirmed regime began (null before any change). */
  last_change_ts: number | null;
  /** Its severity (null before any change). */
  last_severity: number | null;
}

type CollapseMachineEvent =
  | CollapseFrameEvent
  | { type: "config"; config: CollapseConfig }
  | { type: "tick"; ts: number };

function frameOf(event: CollapseMachineEvent): CollapseFrameEvent | undefined {
  return event.type === "frame" ? event : undefined;
}

/** The collapse machine. */
export const collapseMachine = setup({
  types: {
    context: {} as CollapseContext,
    input: {} as { key: string; config: CollapseConfig },
    events: {} as CollapseMachineEvent,
    emitted: {} as CollapseEmitted,
  },
  actions: {
    report: enqueueActions(({ context, event, enqueue }) => {
      for (const c of frameOf(event)?.changes ?? []) {
        enqueue.emit(collapseEvent(Math.round(c.ts), {
          channel: context.key,
          change_ts: Math.round(c.changeTs),
          change_index: c.changeIndex,
          delay_samples: c.delaySamples,
          mean_before: c.meanBefore,
          mean_after: c.meanAfter,
          level_before: c.levelBefore,
          level_after: c.levelAfter,
          spread_before: c.spreadBefore,
          spread_after: c.spreadAfter,
          direction: c.direction,
          severity: c.severity,
        }));
      }
    }),
    count: assign(({ context, event }) => {
      const changes = frameOf(event)?.changes ?? [];
      const last = changes[changes.length - 1];
      if (!last) return {};
      return {
        changes: context.changes + changes.length,
        last_change_ts: Math.round(last.changeTs),
        last_severity: last.severity,
      };
    }),
    configure: assign({
      config: ({ context, event }) => (event.type === "config" ? event.config : context.config),
    }),
  },
  guards: {
    phaseIs: ({ event }, params: { phase: CollapsePhase }) =>
      frameOf(event)?.phase === params.phase,
  },
}).createMachine({
  id: "collapse",
  context: ({ input }) => ({
    key: input.key,
    config: input.config,
    changes: 0,
    last_change_ts: null,
    last_severity: null,
  }),
  initial: "stable",
  on: {
    config: { actions: "configure" },
    frame: [
      {
        guard: { type: "phaseIs", params: { phase: "collapsed" } },
        target: ".collapsed",
        reenter: true,
        actions: ["report", "count"],
      },
      {
        guard: { type: "phaseIs", params: { phase: "suspect" } },
        target: ".suspect",
        actions: ["report", "count"],
      },
      {
        guard: { type: "phaseIs", params: { phase: "recovering" } },
        target: ".recovering",
        actions: ["report", "count"],
      },
      { target: ".stable", actions: ["report", "count"] },
    ],
  },
  states: { stable: {}, suspect: {}, collapsed: {}, recovering: {} },
});
