/**
 * What a host is built from: its bus, journal and snapshot store, the kinds it runs and their
 * configuration, its partitions, limits and supervision, and the seams the simulator replaces
 * (clock, timers, input, frame decoders). Also how the kinds' configurations are resolved.
 */
import {
  type AnyActorDefinition,
  type Bus,
  ConfigError,
  type FrameLimits,
  freezeEncoded,
  type HttpCredentials,
} from "../../../protocol/mod.ts";
import type { ControlSource } from "../control/stream/mod.ts";
import {
  type ChannelBook,
  type FrameDecoder,
  type HostLimits,
  type HostTimers,
  shareConfig,
  type StageTrace,
  type SupervisionOptions,
} from "../instances/mod.ts";
import type { HttpExtension } from "../operations/mod.ts";
import type { InputSource } from "../edge/mod.ts";
import type { LivenessCheck } from "./liveness.ts";
import type { StepWatch } from "./step_watch.ts";
import type { StepOverrunSkip } from "./step_overrun.ts";
import type { StepTrials } from "./step_trials.ts";
import type { RecordedSkips } from "./recorded_skips.ts";
import type { RecordedTicks } from "./recorded_ticks.ts";
import type { Journal } from "../journal/mod.ts";
import type { SnapshotStore } from "../snapshots/mod.ts";
import { partitionOf } from "./partition.ts";

/** Options of a host. */
export interface HostOptions {
  /** A name for this host (a subject token): in metrics, dead letters and output sources. */
  hostId: string;
  /**
   * On a threaded host's thread: the ids of all the host's threads, which each answer a
   * kind-wide control request for their own instances (named on every answer: host_notices.ts).
   */
  answerers?: readonly string[];
  /**
   * The host ids of every host that answers a state capture beside this one, each for its own
   * instances, named on its answer so that the recorder waits for them all
   * (state_capture_answer.ts): a leased cluster's partition hosts. Default `answerers`.
   */
  captureAnswerers?: readonly string[];
  bus: Bus;
  actors: readonly AnyActorDefinition[];
  /** Per-kind configuration objects, parsed by each kind (`{ stats: { every_samples: 500 } }`). */
  config?: Record<string, unknown>;
  journal: Journal;
  snapshots: SnapshotStore;
  /** Number of partitions, and those this host owns (default: all). */
  partitions?: { count: number; owned?: readonly number[] };
  /** Where feed messages come from; default: a core subscription to `troupe.feed.>` on the bus. */
  input?: InputSource;
  /** `channelBook`, `routedChannelsMax`: see HostLimits. */
  limits?: FrameLimits & {
    channelsMax?: number;
    mailboxMax?: number;
    channelBook?: ChannelBook;
    routedChannelsMax?: number | undefined;
  };
  snapshotEveryInputs?: number;
  snapshotEveryMs?: number;
  /**
   * Inputs since its last snapshot that make an instance worth a periodic or stopping snapshot
   * (`snapshots.min_inputs`), and the age of its last snapshot past which it is taken with fewer
   * (`snapshots.max_age_ms`). Default 1 and 0: every instance with news, as the simulator's
   * seeds were made with; `troupe run` and `troupe up` take the configuration's (launch_host.ts).
   */
  snapshotMinInputs?: number;
  snapshotMaxAgeMs?: number;
  /** Milliseconds between journal compactions (segments every snapshot covers): 30 s. */
  compactEveryMs?: number;
  /** The step watchdog: each live step under its kind's deadline (step_watch.ts). */
  stepWatch?: StepWatch;
  /** A step that ran past its deadline before this start, its input to skip (step_overrun.ts). */
  stepOverrun?: StepOverrunSkip;
  /** The trials thread of a team's kinds: their steps tried there first (step_trials.ts). */
  stepTrials?: StepTrials;
  /** In a replay: the inputs its recording says the live host skipped (recorded_skips.ts). */
  recordedSkips?: RecordedSkips;
  /** In a replay: the ticks its recording says the live host applied (recorded_ticks.ts). */
  recordedTicks?: RecordedTicks;
  supervision?: Partial<SupervisionOptions>;
  /** Add a `Nats-Msg-Id` header to every output, for JetStream duplicate detection. */
  msgIdHeaders?: boolean;
  /** Serve /healthz and /metrics on this port (0: a free port); none when absent. */
  httpPort?: number;
  /** Routes served on the same port besides /healthz and /metrics (the scan API). */
  http?: HttpExtension;
  /** The address the HTTP port listens on: 127.0.0.1 when absent. */
  httpHost?: string;
  /** What every request to the HTTP port but /healthz must carry: nothing when absent. */
  httpAuth?: HttpCredentials;
  /** Wall clock in milliseconds, for lag, timers and backoff only: never for actor logic. */
  now?: () => number;
  /** Timers for backoff and periodic work; the simulator passes virtual ones. */
  timers?: HostTimers;
  /**
   * Milliseconds between looks for the clock ticks that kinds acting on time wait for (bars: a
   * quiet channel's bar closes; see ticker.ts). Default 0: none, as a recording (which holds the
   * bus, not a host's ticks) and the simulator's check against a fault-free run need. `troupe run`
   * and `troupe up` tick every second (launch_host.ts).
   */
  tickEveryMs?: number;
  /**
   * Time-based snapshots a periodic round captures in one go before it lets input in (the rest
   * of the round's on zero-delay timers). Default: the whole round at once, as the simulator's
   * fixed order of events needs; `troupe run` and `troupe up` take them in slices
   * (launch_host.ts), so that thousands of quiet instances due together do not hold input back.
   */
  snapshotsPerSliceMax?: number;
  /** Start over journal losses that cannot be rebuilt from the input (default false: refuse). */
  acceptJournalLoss?: boolean;
  /**
   * Whether a mailbox's waiting inputs are journaled as one run where the journal can
   * (`appendMany`); default true. False while hosts older than runs may read the journal.
   */
  journalRuns?: boolean;
  /** Where the host reports what happens (restarts, truncations, stops). */
  log?: (message: string) => void;
  /**
   * Called once when the host meets an error it cannot go on after (its journal cannot be
   * written: a full or read-only disk). The host has stopped consuming and appending; its owner
   * closes it and exits. Without it, the error is only logged.
   */
  onFatal?: (err: unknown) => void;
  /**
   * Where kept control messages come from (JetStream input: the control stream); the live
   * subscription then only answers requests. Default: none, the live subscription applies them.
   */
  control?: ControlSource;
  /** Checks /healthz runs besides the host's own (e.g. the NATS connection's). */
  liveness?: LivenessCheck[];
  /**
   * Makes the host's frame decoders, one per set of limits: of feed messages as they arrive (the
   * host's limits) and of journaled frames in replay (the default limits). Each must return what
   * `decodeFrame(bytes, limits)` returns, or throw as it does. By default, `decodeFrame` itself,
   * with journaled frames decoded by the instance; the simulator, whose hosts see the same
   * frames again and again (redeliveries, recoveries), passes decoders that decode each once.
   */
  frameDecoders?: (limits: FrameLimits) => FrameDecoder;
  /**
   * Journal frames whose times are evenly spaced without their time column (see
   * protocol/input_record.ts): half the bytes written for metrics and bars. Default true; the
   * simulator, whose journals hold the logged bytes in place, passes false.
   */
  journalEvenTimes?: boolean;
  /**
   * Times each stage of a feed frame's trip through the host (see stage_trace.ts); off when absent.
   */
  stageTrace?: StageTrace;
}

