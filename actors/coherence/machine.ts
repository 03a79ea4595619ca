/**
 * The coherence machine: turns the kernel's per-frame summary of a group into a state, `normal`,
 * `coherent` (the group moves as one: the absorption ratio is well above its long-run level) or
 * `fragmented` (well below), with hysteresis on the standardized shift so that a shift hovering
 * at a threshold does not flap: a group becomes coherent at `coherent_enter` and stays so until
 * the shift falls to `coherent_exit`; fragmented at `fragmented_enter` until it rises to
 * `fragmented_exit`. A shift that jumps across both bands moves straight from one extreme to the
 * other. Each change emits one `coherence` event naming the channels that load most on the
 * first eigenvector. Frames before warm-up (or with an undefined ratio) change nothing; the
 * thresholds change at run time through a `config` event; ticks carry no meaning here.
 */
import { assertEvent, assign, emit, setup } from "xstate";
import type { CoherenceConfig } from "./config.ts";
import type { Loading } from "./kernel.ts";

/** The machine's states. */
export type CoherenceStateName = "normal" | "coherent" | "fragmented";

/** The event the host sends per frame that closed at least one bar: the group after the last. */
export interface CoherenceFrameEvent {
  type: "frame";
  /** Start of the last bar, microseconds since the epoch. */
  ts: number;
  ratio: number;
  shift: number;
  /** Past warm-up, with two or more channels and a defined ratio. */
  ready: boolean;
  /** Channels in the covariance (N) and eigenvalues summed (n). */
  channels: number;
  top: number;
  topChannels: Loading[];
}

/** What the machine emits: published as an envelope on troupe.out.coherence.<group>. */
export interface CoherenceEmitted {
  type: "coherence";
  ts: number;
  group: string;
  state: CoherenceStateName;
  from: CoherenceStateName;
  ratio: number;
  shift: number;
  topChannels: Loading[];
}

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

type Change = { from: CoherenceStateName; to: CoherenceStateName };

function shiftOf(event: CoherenceMachineEvent): number | undefined {
  if (event.type !== "frame" || !event.ready || !Number.isFinite(event.shift)) return undefined;
  return event.shift;
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
    announce: emit(({ context, event }, params: Change) => {
      assertEvent(event, "frame");
      return {
        type: "coherence" as const,
        ts: event.ts,
        group: context.group,
        state: params.to,
        from: params.from,
        ratio: event.ratio,
        shift: event.shift,
        topChannels: event.topChannels.map((l) => ({ channel: l.channel, loading: l.loading })),
      };
    }),
    count: assign({ changes: ({ context }) => context.changes + 1 }),
    configure: assign({
      config: ({ context, event }) => (event.type === "config" ? event.config : context.config),
    }),
  },
  guards: {
    enterCoherent: ({ context, event }) => {
      const shift = shiftOf(event);
      return shift !== undefined && shift >= context.config.coherent_enter;
    },
    enterFragmented: ({ context, event }) => {
      const shift = shiftOf(event);
      return shift !== undefined && shift <= context.config.fragmented_enter;
    },
    leaveCoherent: ({ context, event }) => {
      const shift = shiftOf(event);
      return shift !== undefined && shift <= context.config.coherent_exit;
    },
    leaveFragmented: ({ context, event }) => {
      const shift = shiftOf(event);
      return shift !== undefined && shift >= context.config.fragmented_exit;
    },
  },
}).createMachine({
  id: "coherence",
  context: ({ input }) => ({ group: input.key, config: input.config, changes: 0 }),
  initial: "normal",
  on: { config: { actions: "configure" } },
  states: {
    normal: {
      on: {
        frame: [
          {
            guard: "enterCoherent",
            target: "coherent",
            actions: [{ type: "announce", params: { from: "normal", to: "coherent" } }, "count"],
          },
          {
            guard: "enterFragmented",
            target: "fragmented",
            actions: [{ type: "announce", params: { from: "normal", to: "fragmented" } }, "count"],
          },
        ],
      },
    },
    coherent: {
      on: {
        frame: [
          {
            guard: "enterFragmented",
            target: "fragmented",
            actions: [
              { type: "announce", params: { from: "coherent", to: "fragmented" } },
              "count",
            ],
          },
          {
            guard: "leaveCoherent",
            target: "normal",
            actions: [{ type: "announce", params: { from: "coherent", to: "normal" } }, "count"],
          },
        ],
      },
    },
    fragmented: {
      on: {
        frame: [
          {
            guard: "enterCoherent",
            target: "coherent",
            actions: [
              { type: "announce", params: { from: "fragmented", to: "coherent" } },
              "count",
            ],
          },
          {
            guard: "leaveFragmented",
            target: "normal",
            actions: [{ type: "announce", params: { from: "fragmented", to: "normal" } }, "count"],
          },
        ],
      },
    },
  },
});
