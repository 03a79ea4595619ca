/**
 * Replay: feeds a recording's inputs (`troupe.feed.*` frames and `troupe.ctl.*` control messages)
 * back through fresh actors, at the recorded pace times a speed or as fast as they go, and
 * collects what the actors publish. With `verify`, every output is compared with the recorded one
 * on the same subject, byte for byte, and the first that differs is named (subject, index on that
 * subject, recorded and replayed ids, the first field that differs).
 *
 * By default the actors run in this process: a real Host on an InProcessBus, with an in-memory
 * journal (compacted at each snapshot, so a long recording does not pile up in memory) and an
 * in-memory snapshot store, running the kinds the recording's header lists (or, without a
 * configuration in the header, the kinds whose outputs it holds). With `threads` > 1 (by default
 * for a big recording at maximum speed) the instances are split across worker threads, each such
 * a host for its share (see _replay_threads.ts): this thread reads the recording once, routes and
 * batches the inputs, and merges the outputs back into the order one host gives them, so the
 * outputs are the same bytes in the same order with any number of threads. Given a `bus`, the
 * inputs are published there instead, into a live cluster, and its outputs are collected from it.
 *
 * Outputs are deterministic: an output's id derives from its input's id, its time from the
 * input's event times, and nothing an actor publishes depends on the wall clock, so replaying the
 * same recording twice gives the same bytes. Dead letters are counted, not compared: the host
 * stamps them with its own clock. An input the recording's dead letters say its live host skipped
 * (a step past its deadline, or one that ended its thread or the host) is skipped again, not
 * applied; a clock tick it says its live host applied is applied after the input it came after
 * (_recorded_host_acts.ts).
 *
 * The range: inputs received before `fromUs` are applied first at full speed without pacing (the
 * actors must reach their state at `fromUs`; their outputs are verified too, since a difference
 * there is the first one); inputs from `fromUs` to `toUs` are paced; replay stops after `toUs`.
 */
import { availableParallelism } from "node:os";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  type IncidentConfig,
  parseIncidentConfig,
  recordedIncidentBase,
} from "../../actors/incidents/mod.ts";
import {
  type AnyActorDefinition,
  channelsFitting,
  hostHeldBytes,
  memoryBudgetMbDefault,
} from "../../actors/runtime/mod.ts";
import {
  type Bus,
  findingOutputSubject,
  type FrameLimits,
  INCIDENT_ACTOR,
} from "../../protocol/mod.ts";
import { type Clock, type Sleeper, SystemClock } from "../clock.ts";
import { startActors } from "./_replay_actors.ts";
import {
  mismatchPlace,
  type ReplayMismatch,
  type ReplayVerification,
  withUnclosed,
  withUnread,
} from "./_replay_compare.ts";
import { jsonable, noSuchInstance, type ReplayInspection } from "./_replay_inspect.ts";
import { areaOf, kindOf, type ReplayCounts, ReplayReading } from "./_replay_reading.ts";
import { ReplayThreadError } from "./_replay_threads.ts";
import type { RecordingCut, RecordingHeader } from "./recording.ts";
import { RecordingReader } from "./recording_reader.ts";
import { type RecordingStart, startKindConfigs } from "./recording_start.ts";
import { liveStartRefusal, type ReplayStart, startOf, startResult } from "./_replay_start.ts";
import { ReplayError } from "./replay_error.ts";
import { type UncomparedKind, uncomparedKinds } from "./_replay_uncompared.ts";

export {
  jsonable,
  mismatchPlace,
  type ReplayCounts,
  type ReplayInspection,
  type ReplayMismatch,
  type ReplayVerification,
};

