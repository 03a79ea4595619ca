/**
 * `defineKind`: an actor kind as a user writes one. The user gives a name and a version, a
 * configuration schema, a pure kernel whose `step` returns the findings of the frame and its
 * per-sample outputs, the kinds of finding it makes, and optionally an xstate machine that decides
 * which findings go out (hysteresis, debouncing); troupe makes the full ActorDefinition from them
 * and registers it, so the kind gets journaling, snapshots, replay, simulation, threads, leases
 * and incidents as troupe's own do. Time comes in with the samples (`frame.t`) and ticks;
 * randomness through `StepContext.random`, fixed by the sample it is drawn at.
 */
import { type AnyStateMachine, assign, enqueueActions, type EventObject, setup } from "xstate";
import type {
  ActorDefinition,
  ColumnsFrame,
  FindingKind,
  FrameEmitsAt,
  HeldBytes,
  KindFeeds,
  SampleFrame,
} from "../../protocol/mod.ts";
import {
  checkConfigSchema,
  type ConfigOf,
  type ConfigSchema,
  defaultConfigOf,
  parseConfigOf,
} from "./config_schema.ts";
import { registerKind } from "./register_kind.ts";
import { channelHash, sampleRandom } from "./sample_random.ts";

/** A finding as a kernel or machine makes it: published as an event of `type`. */
export interface Finding {
  /** A declared kind of finding's type. */
  readonly type: string;
  /** The event time it is about, µs since the epoch (a sample's `t`). */
  readonly ts: number;
  /** The channel (or group) it is about, and any other fields of its body. */
  readonly [field: string]: unknown;
}

/** What a kernel's step is given besides its state and the frame. */
export interface StepContext {
  /**
   * A number in [0, 1) fixed by the frame's channel, the sample's sequence number `seq` (the
   * frame's `seq0 + i`) and `draw` (0, 1, ... for several draws at one sample).
   */
  random(seq: number, draw?: number): number;
}

/** What one step produced. */
export interface StepOutput {
  /** Findings, in sample order. */
  readonly findings?: readonly Finding[];
  /** Per-sample outputs by name, one value per sample of the frame (declared in `outputs`). */
  readonly columns?: Readonly<Record<string, Float64Array>>;
}

/** A user's kernel: pure, no clock, no I/O, no Math.random. */
export interface KindKernel<State, Config> {
  /** The state of a new instance keyed `key`. */
  init(config: Config, key: string): State;
  /** Folds one frame into the state (it may mutate it) and returns what the frame produced. */
  step(state: State, frame: SampleFrame, ctx: StepContext): StepOutput | undefined;
  /** The state as bytes, exactly: `load(save(s))` steps as `s` does, bit for bit. */
  save(state: State): Uint8Array;
  load(bytes: Uint8Array): State;
  /** Applies a configuration change to a live state (without it, a change reaches `step` only
   *  through the state the kernel keeps). */
  configure?(state: State, config: Config): void;
  /** A journaled clock tick at event time `ts` (µs): what it finds, if anything. */
  tick?(state: State, ts: number): readonly Finding[] | undefined;
}

/** Everything a user says about a kind. */
export interface KindSpec<State, S extends ConfigSchema> {
  /** Its name: a subject token (`spread`, `zscore`). */
  readonly kind: string;
  /** Bump when the kernel's meaning or its saved bytes change: older snapshots are discarded. */
  readonly version: number;
  /** Its configuration's fields (`{}` for none). */
  readonly config: S;
  /**
   * The keys of the instances a frame of `channel` goes to; default one instance per channel.
   * A kind over a group returns the group's key for each member channel.
   */
  route?(channel: string, config: ConfigOf<S>): readonly string[];
  readonly kernel: KindKernel<State, ConfigOf<S>>;
  /** The kinds of finding it makes. */
  readonly findings: readonly FindingKind[];
  /** The names of its per-sample outputs, published as a columns frame; none by default. */
  readonly outputs?: readonly string[];
  /**
   * An xstate machine that decides what goes out: it gets `{ type: "frame", findings }` for a
   * frame with findings, `{ type: "config", config }` and `{ type: "tick", ts, findings }`, and
   * emits findings. Without it, every finding the kernel makes goes out.
   */
  readonly machine?: AnyStateMachine;
  /** The kernel state's fields by name, for `troupe replay --inspect`. */
  describeState?(state: State): Record<string, unknown>;
  /**
   * What its instances hold in a host's memory for their life under a configuration, in bytes
   * (`ActorDefinition.heldBytes`): the host's default channel limit counts it. Without it, an
   * instance a channel counts as troupe's largest detector's.
   */
  heldBytes?(config: ConfigOf<S>): HeldBytes;
  /**
   * `"markets"` for a kind over prices and volumes, which a host fed service metrics runs only
   * where its section is written (`ActorDefinition.feeds`); `"any"`, the default, otherwise.
   */
  readonly feeds?: KindFeeds;
}

