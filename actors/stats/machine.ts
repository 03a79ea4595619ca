/**
 * The stats machine: publishes. The host sends it a `frame` event for each frame that completes
 * `every_samples` samples since the last publication (the kernel counts them, so that frames in
 * between cost no machine step), and it emits the running statistics as a `stats` event. It waits
 * for its first publication in `waiting`, then is `live`. Time enters only through journaled
 * events, so replay is exact.
 */
import { assertEvent, assign, emit, setup } from "xstate";
import type { StatsConfig, StatsSummary } from "./kernel.ts";

/** The event the host sends per frame that completes `every_samples` samples. */
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
    context: {} as { key: string; config: StatsConfig },
    input: {} as { key: string; config: StatsConfig },
    events: {} as
      | StatsFrameEvent
      | { type: "config"; config: StatsConfig }
      | { type: "tick"; ts: number },
    emitted: {} as StatsEmitted,
  },
  actions: {
    publish: emit(({ context, event }) => {
      assertEvent(event, "frame");
      return {
        type: "stats" as const,
        ts: event.ts,
        channel: context.key,
        count: event.summary.count,
        mean: event.summary.mean,
        variance: event.summary.variance,
        min: event.summary.min,
        max: event.summary.max,
        rate_per_s: event.summary.rate_per_s,
      };
    }),
    configure: assign({
      config: ({ context, event }) => event.type === "config" ? event.config : context.config,
    }),
  },
}).createMachine({
  id: "stats",
  context: ({ input }) => ({ key: input.key, config: input.config }),
  initial: "waiting",
  on: { config: { actions: "configure" } },
  states: {
    waiting: { on: { frame: { target: "live", actions: "publish" } } },
    live: { on: { frame: { actions: "publish" } } },
  },
});
