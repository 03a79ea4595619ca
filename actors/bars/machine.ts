/**
 * The bars machine: publishes each closed bar as a `bar` event (on troupe.out.bars.<channel>),
 * in the order the kernel closed them. It waits for its first bar in `waiting`, then is `live`.
 * The kernel decides when a bar closes (on data, or on a journaled tick); the machine only says it.
 * In `live` a bars event only emits: the host asks `barsEmits` for those events and sends the
 * machine nothing (one macrostep less a closing frame or tick).
 */
import { assign, enqueueActions, setup } from "xstate";
import { type BarEvent, barEvent } from "../../protocol/mod.ts";
import type { BarsConfig } from "./config.ts";

/** A closed bar as published (protocol/events/bar.ts); `ts` is its end, in event time. */
export type BarEmitted = BarEvent;

/** The event a frame or tick that closed bars becomes. */
export interface BarsClosedEvent {
  type: "bars";
  bars: Omit<BarEmitted, "type" | "channel">[];
}

/**
 * What the machine emits for `event` in state `machineState`, when that is all the event does
 * there (`live`: no transition, no assign); undefined elsewhere.
 */
export function barsEmits(
  key: string,
  event: BarsClosedEvent,
  machineState: unknown,
): BarEmitted[] | undefined {
  if (machineState !== "live") return undefined;
  return event.bars.map((b) => barEvent(b.ts, { channel: key, ...b }));
}

/** The bars machine. */
export const barsMachine = setup({
  types: {
    context: {} as { key: string; config: BarsConfig },
    input: {} as { key: string; config: BarsConfig },
    events: {} as
      | BarsClosedEvent
      | { type: "config"; config: BarsConfig }
      | { type: "tick"; ts: number },
    emitted: {} as BarEmitted,
  },
  actions: {
    publish: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "bars") return;
      for (const b of event.bars) enqueue.emit(barEvent(b.ts, { channel: context.key, ...b }));
    }),
    configure: assign({
      config: ({ context, event }) => event.type === "config" ? event.config : context.config,
    }),
  },
}).createMachine({
  id: "bars",
  context: ({ input }) => ({ key: input.key, config: input.config }),
  initial: "waiting",
  on: { config: { actions: "configure" } },
  states: {
    waiting: { on: { bars: { target: "live", actions: "publish" } } },
    live: { on: { bars: { actions: "publish" } } },
  },
});
