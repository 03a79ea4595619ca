/**
 * The anomaly machine: turns the kernel's incident changes into events. The kernel decides per
 * sample (an incident opens at a valid sample scoring at or above `threshold` while none is open,
 * and closes at the `refractory_samples`-th valid sample in a row below it), so the same samples
 * give the same incidents however they are framed; each frame's event carries every change of the
 * frame, in order. The machine stays `warming` until the kernel has seen `warmup_samples` valid
 * samples, then follows the kernel: `normal`, or `alerting` while an incident is open. Each opening
 * emits one `anomaly` event with its sample's fields and the view that scored it, so one incident
 * makes one event (NAB charges every extra detection outside a window, and so does a team paged
 * twice); a restatement of the open incident's finding (_restate.ts) emits one more, marked
 * `restated`, which joins its incident and opens none. The configuration changes at run time
 * through a `config` event (the host hands the kernel the same one); ticks carry no meaning here
 * and are ignored.
 */
import { and, assign, enqueueActions, setup } from "xstate";
import { type AnomalyBody, type AnomalyEvent, anomalyEvent } from "../../protocol/mod.ts";
import type { AnomalyView } from "../../protocol/mod.ts";
import type { AnomalyConfig } from "./config.ts";

/** One incident change of a frame, with the fields of its sample. */
export interface AnomalyFrameChange {
  /** True when an incident opens, false when it closes. */
  open: boolean;
  /** Time of the sample, microseconds since the epoch. */
  ts: number;
  score: number;
  value: number;
  expected: number;
  lower: number;
  upper: number;
  /** The view that scored an opening's sample (none at a closing). */
  view?: AnomalyView;
  /** Whether it restates the open incident's finding (`open` true): nothing opens or closes. */
  restated?: true;
}

/** The event the host sends per frame with a valid sample. */
export interface AnomalyFrameEvent {
  type: "frame";
  /** Valid samples the kernel has seen, this frame included. */
  seen: number;
  /** The frame's incident changes, in sample order (openings and closings alternate). */
  changes: AnomalyFrameChange[];
}

/** What the machine emits: published as an envelope on troupe.out.anomaly.<channel>. */
export type AnomalyEmitted = AnomalyEvent;

/** The machine's context: plain data, persisted as JSON. */
export interface AnomalyContext {
  key: string;
  config: AnomalyConfig;
  /** Incidents raised so far. */
  incidents: number;
}

type AnomalyMachineEvent =
  | AnomalyFrameEvent
  | { type: "config"; config: AnomalyConfig }
  | { type: "tick"; ts: number };

/** The body of the anomaly event an opening or a restatement `c` of channel `key` makes. */
export function changeBody(key: string, c: AnomalyFrameChange): AnomalyBody {
  return {
    channel: key,
    score: c.score,
    value: c.value,
    expected: c.expected,
    lower: c.lower,
    upper: c.upper,
    ...(c.view !== undefined && { view: c.view }),
    ...(c.restated === true && { restated: true as const }),
  };
}

/** The frame's last opening or closing (restatements change no state). */
function lastChange(event: AnomalyMachineEvent): AnomalyFrameChange | undefined {
  if (event.type !== "frame") return undefined;
  for (let i = event.changes.length - 1; i >= 0; i--) {
    if (event.changes[i]!.restated !== true) return event.changes[i];
  }
  return undefined;
}

/** The anomaly machine. */
export const anomalyMachine = setup({
  types: {
    context: {} as AnomalyContext,
    input: {} as { key: string; config: AnomalyConfig },
    events: {} as AnomalyMachineEvent,
    emitted: {} as AnomalyEmitted,
  },
  actions: {
    raise: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== "frame") return;
      let opened = 0;
      for (const c of event.changes) {
        if (!c.open) continue;
        if (c.restated !== true) opened++;
        enqueue.emit(anomalyEvent(c.ts, changeBody(context.key, c)));
      }
      if (opened > 0) enqueue.assign({ incidents: context.incidents + opened });
    }),
    configure: assign({
      config: ({ context, event }) => (event.type === "config" ? event.config : context.config),
    }),
  },
  guards: {
    warm: ({ context, event }) =>
      event.type === "frame" && event.seen >= context.config.warmup_samples,
    endsOpen: ({ event }) => lastChange(event)?.open === true,
    endsClosed: ({ event }) => lastChange(event)?.open === false,
    restates: ({ event }) => event.type === "frame" && event.changes.some((c) => c.restated),
  },
}).createMachine({
  id: "anomaly",
  context: ({ input }) => ({
    key: input.key,
    config: input.config,
    incidents: 0,
  }),
  initial: "warming",
  on: { config: { actions: "configure" } },
  states: {
    warming: {
      on: {
        frame: [
          { guard: and(["warm", "endsOpen"]), target: "alerting", actions: "raise" },
          { guard: "warm", target: "normal", actions: "raise" },
        ],
      },
    },
    normal: {
      on: {
        frame: [
          { guard: "endsOpen", target: "alerting", actions: "raise" },
          { guard: "endsClosed", actions: "raise" },
        ],
      },
    },
    alerting: {
      on: {
        frame: [
          { guard: "endsClosed", target: "normal", actions: "raise" },
          { guard: "endsOpen", actions: "raise" },
          { guard: "restates", actions: "raise" },
        ],
      },
    },
  },
});