/**
 * The channels a host admits by default. Each channel costs an instance of every per-channel
 * kind (kernel state, journal, snapshot): a few hundred kilobytes, so a flood of new names meets
 * this limit, a refusal counted in /metrics and dead-lettered, before it meets the memory.
 */
export const CHANNELS_MAX_DEFAULT = 1_000;

/**
 * The limits of a host with `options`: 1,000 channels and 10,000 inputs waiting by default; a
 * host owning some of the partitions counts the channels of its own (see HostLimits' `lives`).
 */
export function hostLimits(options: HostOptions): HostLimits {
  const count = options.partitions?.count ?? 1;
  const owned = new Set(options.partitions?.owned ?? []);
  const some = options.partitions?.owned !== undefined && owned.size < count;
  return {
    ...options.limits,
    channelsMax: options.limits?.channelsMax ?? CHANNELS_MAX_DEFAULT,
    mailboxMax: options.limits?.mailboxMax ?? 10_000,
    ...(some ? { lives: (channel: string) => owned.has(partitionOf(channel, count)) } : {}),
  };
}

/**
 * Each kind's starting configuration: its `config[kind]` parsed over its defaults, or the
 * defaults. A kind in `config` that is not among `actors` is a ConfigError. Each is a frozen
 * copy whose encoding is kept (`freezeEncoded`): every instance of the kind holds it, and each of
 * their snapshots writes it twice; the instances restored with an equal one hold it too
 * (`shareConfig`).
 */
export function kindConfigs(
  actors: readonly AnyActorDefinition[],
  config: Record<string, unknown> = {},
): Map<string, unknown> {
  const configs = new Map<string, unknown>();
  for (const def of actors) {
    const raw = config[def.kind];
    const parsed = raw === undefined
      ? def.defaultConfig
      : def.parseConfig(raw, def.defaultConfig, `actors.${def.kind}`);
    if (typeof parsed === "object" && parsed !== null) {
      const kept = freezeEncoded(structuredClone(parsed));
      shareConfig(def, kept);
      configs.set(def.kind, kept);
    } else configs.set(def.kind, parsed);
  }
  for (const kind of Object.keys(config)) {
    if (!configs.has(kind)) {
      throw new ConfigError(`actors.${kind}`, `Unknown actor kind "${kind}" in the configuration`, {
        value: kind,
      });
    }
  }
  return configs;
}

/** Which instances a host's periodic rounds and stop snapshot, by its options (snapshotter.ts). */
export function snapshotPayoff(options: HostOptions): { minInputs: number; maxAgeMs: number } {
  return { minInputs: options.snapshotMinInputs ?? 1, maxAgeMs: options.snapshotMaxAgeMs ?? 0 };
}
