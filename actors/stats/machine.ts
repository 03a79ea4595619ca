/**
 * The stats machine: decides when to publish. It counts the samples folded since the last
 * publication and emits a `stats` event once `every_samples` have gone by. Time enters only
 * through journaled events, so replay is exact.
 */
import { assign, emit, setup } from "xstate";
import type { StatsConfig, StatsSummary } from "./kernel.ts";

/** The event the host sends per frame. */
export interface StatsFrameEvent {
  type: "frame";
  samples: number;
  ts: number;
  summary: StatsSummary;
}

/** What the machine emits: published on troupe.out.stats.<channel>. */
export interface StatsEmitted {
  type: "stats";
  ts: number;
  channel: string;
  count: number;
  mean: number;
  variance: number;
  min: number;
  max: number;
  rate_per_s: number;
}

/** The stats machine. */
export const statsMachine = setup({
  types: {
    context: {} as { key: string; config: StatsConfig; since_last_samples: number },
    input: {} as { key: string; config: StatsConfig },
    events: {} as
      | StatsFrameEvent
      | { type: "config"; config: StatsConfig }
      | { type: "tick"; ts: number },
    emitted: {} as StatsEmitted,
  },
  actions: {
    count: assign({
      since_last_samples: ({ context, event }) =>
        context.since_last_samples + (event.type === "frame" ? event.samples : 0),
    }),
    publish: emit(({ context, event }) => {
      const e = event as StatsFrameEvent;
      return {
        type: "stats" as const,
        ts: e.ts,
        channel: context.key,
        count: e.summary.count,
        mean: e.summary.mean,
        variance: e.summary.variance,
        min: e.summary.min,
        max: e.summary.max,
        rate_per_s: e.summary.rate_per_s,
      };
    }),
    reset: assign({ since_last_samples: 0 }),
    configure: assign({
      config: ({ context, event }) => event.type === "config" ? event.config : context.config,
    }),
  },
  guards: {
    due: ({ context, event }) =>
      event.type === "frame" &&
      context.since_last_samples + event.samples >= context.config.every_samples,
  },
}).createMachine({
  id: "stats",
  context: ({ input }) => ({ key: input.key, config: input.config, since_last_samples: 0 }),
  initial: "waiting",
  on: { config: { actions: "configure" } },
  states: {
    waiting: {
      on: {
        frame: [
          { guard: "due", target: "live", actions: ["publish", "reset"] },
          { target: "live", actions: "count" },
        ],
      },
    },
    live: {
      on: {
        frame: [{ guard: "due", actions: ["publish", "reset"] }, { actions: "count" }],
      },
    },
  },
});