/** Options of `replay`. */
export interface ReplayOptions {
  /**
   * A multiple of the recorded pace (1: as recorded, 10: ten times faster); Infinity: no pacing.
   * Default Infinity.
   */
  speed?: number;
  /** Replay from this receive time (µs since the epoch); earlier inputs are applied unpaced. */
  fromUs?: number;
  /** Replay up to this receive time (µs since the epoch), inclusive. */
  toUs?: number;
  /** Compare every output with the recorded one. */
  verify?: boolean;
  /**
   * Verify a recording whose writer did not close it (no trailer: it died, or the file was cut)
   * on what it holds, instead of failing the verification. Default false.
   */
  acceptUnclosed?: boolean;
  /** Publish the inputs on this bus (a live cluster) instead of running actors in this process. */
  bus?: Bus;
  /** The actor kinds known, by name. Default ACTOR_KINDS. */
  registry?: Readonly<Record<string, AnyActorDefinition>>;
  /**
   * The URL of a module exporting the same kinds as `registry` (`export const registry = {...}`),
   * for worker threads to load: a custom registry replays on threads only when it is given.
   */
  registryModule?: string | URL;
  /**
   * Worker threads to run the actors on (in-process replay only): 1 runs them in this thread.
   * Default: at maximum speed, a recording of at least `THREADS_MIN_FILE_BYTES` runs on
   * min(available cores, 4) threads; otherwise 1.
   */
  threads?: number;
  /** The kinds to run. Default: from the header's configuration, else from the recorded outputs. */
  actors?: readonly string[];
  /** Per-kind configuration, over the header's (e.g. to try a detector change on a recording). */
  config?: Record<string, unknown>;
  /** Report the state of this instance at the end (in-process only). */
  inspect?: { kind: string; key: string };
  /** Pacing and timing. Default: the SystemClock. */
  clock?: Clock & Sleeper;
  /** Called with every output the replay produces, in order. */
  onOutput?(subject: string, data: Uint8Array): void;
  /** With `verify`: called with every recorded output the replay's are compared with. */
  onRecordedOutput?(subject: string, data: Uint8Array): void;
  /** Called about every `progressEveryS` seconds, and at the end. */
  onProgress?(progress: ReplayProgress): void;
  progressEveryS?: number;
  /**
   * Live cluster: how long to wait for outputs after the last input once they stop coming. Default
   * 2 s.
   */
  settleS?: number;
  /** Where the in-process host reports (restarts, failures). Default: kept in `result.hostLog`. */
  log?(message: string): void;
}

/** Progress of a replay. */
export interface ReplayProgress {
  /** Bytes of the file read so far, and its size. */
  bytes: number;
  fileBytes: number;
  inputs: number;
  outputs: number;
  /** Receive time of the last record read (µs). */
  tUs: number;
}

/** What a replay did. */
export interface ReplayResult extends ReplayCounts {
  path: string;
  header: RecordingHeader;
  /** Where the recording stopped short, if it did. */
  cut: RecordingCut | undefined;
  /**
   * Whether the recording was whole: closed by its writer, its trailer agreeing with what was
   * read; undefined for format 2, which has no trailer, and when the replay stopped at `toUs`
   * before the recording's end (its trailer was not read, so a whole one is not called unclosed).
   */
  whole: boolean | undefined;
  /** Complete records read, and the bytes they and the header take. */
  records: number;
  recordBytes: number;
  /** The kinds run, and recorded kinds that could not be (unknown to this troupe). */
  kinds: string[];
  /** Worker threads the actors ran on; 0: in this thread (or in a live cluster). */
  threads: number;
  skippedKinds: string[];
  /**
   * Kinds run but not compared by `verify`, and why: the recording was made with another version
   * of the kind (its outputs may differ by design), or its findings come from such a kind (the
   * incident stage's).
   */
  uncompared: UncomparedKind[];
  /** Whether the recording notes its kinds' versions (older files do not: all are compared). */
  versionsNoted: boolean;
  deadLetters: { recorded: number; replayed: number };
  /**
   * The live host's clock ticks the recording holds, and how many the replay applied after the
   * input each came after (the others came after an input the replay did not take).
   */
  ticks: { recorded: number; placed: number };
  elapsedS: number;
  /** Recorded seconds replayed per second. */
  speedAchieved: number;
  verify: ReplayVerification | undefined;
  inspect: ReplayInspection | undefined;
  hostLog: string[];
  /**
   * A recording begun mid-session (it has a start section): the instances loaded from it before
   * the first input, the hosts that answered, and the recorded outputs not compared because
   * inputs before the start caused them; undefined for a recording without one.
   */
  start: ReplayStart | undefined;
}

export { ReplayError } from "./replay_error.ts";
export type { UncomparedKind } from "./_replay_uncompared.ts";
export type { ReplayStart } from "./_replay_start.ts";

/** Recordings at least this big replay on worker threads by default (at maximum speed): about
 *  250k samples; below, starting the threads (~60 ms each, and ~80 ms to bundle on Node) costs
 *  more than they save. */
export const THREADS_MIN_FILE_BYTES = 4 << 20;
/** Worker threads used by default, at most. */
export const THREADS_DEFAULT_MAX = 4;
/** Worker threads, at most. */
export const THREADS_MAX = 64;

