/**
 * One incident's lifecycle, `pending → firing → resolved`, as an xstate machine driven by event
 * time only (no `after` timers: time comes in as `time` events from the stage's watermark, so a
 * replay decides the same). A new incident is pending; it fires once it has been open for `for_us`
 * and its peak severity or its member count clears the bar; it resolves once `hold_us` has passed
 * since its last finding (keep firing for) and its grouping window has ended, and a pending one
 * that never cleared the bar resolves the same way without having fired. A finding that starts an
 * episode (a coherence group turning coherent or fragmented) holds its incident open until a
 * finding of its channel ends it (the return to normal), for up to `episode_hold_max_us` after its
 * last finding: the group is still in that state, and a stressed spell that begins before it
 * returns is the same incident, not one missed because the hold ran out. A member's stale marker
 * (its series ended at its source) marks it gone until its next finding; once every member is
 * gone the incident resolves at the marker's time, hold or not. The kernel steps it with
 * xstate's pure `getNextSnapshot`.
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
  /**
   * Member channels whose last finding started an episode not yet ended (absent in a snapshot
   * taken before it was kept: none).
   */
  ongoing?: string[];
  /** Member channels gone stale since their last finding (absent in older snapshots: none). */
  stale?: string[];
}

/**
 * The machine's events: a finding joined (its time, severity, channel, whether it leaves an episode
 * going on that channel, and the members now), or time passed.
 */
export type IncidentMachineEvent =
  | {
    type: "finding";
    ts: number;
    severity: number;
    members: number;
    channel: string;
    ongoing: boolean;
  }
  | { type: "time"; ts: number }
  | { type: "stale"; ts: number; channel: string; members: readonly string[] };

/**
 * When the incident may resolve: `hold_us` after its last finding (longer while an episode goes
 * on), and not before its grouping window ends, so a finding within the window always has it to
 * join (else denser findings would bridge the hold and give fewer incidents).
 */
export function quietFrom(context: IncidentMachineContext): number {
  const c = context.config;
  const hold = (context.ongoing ?? []).length === 0
    ? c.hold_us
    : Math.max(c.hold_us, c.episode_hold_max_us);
  // Past the window's last microsecond: a finding at its very end joins (the window is closed).
  const windowEnd = c.member_joins ? -Infinity : context.first_us + c.group_window_us + 1;
  return Math.max(context.last_us + hold, windowEnd);
}

/** The incident machine. */
export const incidentMachine = setup({
  types: {
    context: {} as IncidentMachineContext,
    input: {} as {
      config: IncidentConfig;
      ts: number;
      severity: number;
      channel: string;
      ongoing: boolean;
    },
    events: {} as IncidentMachineEvent,
  },
  actions: {
    observe: assign(({ context, event }) => {
      const now_us = Math.max(context.now_us, event.ts);
      if (event.type === "time") return { now_us };
      const fresh = (context.stale ?? []).filter((c) => c !== event.channel);
      if (event.type === "stale") return { now_us, stale: [...fresh, event.channel] };
      const others = (context.ongoing ?? []).filter((c) => c !== event.channel);
      return {
        now_us,
        stale: fresh,
        last_us: Math.max(context.last_us, event.ts),
        peak_severity: Math.max(context.peak_severity, event.severity),
        members: Math.max(context.members, event.members),
        ongoing: event.ongoing ? [...others, event.channel] : others,
      };
    }),
    fire: assign({ fired: true }),
  },
  guards: {
    quiet: ({ context }) => context.now_us >= quietFrom(context),
    // Every member gone stale (its series ended at its source): nothing is left to watch.
    gone: ({ context, event }) =>
      event.type === "stale" &&
      event.members.every((m) => m === event.channel || (context.stale ?? []).includes(m)),
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
    ongoing: input.ongoing ? [input.channel] : [],
  }),
  initial: "pending",
  states: {
    pending: {
      on: {
        finding: { actions: "observe" },
        time: { actions: "observe" },
        stale: [{ guard: "gone", target: "resolved", actions: "observe" }, { actions: "observe" }],
      },
      always: [
        { guard: "due", target: "firing", actions: "fire" },
        { guard: "quiet", target: "resolved" },
      ],
    },
    firing: {
      on: {
        finding: { actions: "observe" },
        time: { actions: "observe" },
        stale: [{ guard: "gone", target: "resolved", actions: "observe" }, { actions: "observe" }],
      },
      always: { guard: "quiet", target: "resolved" },
    },
    resolved: { type: "final" },
  },
});
