/**
 * The anomaly machine: turns the kernel's per-frame summaries into incidents. It stays `warming`
 * until the kernel has seen `warmup_samples` valid samples (no alarm before the model knows the
 * channel), then goes `normal`; the first frame whose strongest sample scores at or above
 * `threshold` emits one `anomaly` event and moves to `alerting`, where further high scores only
 * extend the incident. The incident ends, back to `normal`, once `clear_samples` valid samples in a
 * row have scored below the threshold, so one incident makes one event (NAB charges every extra
 * detection outside a window, and so does a team paged twice). The threshold and the other fields
 * change at run time through a `config` event; ticks carry no meaning here and are ignored.
 */
import { and, assign, emit, setup } from "xstate";
import type { AnomalyConfig } from "./config.ts";

/** The event the host sends per frame: the frame's strongest sample and the frame's counts. */
export interface AnomalyFrameEvent {
  type: "frame";
  /** Time of the strongest sample, microseconds since the epoch. */
  ts: number;
  score: number;
  value: number;
  expected: number;
  lower: number;
  upper: number;
  /** Valid samples the kernel has seen, this frame included. */
  seen: number;
  /** Valid samples in this frame. */
  valid: number;
  /** Valid samples of this frame scoring at or above the threshold. */
  above: number;
  /** Valid samples at the end of this frame after the last one at or above the threshold. */
  quiet_tail: number;
}

/** What the machine emits: published as an envelope on troupe.out.anomaly.<channel>. */
export interface AnomalyEmitted {
  type: "anomaly";
  ts: number;
  channel: string;
  score: number;
  value: number;
  expected: number;
  lower: number;
  upper: number;
}

/** The machine's context: plain data, persisted as JSON. */
export interface AnomalyContext {
  key: string;
  config: AnomalyConfig;
  /** Valid samples since the last one at or above the threshold (while alerting). */
  quiet_samples: number;
  /** Incidents raised so far. */
  incidents: number;
}

type AnomalyMachineEvent =
  | AnomalyFrameEvent
  | { type: "config"; config: AnomalyConfig }
  | { type: "tick"; ts: number };

/** The anomaly machine. */
export const anomalyMachine = setup({
  types: {
    context: {} as AnomalyContext,
    input: {} as { key: string; config: AnomalyConfig },
    events: {} as AnomalyMachineEvent,
    emitted: {} as AnomalyEmitted,
  },
  actions: {
    raise: emit(({ context, event }) => {
      const e = event as AnomalyFrameEvent;
      return {
        type: "anomaly" as const,
        ts: e.ts,
        channel: context.key,
        score: e.score,
        value: e.value,
        expected: e.expected,
        lower: e.lower,
        upper: e.upper,
      };
    }),
    open: assign({
      quiet_samples: ({ event }) => (event as AnomalyFrameEvent).quiet_tail,
      incidents: ({ context }) => context.incidents + 1,
    }),
    extend: assign({
      quiet_samples: ({ context, event }) => {
        const e = event as AnomalyFrameEvent;
        return e.above > 0 ? e.quiet_tail : context.quiet_samples + e.valid;
      },
    }),
    configure: assign({
      config: ({ context, event }) => (event.type === "config" ? event.config : context.config),
    }),
  },
  guards: {
    warm: ({ context, event }) =>
      event.type === "frame" && event.seen >= context.config.warmup_samples,
    high: ({ context, event }) =>
      event.type === "frame" && event.score > 0 && event.score >= context.config.threshold,
    cleared: ({ context, event }) =>
      event.type === "frame" && event.above === 0 &&
      context.quiet_samples + event.valid >= context.config.clear_samples,
  },
}).createMachine({
  id: "anomaly",
  context: ({ input }) => ({
    key: input.key,
    config: input.config,
    quiet_samples: 0,
    incidents: 0,
  }),
  initial: "warming",
  on: { config: { actions: "configure" } },
  states: {
    warming: {
      on: {
        frame: [
          { guard: and(["warm", "high"]), target: "alerting", actions: ["raise", "open"] },
          { guard: "warm", target: "normal" },
        ],
      },
    },
    normal: {
      on: {
        frame: { guard: "high", target: "alerting", actions: ["raise", "open"] },
      },
    },
    alerting: {
      on: {
        frame: [
          { guard: "cleared", target: "normal", actions: assign({ quiet_samples: 0 }) },
          { actions: "extend" },
        ],
      },
    },
  },
});