/** What a step hands the host: the output and, for columns, the frame it was about. */
interface StepResult {
  findings: readonly Finding[];
  columns: Readonly<Record<string, Float64Array>> | undefined;
}

const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

/** The machine of a kind without one: every finding goes out. Its one state is `live`. */
const passThrough = setup({
  types: {
    context: {} as { key: string; config: unknown },
    input: {} as { key: string; config: unknown },
    events: {} as
      | { type: "frame"; findings: readonly Finding[] }
      | { type: "config"; config: unknown }
      | { type: "tick"; ts: number; findings?: readonly Finding[] },
  },
  actions: {
    emitAll: enqueueActions(({ event, enqueue }) => {
      if (event.type === "config") return;
      for (const f of event.findings ?? NO_FINDINGS) enqueue.emit(f as EventObject);
    }),
    configure: assign({
      config: ({ context, event }) => event.type === "config" ? event.config : context.config,
    }),
  },
}).createMachine({
  id: "findings",
  context: ({ input }) => ({ key: input.key, config: input.config }),
  initial: "live",
  states: {
    live: {
      on: {
        frame: { actions: "emitAll" },
        tick: { actions: "emitAll" },
        config: { actions: "configure" },
      },
    },
  },
});

/** The kind `spec` describes, as the host runs it, registered. */
export function defineKind<State, S extends ConfigSchema>(
  spec: KindSpec<State, S>,
): ActorDefinition<State, ConfigOf<S>, StepResult> {
  checkConfigSchema(spec.config, `${spec.kind}.config`);
  const user = spec.kernel;
  const outputs = spec.outputs ?? [];
  const defaultConfig = defaultConfigOf(spec.config);
  const declared = new Set(spec.findings.map((f) => f.type));
  const checked = (findings: readonly Finding[] | undefined, where: string) => {
    for (const f of findings ?? NO_FINDINGS) {
      if (!declared.has(f.type)) {
        throw new Error(
          `The ${spec.kind} kernel's ${where} made a finding of type ${
            JSON.stringify(f.type)
          }, which the kind does not declare (findings: ${[...declared].join(", ") || "none"})`,
        );
      }
    }
    return findings ?? NO_FINDINGS;
  };
  const def: ActorDefinition<State, ConfigOf<S>, StepResult> = {
    kind: spec.kind,
    version: spec.version,
    defaultConfig,
    findings: spec.findings,
    parseConfig: (raw, base, path) => parseConfigOf(spec.config, raw, base, path),
    route: spec.route ?? ((channel) => [channel]),
    kernel: {
      init: (config, key) => user.init(config, key),
      step(state, frame) {
        const key = channelHash(frame.channel);
        const ctx: StepContext = { random: (seq, draw) => sampleRandom(key, seq, draw) };
        const out = user.step(state, frame, ctx);
        return { findings: checked(out?.findings, "step"), columns: out?.columns };
      },
      save: (state) => user.save(state),
      load: (bytes) => user.load(bytes),
      ...(user.configure ? { configure: user.configure.bind(user) } : {}),
    },
    machine: spec.machine ?? passThrough,
    frameEvent: (result) =>
      result.findings.length > 0 ? { type: "frame", findings: result.findings } : undefined,
    ...(spec.machine ? {} : {
      frameEmits: (result: StepResult, at: FrameEmitsAt) =>
        at.machineState === "live" ? result.findings as readonly EventObject[] : undefined,
    }),
    ...(user.tick
      ? {
        tickEvent: (state: State, ts: number) => {
          const findings = checked(user.tick!(state, ts), "tick");
          return findings.length > 0 || spec.machine ? { type: "tick", ts, findings } : undefined;
        },
      }
      : {}),
    ...(outputs.length > 0
      ? {
        columns: (result: StepResult, frame: SampleFrame, key: string) =>
          columnsOf(spec.kind, outputs, result, frame, key),
      }
      : {}),
    ...(spec.describeState ? { describeState: spec.describeState } : {}),
    ...(spec.heldBytes ? { heldBytes: spec.heldBytes } : {}),
    ...(spec.feeds !== undefined ? { feeds: spec.feeds } : {}),
  };
  return registerKind(def);
}

function columnsOf(
  kind: string,
  outputs: readonly string[],
  result: StepResult,
  frame: SampleFrame,
  key: string,
): ColumnsFrame | undefined {
  if (result.columns === undefined) return undefined;
  const n = frame.t.length;
  const columns: Record<string, Float64Array> = {};
  for (const name of outputs) {
    const col = result.columns[name];
    if (col === undefined || col.length !== n) {
      throw new Error(
        `The ${kind} kernel's step gave output column "${name}" ${
          col === undefined ? "no values" : `${col.length} values`
        } for a frame of ${n} samples on ${frame.channel}`,
      );
    }
    columns[name] = col;
  }
  return { channel: key, seq0: frame.seq0, t: frame.t, columns };
}
