/**
 * The coherence machine: its state is the group's phase, `normal`, `coherent` or `fragmented`
 * (phase.ts). The kernel judges every bar and hands it each change of a frame, in order, so a frame
 * of many bars is judged as bars one at a time would be; it announces each change as one
 * `coherence` event naming the channels that load most on the first eigenvector, and takes the
 * last one's phase. The thresholds change at run time through a `config` event (the kernel gets the
 * same configuration); ticks carry no meaning here.
 */
import { assertEvent, assign, enqueueActions, setup } from "xstate";
import { type CoherenceEvent, coherenceEvent } from "../../protocol/mod.ts";
import type { CoherenceConfig } from "./config.ts";
import type { CoherenceChange } from "./kernel.ts";
import type { CoherencePhase } from "./phase.ts";

/** The machine's states. */
export type CoherenceStateName = CoherencePhase;

/** The event the host sends per frame whose bars changed the phase: every change, in order. */
export interface CoherenceFrameEvent {
  type: "frame";
  changes: readonly CoherenceChange[];
}

/** What the machine emits: published as an envelope on troupe.out.coherence.<group>. */
export type CoherenceEmitted = CoherenceEvent;

/** The machine's context: plain data, persisted as JSON. */
export interface CoherenceContext {
  group: string;
  config: CoherenceConfig;
  /** State changes so far. */
  changes: number;
}

type CoherenceMachineEvent =
  | CoherenceFrameEvent
  | { type: "config"; config: CoherenceConfig }
  | { type: "tick"; ts: number };

function lastPhase(event: CoherenceMachineEvent): CoherencePhase | undefined {
  return event.type === "frame" ? event.changes.at(-1)?.to : undefined;
}

/** The coherence machine. */
export const coherenceMachine = setup({
  types: {
    context: {} as CoherenceContext,
    input: {} as { key: string; config: CoherenceConfig },
    events: {} as CoherenceMachineEvent,
    emitted: {} as CoherenceEmitted,
  },
  actions: {
    announce: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, "frame");
      for (const c of event.changes) {
        enqueue.emit(coherenceEvent(c.ts, {
          group: context.group,
          state: c.to,
          from: c.from,
          ratio: c.ratio,
          shift: c.shift,
          top_channels: c.topChannels,
        }));
      }
    }),
    count: assign({
      changes: ({ context, event }) =>
        context.changes + (event.type === "frame" ? event.changes.length : 0),
    }),
    configure: assign({
      config: ({ context, event }) => (event.type === "config" ? event.config : context.config),
    }),
  },
  guards: {
    toNormal: ({ event }) => lastPhase(event) === "normal",
    toCoherent: ({ event }) => lastPhase(event) === "coherent",
    toFragmented: ({ event }) => lastPhase(event) === "fragmented",
  },
}).createMachine({
  id: "coherence",
  context: ({ input }) => ({ group: input.key, config: input.config, changes: 0 }),
  initial: "normal",
  on: {
    config: { actions: "configure" },
    frame: [
      { guard: "toNormal", target: ".normal", actions: ["announce", "count"] },
      { guard: "toCoherent", target: ".coherent", actions: ["announce", "count"] },
      { guard: "toFragmented", target: ".fragmented", actions: ["announce", "count"] },
    ],
  },
  states: { normal: {}, coherent: {}, fragmented: {} },
});