/** Replays the recording at `path`. */
export async function replay(path: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const speed = options.speed ?? Infinity;
  if (!(speed > 0)) throw new RangeError(`Replay speed must be > 0, got ${speed}`);
  const clock = options.clock ?? new SystemClock();
  const registry = options.registry ?? ACTOR_KINDS;
  const reader = await RecordingReader.open(path);
  const header = reader.header;
  const verify = options.verify ?? false;
  const hostLog: string[] = [];
  const start = reader.start;
  if (start && options.bus) throw liveStartRefusal(path);
  // The start state loads into one host: its instances are not split across threads.
  const threads = start ? 1 : threadsFor(options, registry, speed, reader.fileBytes);
  const kinds = await kindsToReplay(path, reader, registry, options);
  if (options.bus && options.inspect) {
    throw new ReplayError("Inspecting an actor needs the in-process replay (no live cluster)");
  }
  const started = start ? startOf(start, kinds.kinds, registry) : undefined;
  // A recording begun mid-session holds no incident stage's state at its start: its incident
  // updates are not made again nor compared (the result says so).
  const incidents = options.bus || started ? undefined : incidentsOf(header);
  const uncompared = uncomparedKinds(header, kinds.kinds, registry, incidents !== undefined);
  const reading = new ReplayReading(
    reader,
    readingOptions(options, kinds.kinds, incidents, uncompared, {
      speed,
      clock,
      findingsOnce: header.findings_once,
    }, started),
  );
  const actors = await startActors({
    path,
    kinds: kinds.kinds,
    registry,
    registryModule: options.registryModule === undefined
      ? undefined
      : String(options.registryModule),
    config: configOf(kinds.kinds, header, options, start),
    limits: limitsOf(header, registry),
    threads,
    bus: options.bus,
    outputBytes: verify || options.onOutput !== undefined,
    reading,
    start: started?.instances,
    log: options.log ?? ((m: string) => hostLog.push(m)),
  }).catch((err) => {
    throw replayError(err);
  });
  try {
    await reading.read(actors.sink);
    await actors.sink.flush();
    reading.releaseHeld();
    if (options.bus) {
      await settle(clock, options.settleS ?? 2, () => reading.outputs, () => reading.cmp.waiting);
    }
    const elapsedS = (clock.now() - reading.t0) / 1e6;
    const found = await actors.finish(options.inspect);
    if (found && "streams" in found) {
      throw new ReplayError(noSuchInstance(options.inspect!, found.streams));
    }
    reading.progress();
    return resultOf(path, reader, reading, {
      start: started &&
        startResult(start!, started, reading.beforeStart, incidentsOf(header) !== undefined),
      kinds,
      uncompared,
      actors,
      found,
      elapsedS,
      verify,
      acceptUnclosed: options.acceptUnclosed ?? false,
      hostLog,
    });
  } catch (err) {
    throw replayError(err);
  } finally {
    await actors.close();
  }
}

