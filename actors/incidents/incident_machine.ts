/**
 * One incident's lifecycle, `pending → firing → resolved`, as an xstate machine driven by event
 * time only (no `after` timers: time comes in as `time` events from the stage's watermark, so a
 * replay decides the same). A new incident is pending; it fires once it has been open for `for_us`
 * and its peak severity or its member count clears the bar; it resolves once `hold_us` has passed
 * since its last finding (keep firing for), and a pending one that never cleared the bar resolves
 * the same way without having fired. The kernel steps it with xstate's pure `getNextSnapshot`.
 */
import { assign, setup } from "xstate";
import type { IncidentConfig } from "./config.ts";

/** What the machine knows of its incident. */
export interface IncidentMachineContext {
  config: IncidentConfig;
  first_us: number;
  last_us: number;
  now_us: number;
  peak_severity: number;
  members: number;
  fired: boolean;
}

/** The machine's events: a finding joined (its time, severity and the members now), or time passed. */
export type IncidentMachineEvent =
  | { type: "finding"; ts: number; severity: number; members: number }
  | { type: "time"; ts: number };

/** The incident machine. */
export const incidentMachine = setup({
  types: {
    context: {} as IncidentMachineContext,
    input: {} as { config: IncidentConfig; ts: number; severity: number },
    events: {} as IncidentMachineEvent,
  },
  actions: {
    observe: assign(({ context, event }) => {
      const now_us = Math.max(context.now_us, event.ts);
      if (event.type === "time") return { now_us };
      return {
        now_us,
        last_us: Math.max(context.last_us, event.ts),
        peak_severity: Math.max(context.peak_severity, event.severity),
        members: Math.max(context.members, event.members),
      };
    }),
    fire: assign({ fired: true }),
  },
  guards: {
    quiet: ({ context }) => context.now_us - context.last_us >= context.config.hold_us,
    due: ({ context }) =>
      context.now_us - context.first_us >= context.config.for_us &&
      (context.peak_severity >= context.config.fire_severity_min ||
        context.members >= context.config.fire_members_min),
  },
}).createMachine({
  id: "incident",
  context: ({ input }) => ({
    config: input.config,
    first_us: input.ts,
    last_us: input.ts,
    now_us: input.ts,
    peak_severity: input.severity,
    members: 1,
    fired: false,
  }),
  initial: "pending",
  states: {
    pending: {
      on: { finding: { actions: "observe" }, time: { actions: "observe" } },
      always: [
        { guard: "due", target: "firing", actions: "fire" },
        { guard: "quiet", target: "resolved" },
      ],
    },
    firing: {
      on: { finding: { actions: "observe" }, time: { actions: "observe" } },
      always: { guard: "quiet", target: "resolved" },
    },
    resolved: { type: "final" },
  },
});
