/**
 * The scan machine, one per scan (`scan/<scanId>`): `queued → running → (stopping) → done |
 * stopped | failed`. It counts the chunks done and the signals found, and decides when the scan
 * ends: every chunk done (done), `max_signals` reached, a timeout or a stop request (stopping,
 * then stopped once the chunks in flight are drained). Pure: times arrive in events, and the
 * service journals every event before sending it, so a recovered scan replays to the same state.
 */
import { assertEvent, assign, setup } from "xstate";

/** The machine's input. */
export interface ScanMachineInput {
  scanId: string;
  chunks: number;
  symbols: number;
  max_signals: number | null;
}

/** What the machine knows of its scan. */
export interface ScanContext extends ScanMachineInput {
  /** Per chunk: 1 when its results are in. */
  done: number[];
  chunks_done: number;
  symbols_done: number;
  signals: number;
  insufficient: number;
  unknown: number;
  started_ts: number | null;
  first_result_ts: number | null;
  ended_ts: number | null;
  stop_reason: "max_signals" | "timeout" | "requested" | null;
  error: string | null;
}

/** A chunk's results are in; `signals` already capped by the service at max_signals. */
export interface ChunkEvent {
  type: "chunk";
  chunk: number;
  symbols: number;
  signals: number;
  insufficient: number;
  unknown: number;
  ts: number;
}

/** The events of a scan. */
export type ScanEvent =
  | { type: "start"; ts: number }
  | ChunkEvent
  | { type: "stop"; reason: "timeout" | "requested"; ts: number }
  | { type: "drained"; ts: number }
  | { type: "fail"; error: string; ts: number };

const finished = (c: ScanContext) => c.chunks_done >= c.chunks;
const enough = (c: ScanContext) => c.max_signals !== null && c.signals >= c.max_signals;

/** The scan machine. */
export const scanMachine = setup({
  types: {
    context: {} as ScanContext,
    input: {} as ScanMachineInput,
    events: {} as ScanEvent,
  },
  guards: {
    fresh: ({ context, event }) => event.type === "chunk" && context.done[event.chunk] === 0,
    finished: ({ context }) => finished(context),
    enough: ({ context }) => enough(context),
  },
  actions: {
    started: assign({ started_ts: ({ event }) => event.ts }),
    count: assign(({ context, event: e }) => {
      assertEvent(e, "chunk");
      const done = context.done.slice();
      done[e.chunk] = 1;
      return {
        done,
        chunks_done: context.chunks_done + 1,
        symbols_done: context.symbols_done + e.symbols,
        signals: context.signals + e.signals,
        insufficient: context.insufficient + e.insufficient,
        unknown: context.unknown + e.unknown,
        first_result_ts: context.first_result_ts ?? (e.signals > 0 ? e.ts : null),
      };
    }),
    stopFor: assign({
      stop_reason: (_, reason: "max_signals" | "timeout" | "requested") => reason,
    }),
    ended: assign({ ended_ts: ({ event }) => event.ts }),
    failed: assign(({ event }) => {
      assertEvent(event, "fail");
      return { error: event.error, ended_ts: event.ts };
    }),
  },
}).createMachine({
  id: "scan",
  context: ({ input }) => ({
    ...input,
    done: new Array<number>(input.chunks).fill(0),
    chunks_done: 0,
    symbols_done: 0,
    signals: 0,
    insufficient: 0,
    unknown: 0,
    started_ts: null,
    first_result_ts: null,
    ended_ts: null,
    stop_reason: null,
    error: null,
  }),
  initial: "queued",
  on: { fail: { target: ".failed", actions: "failed" } },
  states: {
    queued: {
      on: {
        start: [
          { guard: "finished", target: "done", actions: ["started", "ended"] },
          { target: "running", actions: "started" },
        ],
        stop: { target: "stopped", actions: [{ type: "stopFor", params: "requested" }, "ended"] },
      },
    },
    running: {
      on: {
        chunk: { guard: "fresh", target: "counted", actions: "count" },
        stop: {
          target: "stopping",
          actions: { type: "stopFor", params: ({ event }) => event.reason },
        },
      },
    },
    // A transient state: decides after each chunk whether the scan goes on.
    counted: {
      always: [
        {
          guard: "enough",
          target: "stopping",
          actions: { type: "stopFor", params: "max_signals" },
        },
        { guard: "finished", target: "done" },
        { target: "running" },
      ],
    },
    stopping: {
      on: { drained: { target: "stopped", actions: "ended" } },
    },
    done: {
      type: "final",
      entry: assign({
        ended_ts: ({ context, event }) => event.ts ?? context.ended_ts,
      }),
    },
    stopped: { type: "final" },
    failed: { type: "final" },
  },
});