/** What the reading of a replay is told. */
function readingOptions(
  options: ReplayOptions,
  kinds: string[],
  incidents: IncidentConfig | undefined,
  uncompared: readonly UncomparedKind[],
  how: { speed: number; clock: Clock & Sleeper; findingsOnce: boolean },
  started: { held: Map<string, { has(id: string): boolean }> } | undefined,
): ConstructorParameters<typeof ReplayReading>[1] {
  const replayed = ReplayReading.replayedKinds(kinds, incidents !== undefined);
  const compared = new Set(replayed);
  for (const u of uncompared) compared.delete(u.kind);
  return {
    ...(started ? { held: started.held } : {}),
    replayed,
    compared,
    ...(incidents ? { incidents } : {}),
    verify: options.verify ?? false,
    fromUs: options.fromUs ?? -Infinity,
    toUs: options.toUs ?? Infinity,
    speed: how.speed,
    clock: how.clock,
    findingsOnce: how.findingsOnce,
    progressEveryS: options.progressEveryS ?? 0.5,
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    ...(options.onRecordedOutput ? { onRecordedOutput: options.onRecordedOutput } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
}

/**
 * The incident stage's configuration of the recorded cluster (`config.incidents` in its header),
 * or undefined where none ran: then no incidents are made nor compared.
 */
function incidentsOf(header: RecordingHeader): IncidentConfig | undefined {
  const raw = header.config?.incidents;
  if (raw === undefined) return undefined;
  try {
    return parseIncidentConfig(raw, recordedIncidentBase(raw), "config.incidents");
  } catch (err) {
    throw new ReplayError(`The recording's header: ${(err as Error).message}`);
  }
}

/** A finished replay's result, from its reading and its actors. */
function resultOf(
  path: string,
  reader: RecordingReader,
  r: ReplayReading,
  done: {
    start: ReplayStart | undefined;
    kinds: Awaited<ReturnType<typeof kindsToReplay>>;
    uncompared: UncomparedKind[];
    actors: Awaited<ReturnType<typeof startActors>>;
    found: ReplayResult["inspect"];
    elapsedS: number;
    verify: boolean;
    acceptUnclosed: boolean;
    hostLog: string[];
  },
): ReplayResult {
  const { kinds, actors, elapsedS } = done;
  const recordBytes = reader.cut?.offset ?? (reader.trailer?.bytes ?? reader.fileBytes);
  const whole = r.stoppedEarly ? undefined : reader.whole;
  const unclosed = whole === false ? { records: reader.records, bytes: recordBytes } : undefined;
  const spanS = r.firstUs !== null && r.lastUs !== null ? (r.lastUs - r.firstUs) / 1e6 : 0;
  const cut = r.tail ? undefined : reader.cut;
  return {
    path,
    header: reader.header,
    cut,
    whole,
    records: reader.records,
    recordBytes,
    kinds: kinds.kinds,
    threads: actors.threads,
    skippedKinds: kinds.skippedKinds,
    uncompared: done.uncompared,
    versionsNoted: reader.header.versions !== null,
    ...r.counts(),
    deadLetters: { recorded: r.dlqRecorded, replayed: actors.deadLetters() },
    ticks: actors.ticks(),
    elapsedS,
    speedAchieved: elapsedS > 0 ? spanS / elapsedS : 0,
    verify: done.verify
      ? withUnclosed(
        withUnread(
          r.cmp.finish(
            reader.cut !== undefined && !r.tail,
            reader.trailer?.outputsCut === true && !r.tail,
          ),
          cut,
        ),
        unclosed,
        done.acceptUnclosed,
      )
      : undefined,
    inspect: done.found,
    hostLog: done.hostLog,
    start: done.start,
  };
}

/** A worker thread's error as a ReplayError (what a caller catches); others as they are. */
function replayError(err: unknown): unknown {
  return err instanceof ReplayThreadError ? new ReplayError(err.message, { cause: err }) : err;
}

/**
 * Per kind, the configuration its new instances start with: the start section's (what the hosts
 * applied when the recording began), else the header's, with `options.config`'s over it.
 */
function configOf(
  kinds: readonly string[],
  header: RecordingHeader,
  options: ReplayOptions,
  start: RecordingStart | undefined,
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const live = start ? startKindConfigs(start) : undefined;
  for (const kind of kinds) {
    const fromHeader = live?.get(kind) ?? header.config?.actors?.[kind];
    const override = options.config?.[kind];
    const base = fromHeader ?? {};
    config[kind] = override === undefined
      ? base
      : { ...(base as Record<string, unknown>), ...(override as Record<string, unknown>) };
  }
  return config;
}

/**
 * The kinds to replay (see chooseKinds); throws when none can be, or `verify` has nothing to
 * compare.
 */
async function kindsToReplay(
  path: string,
  reader: RecordingReader,
  registry: Readonly<Record<string, AnyActorDefinition>>,
  options: ReplayOptions,
): Promise<{ kinds: string[]; skippedKinds: string[] }> {
  const { kinds, skippedKinds, fromOutputs } = await chooseKinds(reader, registry, options);
  const header = reader.header;
  if (options.verify && !header.config?.actors && options.actors === undefined && !fromOutputs) {
    throw new ReplayError(
      `Cannot verify ${path}: it holds no actor outputs and no configuration to compare with`,
    );
  }
  if (kinds.length === 0) {
    throw new ReplayError(
      `None of the recorded actor kinds (${skippedKinds.join(", ")}) is known to this troupe; ` +
        `it has ${Object.keys(registry).join(", ")}`,
    );
  }
  return { kinds, skippedKinds };
}

/** How many worker threads run the actors (1: this thread). */
function threadsFor(
  options: ReplayOptions,
  registry: Readonly<Record<string, AnyActorDefinition>>,
  speed: number,
  fileBytes: number,
): number {
  const asked = options.threads;
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1 && asked <= THREADS_MAX)) {
    throw new RangeError(
      `Replay threads must be an integer from 1 to ${THREADS_MAX}, got ${asked}`,
    );
  }
  // A custom registry reaches the threads only as a module they can load.
  const loadable = registry === ACTOR_KINDS || options.registryModule !== undefined;
  if (asked !== undefined && asked > 1) {
    if (options.bus) {
      throw new ReplayError(
        "Replay threads run the actors in this process; with a live cluster's bus it runs them",
      );
    }
    if (!loadable) {
      throw new ReplayError(
        "Replay threads need the custom registry as a module they can load: give registryModule",
      );
    }
    return asked;
  }
  if (asked === 1 || options.bus || !loadable) return 1;
  return defaultReplayThreads(fileBytes, speed);
}

