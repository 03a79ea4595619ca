/**
 * The stats machine: publishes. The host sends it a `frame` event for each frame in which at
 * least one publication fell (the kernel decides them per sample, so that frames in between cost
 * no machine step and the framing changes nothing), and it emits each, in order, as a `stats`
 * event stamped with the time of the sample that completed it. It waits for its first publication
 * in `waiting`, then is `live`, where a frame event only emits: the host asks `statsFrameEmits`
 * for those events and sends the machine nothing (one macrostep less a frame). Time enters only
 * through journaled events, so replay is exact.
 */
import { assertEvent, assign, enqueueActions, setup } from "xstate";
import { type FrameEmitsAt, type StatsEvent, statsEvent } from "../../protocol/mod.ts";
import type { StatsConfig, StatsSummary } from "./kernel.ts";

/** The event the host sends per frame in which publications fell: each, in order. */
export interface StatsFrameEvent {
  type: "frame";
  publications: readonly StatsSummary[];
}

/** What the machine emits: published on troupe.out.stats.<channel>. */
export type StatsEmitted = StatsEvent;

/** The event the machine emits for publication `p` of channel `key`. */
export function statsEmitted(key: string, p: StatsSummary): StatsEmitted {
  return statsEvent(Math.round(p.t_last_us), {
    channel: key,
    count: p.count,
    mean: p.mean,
    variance: p.variance,
    min: p.min,
    max: p.max,
    rate_per_s: p.rate_per_s,
  });
}

/**
 * What the machine emits for a frame with `publications` in state `machineState`, when that is
 * all the frame event does there (`live`: no transition, no assign); undefined elsewhere.
 */
export function statsFrameEmits(
  publications: readonly StatsSummary[],
  at: FrameEmitsAt,
): StatsEmitted[] | undefined {
  if (at.machineState !== "live" || publications.length === 0) return undefined;
  return publications.map((p) => statsEmitted(at.key, p));
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
    publish: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, "frame");
      for (const p of event.publications) enqueue.emit(statsEmitted(context.key, p));
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
