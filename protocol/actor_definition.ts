/**
 * The contract between an actor kind and the runtime that hosts it, here beside the kernel
 * contract so that a kind's folder imports nothing but `protocol/`. What an actor kind gives the
 * host: its kernel, its xstate machine, its configuration parser and its routing. The host does
 * everything else (journal, snapshots, recovery, supervision, publishing), the same way for every
 * kind.
 *
 * The machine's protocol with the host:
 * - input: `{ key, config }` when the instance is created;
 * - events in: one per frame (what `frameEvent` returns), `{ type: "config", config }` on a control
 *   message, `{ type: "tick", ts }` on a journaled clock tick (or what `tickEvent` makes of it);
 * - findings out: `emit({ type, ts?, ...fields })` actions. The host publishes each emitted event
 *   as an
 *   envelope of that type on `troupe.out.<kind>.<key>`, with an id derived from the input's id.
 */
import type { AnyStateMachine, EventObject } from "xstate";
import type { FindingKind } from "./finding_kind.ts";
import type { Kernel } from "./kernel.ts";
import type { SampleFrame } from "./sample_frame.ts";
import type { ColumnsFrame } from "./columns_frame.ts";

/** A configuration change delivered to a machine. */
export interface ConfigEvent<Config> {
  type: "config";
  config: Config;
}

/** A journaled clock tick delivered to a machine; `ts` in microseconds since the epoch. */
export interface TickEvent {
  type: "tick";
  ts: number;
}

/** An actor kind. */
export interface ActorDefinition<State, Config, Result> {
  /** The kind's name: a subject token (`stats`, `anomaly`). */
  readonly kind: string;
  /**
   * Bump when the kernel's or machine's meaning changes: snapshots of another version are
   * discarded.
   */
  readonly version: number;
  readonly defaultConfig: Config;
  /**
   * The kinds of finding its machine emits, each opening incidents on its declared scale; none
   * for a kind whose events are data (stats, bars).
   */
  readonly findings?: readonly FindingKind[];
  /**
   * The feeds the kind is for: `"markets"` for one of no use on service metrics (the bars kind's
   * candles, which the scans read; the stats kind's running moments, which a series' own
   * Prometheus gives), which a host fed service metrics (a host with a metrics receiver, `troupe
   * up --feed metrics|remote-write`) runs only where its `actors.<kind>` section is written;
   * `"any"` (the default) for one every host runs.
   */
  readonly feeds?: KindFeeds;
  /**
   * Validates a configuration object over `base`; throws ConfigError naming `path` and the field.
   */
  parseConfig(raw: unknown, base: Config, path: string): Config;
  /**
   * The keys of the instances that consume frames of `channel` (per-channel kinds: `[channel]`).
   */
  route(channel: string, config: Config): readonly string[];
  readonly kernel: Kernel<State, Config, Result>;
  readonly machine: AnyStateMachine;
  /**
   * The one machine event a frame's result becomes, or undefined for none. The host passes
   * `machineState`, the machine's state value before the event, and `config`, the instance's
   * configuration (what its machine's context was given), so that a kind may leave out an event
   * its machine ignores there (each event sent costs xstate a macrostep).
   */
  frameEvent(
    result: Result,
    frame: SampleFrame,
    machineState?: unknown,
    config?: Config,
  ): EventObject | undefined;
  /**
   * The events the machine would emit for this frame's event, when that event would do nothing
   * else (no transition, no assign) in `at.machineState`: the host then puts them out as emitted
   * and sends the machine nothing, sparing the macrostep (and its allocation) on the hot path.
   * Undefined: the host sends `frameEvent`'s event as usual. Outputs, their ids and the machine's
   * snapshot are the same either way.
   */
  frameEmits?(result: Result, at: FrameEmitsAt): readonly EventObject[] | undefined;
  /** What a journaled clock tick does to the kernel and the machine event it becomes (undefined for
   *  none); without it the machine gets `{ type: "tick", ts }`. The bars kernel closes quiet bars.
   */
  tickEvent?(state: State, ts: number): EventObject | undefined;
  /**
   * What a journaled clock tick at `ts` does, when the event `tickEvent` would make of it would
   * only make the machine emit in `at.machineState` (as `frameEmits` for a frame): the tick done
   * to the kernel and the events the machine would emit, which the host puts out as emitted,
   * sending the machine nothing. Undefined, with the state untouched: the host calls `tickEvent`
   * as usual. Outputs, their ids and the machine's snapshot are the same either way.
   */
  tickEmits?(state: State, ts: number, at: FrameEmitsAt): readonly EventObject[] | undefined;
  /**
   * The tick the instance waits for, if any: at event time `ts` (µs), once the instance has had no
   * input that changed it for `quietMs` of the host's clock (a bars instance: its open bar's end
   * plus the grace, after a bar and the grace of quiet). The host journals that tick, with that
   * `ts`, so data replayed fast is never cut by the host's own clock. Without it, a tick goes to
   * the instance every period, at the host's time.
   */
  tickDue?(state: State): TickDue | undefined;
  /**
   * What a journaled seed does to the kernel: history loaded from outside the bus (the bars kind's
   * OHLCV CSV files, `Host.seed`), `body` as the seed's envelope holds it. Throws on a body it
   * cannot take. A seed publishes nothing. Without it, the kind takes no seeds.
   */
  seed?(state: State, body: unknown): void;
  /** Per-sample outputs, published as a columns frame on `troupe.out.<kind>.<key>`. The host
   *  encodes it before the call that returned it ends, so it may share the frame's arrays. */
  columns?(result: Result, frame: SampleFrame, key: string): ColumnsFrame | undefined;
  /** The kernel state's fields by name, for people (`troupe replay --inspect`); without it, the
   *  state is shown as it is held (a typed array shows as bare numbers). */
  describeState?(state: State): Record<string, unknown>;
  /**
   * What the kind's instances hold in a host's memory for their life under `config`, in bytes:
   * the kernel's state grown as far as it grows, and the machinery around it (the machine, the
   * window of input ids). A host counts it against its memory budget, and its default channel
   * limit follows (actors/runtime/host/channel_budget.ts). Without it, a kind's instances count
   * as troupe's largest detector's, one a channel.
   */
  heldBytes?(config: Config): HeldBytes;
}

/** The feeds a kind is for (`ActorDefinition.feeds`). */
export type KindFeeds = "any" | "markets";

/** What a kind's instances hold for their life (`ActorDefinition.heldBytes`), in bytes. */
export interface HeldBytes {
  /** For each channel the kind takes: an instance of a per-channel kind. */
  perChannel: number;
  /** Whatever the channels: a group kind's instances, each at its largest group. */
  fixed: number;
}

/** Where `ActorDefinition.frameEmits` is asked: the instance's key and its machine's state. */
export interface FrameEmitsAt {
  key: string;
  machineState: unknown;
}

/** A tick an instance waits for (see `ActorDefinition.tickDue`). */
export interface TickDue {
  /** Its event time, µs. */
  ts: number;
  /** Host milliseconds without a change before it goes. */
  quietMs: number;
}

/** An actor definition with its type parameters erased, as the host holds them. */
// deno-lint-ignore no-explicit-any
export type AnyActorDefinition = ActorDefinition<any, any, any>;