/**
 * The worker threads an in-process replay of a recording of `fileBytes` runs on by default: at
 * maximum speed, from `THREADS_MIN_FILE_BYTES` on, one per core up to `THREADS_DEFAULT_MAX`
 * (none on one core); otherwise 1, this thread.
 */
export function defaultReplayThreads(fileBytes: number, speed = Infinity): number {
  if (speed !== Infinity || fileBytes < THREADS_MIN_FILE_BYTES) return 1;
  const n = Math.min(availableParallelism(), THREADS_DEFAULT_MAX);
  return n >= 2 ? n : 1;
}

/** Waits for a live cluster's outputs: until none is awaited, or none came for `settleS`. */
async function settle(
  clock: Clock & Sleeper,
  settleS: number,
  count: () => number,
  waiting: () => number,
): Promise<void> {
  let last = count();
  let quietSince = clock.now();
  const deadline = clock.now() + Math.max(60, settleS * 10) * 1e6;
  while (clock.now() < deadline) {
    if (waiting() === 0 && clock.now() - quietSince >= Math.min(settleS * 1e6, 200_000)) return;
    await clock.sleep(50_000);
    const n = count();
    if (n !== last) {
      last = n;
      quietSince = clock.now();
    } else if (clock.now() - quietSince >= settleS * 1e6) return;
  }
}

/** The kinds to run: asked for, from the header's configuration, or from the recorded outputs. */
async function chooseKinds(
  reader: RecordingReader,
  registry: Readonly<Record<string, AnyActorDefinition>>,
  options: ReplayOptions,
): Promise<{ kinds: string[]; skippedKinds: string[]; fromOutputs: boolean }> {
  const known = Object.keys(registry);
  if (options.actors !== undefined) {
    for (const kind of options.actors) {
      if (!registry[kind]) {
        throw new ReplayError(`Unknown actor kind "${kind}"; this troupe has ${known.join(", ")}`);
      }
    }
    return { kinds: [...options.actors], skippedKinds: [], fromOutputs: false };
  }
  let wanted: string[];
  let fromOutputs = false;
  const configured = reader.header.config?.actors;
  if (configured && typeof configured === "object") {
    wanted = Object.keys(configured);
  } else {
    const seen = new Set<string>();
    for await (const batch of reader.batches()) {
      for (const m of batch) {
        const out = areaOf(m.subject) === "out" ? m.subject : findingOutputSubject(m.subject);
        // The incident stage's outputs are no actor kind's: replay makes them when the header
        // says a stage ran (`incidentsOf`).
        if (out !== undefined && kindOf(out) !== INCIDENT_ACTOR) seen.add(kindOf(out));
      }
    }
    wanted = [...seen];
    fromOutputs = wanted.length > 0;
    if (!fromOutputs) wanted = known; // a recording of feeds only: run every kind on it
  }
  return {
    kinds: wanted.filter((k) => registry[k]),
    skippedKinds: wanted.filter((k) => !registry[k]),
    fromOutputs,
  };
}

/**
 * The live host's limits, from the recording's configuration: its channel limit as `troupe run`
 * sets it (`channels_max`, else what `memory_budget_mb` holds of a channel of its kinds, else what
 * the default budget holds on this machine), so that a replay admits the channels the live host
 * did.
 */
function limitsOf(
  header: RecordingHeader,
  registry: Readonly<Record<string, AnyActorDefinition>>,
): FrameLimits & { channelsMax: number } {
  const raw = header.config?.limits;
  const l = raw && typeof raw === "object" ? raw : {};
  const n = (k: string) => typeof l[k] === "number" ? l[k] as number : undefined;
  const budget = n("memory_budget_mb") ?? memoryBudgetMbDefault();
  const actors = header.config?.actors ??
    Object.fromEntries(Object.keys(registry).map((k) => [k, {}]));
  const limits: FrameLimits & { channelsMax: number } = {
    channelsMax: n("channels_max") ?? channelsFitting(budget, hostHeldBytes(actors, registry)),
  };
  const bytes = n("frame_bytes_max"), samples = n("samples_per_frame_max");
  if (bytes !== undefined) limits.messageBytesMax = bytes;
  if (samples !== undefined) limits.samplesPerFrameMax = samples;
  return limits;
}
