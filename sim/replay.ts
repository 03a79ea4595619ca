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
 * stamps them with its own clock.
 *
 * The range: inputs received before `fromUs` are applied first at full speed without pacing (the
 * actors must reach their state at `fromUs`; their outputs are verified too, since a difference
 * there is the first one); inputs from `fromUs` to `toUs` are paced; replay stops after `toUs`.
 */
import { availableParallelism } from "node:os";
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { Host } from "../actors/runtime/host.ts";
import { InProcessBus } from "../actors/runtime/in_process_bus.ts";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { type Bus, decodeValue, type FrameLimits, SUBJECT_ROOT } from "../protocol/mod.ts";
import {
  inspectInstance,
  jsonable,
  noSuchInstance,
  type ReplayInspection,
} from "./_replay_inspect.ts";
import { CompactingSnapshots, ReplayJournal } from "./_replay_journal.ts";
import { ReplayThreadError, ReplayThreads } from "./_replay_threads.ts";
import { type Clock, type Sleeper, SystemClock } from "./clock.ts";
import { type RecordingCut, type RecordingHeader, RecordingReader } from "./recording.ts";

export { jsonable, type ReplayInspection };

/** Options of `replay`. */
export interface ReplayOptions {
  /** A multiple of the recorded pace (1: as recorded, 10: ten times faster); Infinity: no pacing. Default Infinity. */
  speed?: number;
  /** Replay from this receive time (µs since the epoch); earlier inputs are applied unpaced. */
  fromUs?: number;
  /** Replay up to this receive time (µs since the epoch), inclusive. */
  toUs?: number;
  /** Compare every output with the recorded one. */
  verify?: boolean;
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
  /** Called about every `progressEveryS` seconds, and at the end. */
  onProgress?(progress: ReplayProgress): void;
  progressEveryS?: number;
  /** Live cluster: how long to wait for outputs after the last input once they stop coming. Default 2 s. */
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

/** The first output that differs, or is missing, or is extra. */
export interface ReplayMismatch {
  kind: "different" | "missing" | "extra";
  subject: string;
  /** The output's 0-based index among the outputs on its subject. */
  index: number;
  /** The id of the recorded output (missing, different) and of the replayed one (extra, different). */
  recordedId: string | undefined;
  replayedId: string | undefined;
  /** What differs: `body.mean: recorded 1.5, replayed 1.25`. */
  detail: string;
}

/** What `verify` found. */
export interface ReplayVerification {
  ok: boolean;
  /** Outputs compared and equal. */
  equal: number;
  different: number;
  /** Recorded outputs the replay did not produce, and replayed outputs the recording lacks. */
  missing: number;
  extra: number;
  /** Extra outputs that may have been lost to a cut at the end of the recording. */
  unverifiable: number;
  /** Repeated recorded outputs (an at-least-once redelivery seen by the recorder), skipped. */
  duplicates: number;
  first: ReplayMismatch | undefined;
}

/** What a replay did. */
export interface ReplayResult {
  path: string;
  header: RecordingHeader;
  /** Where the recording stopped short, if it did. */
  cut: RecordingCut | undefined;
  /** The kinds run, and recorded kinds that could not be (unknown to this troupe). */
  kinds: string[];
  /** Worker threads the actors ran on; 0: in this thread (or in a live cluster). */
  threads: number;
  skippedKinds: string[];
  /** Receive times of the first and last inputs replayed in the range (µs), null if none. */
  firstUs: number | null;
  lastUs: number | null;
  /** Inputs applied before the range (unpaced) and in it; the range's frames, control messages, samples. */
  warmupInputs: number;
  inputs: number;
  frames: number;
  ctl: number;
  samples: number;
  /** Outputs produced by the replay, in all and from inputs in the range (in-process exact). */
  outputs: number;
  rangeOutputs: number;
  /** Outputs in the recording from the kinds replayed. */
  recordedOutputs: number;
  deadLetters: { recorded: number; replayed: number };
  elapsedS: number;
  /** Recorded seconds replayed per second. */
  speedAchieved: number;
  verify: ReplayVerification | undefined;
  inspect: ReplayInspection | undefined;
  hostLog: string[];
}

/** A replay that cannot be done as asked (unknown kind, inspect of a missing instance, ...). */
export class ReplayError extends Error {
  override name = "ReplayError";
}

/** Inputs published between two flushes of the bus, at most: bounds what is in flight. */
const FLUSH_EVERY_INPUTS = 256;
/** Pacing: records due within this many µs are sent now. */
const AHEAD_US = 1000;
/** After `toUs`, recorded outputs are read for this long to find those of replayed inputs. */
const TAIL_US = 10_000_000;
/** Snapshots (and with them journal compaction) every this many inputs per instance. */
const SNAPSHOT_EVERY_INPUTS = 256;
/** Recordings at least this big replay on worker threads by default (at maximum speed): about
 *  250k samples; below, starting the threads (~60 ms each, and ~80 ms to bundle on Node) costs
 *  more than they save. */
export const THREADS_MIN_FILE_BYTES = 4 << 20;
/** Worker threads used by default, at most. */
export const THREADS_DEFAULT_MAX = 4;
/** Worker threads, at most. */
export const THREADS_MAX = 64;

/** Where the replay's inputs go: a bus (a host in this thread, or a live cluster) or the threads. */
interface InputSink {
  publish(area: "feed" | "ctl", subject: string, data: Uint8Array): void;
  /** Called every FLUSH_EVERY_INPUTS inputs: bounds what is in flight. */
  breathe(): Promise<void>;
  /** Resolves when every input so far is applied and its outputs are handed on. */
  flush(): Promise<void>;
}

/** Replays the recording at `path`. */
export async function replay(path: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const speed = options.speed ?? Infinity;
  if (!(speed > 0)) throw new RangeError(`Replay speed must be > 0, got ${speed}`);
  const clock = options.clock ?? new SystemClock();
  const registry = options.registry ?? ACTOR_KINDS;
  const reader = await RecordingReader.open(path);
  const header = reader.header;
  const fromUs = options.fromUs ?? -Infinity;
  const toUs = options.toUs ?? Infinity;
  const verify = options.verify ?? false;
  const hostLog: string[] = [];
  const log = options.log ?? ((m: string) => hostLog.push(m));
  const threads = threadsFor(options, registry, speed, reader.fileBytes);

  const { kinds, skippedKinds, fromOutputs } = await chooseKinds(reader, registry, options);
  if (verify && !header.config?.actors && options.actors === undefined && !fromOutputs) {
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
  const replayed = new Set(kinds);

  const cmp = new OutputComparator();
  let outputs = 0, rangeOutputs = 0, inRange = false, dlqReplayed = 0;
  const onOutput = (subject: string, data: Uint8Array) => {
    if (!replayed.has(kindOf(subject))) return;
    outputs++;
    if (inRange) rangeOutputs++;
    options.onOutput?.(subject, data);
    if (verify) cmp.replayed(subject, data);
  };

  // The actors: a fresh host in this thread, hosts on worker threads, or a live cluster.
  let host: Host | undefined;
  let bus: Bus | undefined;
  let pool: ReplayThreads | undefined;
  let sink: InputSink;
  const subs: Array<{ unsubscribe(): void }> = [];
  if (options.bus) {
    if (options.inspect) {
      throw new ReplayError("Inspecting an actor needs the in-process replay (no live cluster)");
    }
    bus = options.bus;
  } else {
    const config: Record<string, unknown> = {};
    for (const kind of kinds) {
      const fromHeader = header.config?.actors?.[kind];
      const override = options.config?.[kind];
      const base = fromHeader ?? {};
      config[kind] = override === undefined
        ? base
        : { ...(base as Record<string, unknown>), ...(override as Record<string, unknown>) };
    }
    if (threads > 1) {
      pool = await ReplayThreads.start({
        threads,
        path,
        kinds,
        registry,
        registryModule: options.registryModule === undefined
          ? undefined
          : String(options.registryModule),
        config,
        limits: limitsOf(header),
        snapshotEveryInputs: SNAPSHOT_EVERY_INPUTS,
        outputs: verify || options.onOutput ? "bytes" : "count",
        onOutput,
        onCount: (n) => {
          outputs += n;
          if (inRange) rangeOutputs += n;
        },
        log,
      }).catch((err) => {
        throw err instanceof ReplayThreadError ? new ReplayError(err.message, { cause: err }) : err;
      });
    } else {
      bus = new InProcessBus();
      const journal = new ReplayJournal();
      host = new Host({
        hostId: "replay",
        bus,
        actors: kinds.map((k) => registry[k]!),
        config,
        journal,
        snapshots: new CompactingSnapshots(journal),
        limits: limitsOf(header),
        snapshotEveryInputs: SNAPSHOT_EVERY_INPUTS,
        snapshotEveryMs: 3_600_000,
        log,
      });
      await host.start();
    }
  }
  if (pool) sink = pool;
  else {
    const b = bus!;
    sink = {
      publish: (_area, subject, data) => b.publish(subject, data),
      breathe: () => b.flush(),
      flush: () => b.flush(),
    };
    subs.push(
      b.subscribe(`${SUBJECT_ROOT}.out.>`, (msg) => onOutput(msg.subject, msg.data)),
      b.subscribe(`${SUBJECT_ROOT}.dlq.>`, () => dlqReplayed++),
    );
  }

  let warmupInputs = 0, inputs = 0, frames = 0, ctl = 0, samples = 0;
  let recordedOutputs = 0, dlqRecorded = 0;
  let firstUs: number | null = null, lastUs: number | null = null;
  let sinceFlush = 0;
  let paceWall = 0, paceUs = 0;
  const notReplayed = new Set<string>();
  let tail = false;
  const t0 = clock.now();
  const progressEveryUs = (options.progressEveryS ?? 0.5) * 1e6;
  let nextProgress = t0 + progressEveryUs;
  let bytes = reader.headerBytes, lastRecordUs = 0;
  const progress = () =>
    options.onProgress?.({
      bytes,
      fileBytes: reader.fileBytes,
      inputs: warmupInputs + inputs,
      outputs,
      tUs: lastRecordUs,
    });

  try {
    read: for await (const batch of reader.batches()) {
      for (const m of batch) {
        bytes = m.offset + 8 + m.data.byteLength;
        lastRecordUs = m.tUs;
        const area = areaOf(m.subject);
        if (m.tUs > toUs) {
          // Past the range: only recorded outputs of replayed inputs are still wanted.
          if (!verify || m.tUs > toUs + TAIL_US) break read;
          tail = true;
          if (area === "feed" || area === "ctl") {
            const id = envelopeField(m.data, "id");
            if (id !== undefined) notReplayed.add(id);
          } else if (area === "out" && replayed.has(kindOf(m.subject))) {
            const cause = envelopeField(m.data, "cause");
            if (cause !== undefined && notReplayed.has(cause)) continue;
            recordedOutputs++;
            cmp.recorded(m.subject, m.data.slice(), m.index);
          }
          continue;
        }
        if (area === "feed" || area === "ctl") {
          if (m.tUs >= fromUs) {
            if (!inRange) {
              await sink.flush(); // the warm-up's outputs are out
              inRange = true;
              firstUs = m.tUs;
              paceWall = clock.now();
              paceUs = m.tUs;
            }
            if (speed !== Infinity) {
              const due = paceWall + (m.tUs - paceUs) / speed;
              const now = clock.now();
              if (due - now > AHEAD_US) {
                await sink.flush();
                await clock.sleep(due - clock.now());
                sinceFlush = 0;
              }
            }
            inputs++;
            lastUs = m.tUs;
            if (area === "feed") {
              frames++;
              samples += frameSamples(m.data);
            } else ctl++;
          } else warmupInputs++;
          sink.publish(area, m.subject, m.data);
          if (++sinceFlush >= FLUSH_EVERY_INPUTS) {
            await sink.breathe();
            sinceFlush = 0;
            if (options.onProgress && clock.now() >= nextProgress) {
              progress();
              nextProgress = clock.now() + progressEveryUs;
            }
          }
        } else if (area === "out") {
          if (!replayed.has(kindOf(m.subject))) continue;
          recordedOutputs++;
          if (verify) cmp.recorded(m.subject, m.data.slice(), m.index);
        } else if (area === "dlq") {
          dlqRecorded++;
        }
      }
    }
    await sink.flush();
    if (options.bus) await settle(clock, options.settleS ?? 2, () => outputs, () => cmp.waiting);
    const elapsedS = (clock.now() - t0) / 1e6;
    let inspect: ReplayInspection | undefined;
    if (pool) {
      const found = await pool.finish(options.inspect);
      dlqReplayed += pool.deadLetters;
      if (found && "streams" in found) {
        throw new ReplayError(noSuchInstance(options.inspect!, found.streams));
      }
      inspect = found;
    } else if (options.inspect && host) {
      const found = inspectInstance(host, options.inspect);
      if ("streams" in found) throw new ReplayError(noSuchInstance(options.inspect, found.streams));
      inspect = found;
    }
    progress();
    const spanS = firstUs !== null && lastUs !== null ? (lastUs - firstUs) / 1e6 : 0;
    return {
      path,
      header,
      cut: tail ? undefined : reader.cut,
      kinds,
      threads: pool ? pool.threads : 0,
      skippedKinds,
      firstUs,
      lastUs,
      warmupInputs,
      inputs,
      frames,
      ctl,
      samples,
      outputs,
      rangeOutputs,
      recordedOutputs,
      deadLetters: { recorded: dlqRecorded, replayed: dlqReplayed },
      elapsedS,
      speedAchieved: elapsedS > 0 ? spanS / elapsedS : 0,
      verify: verify ? cmp.finish(reader.cut !== undefined && !tail) : undefined,
      inspect,
      hostLog,
    };
  } catch (err) {
    throw err instanceof ReplayThreadError ? new ReplayError(err.message, { cause: err }) : err;
  } finally {
    for (const sub of subs) sub.unsubscribe();
    if (pool) await pool.close();
    if (host) {
      await host.stop();
      await bus!.close();
    }
  }
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
      for (const m of batch) if (areaOf(m.subject) === "out") seen.add(kindOf(m.subject));
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

function limitsOf(header: RecordingHeader): FrameLimits & { channelsMax?: number } {
  const l = header.config?.limits;
  const limits: FrameLimits & { channelsMax?: number } = {};
  if (!l || typeof l !== "object") return limits;
  const n = (k: string) => typeof l[k] === "number" ? l[k] as number : undefined;
  const bytes = n("frame_bytes_max"), samples = n("samples_per_frame_max");
  const channels = n("channels_max");
  if (bytes !== undefined) limits.messageBytesMax = bytes;
  if (samples !== undefined) limits.samplesPerFrameMax = samples;
  if (channels !== undefined) limits.channelsMax = channels;
  return limits;
}

/** `feed`, `ctl`, `out`, `dlq`, ... of a troupe subject; "" for others. */
function areaOf(subject: string): string {
  if (!subject.startsWith("troupe.")) return "";
  const end = subject.indexOf(".", 7);
  return end < 0 ? subject.slice(7) : subject.slice(7, end);
}

/** The `<kind>` of `troupe.out.<kind>.<key>`. */
function kindOf(subject: string): string {
  const start = 11; // "troupe.out.".length
  const end = subject.indexOf(".", start);
  return end < 0 ? subject.slice(start) : subject.slice(start, end);
}

/** A string field of an envelope, or undefined when it is not one. */
function envelopeField(data: Uint8Array, field: "id" | "cause"): string | undefined {
  try {
    const m = decodeValue(data) as Record<string, unknown>;
    const v = m?.[field];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The number of samples in a frame message (0 when it is not a readable frame). */
function frameSamples(data: Uint8Array): number {
  try {
    const body = (decodeValue(data) as { body?: { t?: unknown } }).body;
    return body?.t instanceof Uint8Array ? body.t.byteLength >>> 3 : 0;
  } catch {
    return 0;
  }
}

// --- comparing outputs -------------------------------------------------------------------------

interface Pending {
  data: Uint8Array;
  /** Record index (recorded outputs) or arrival order (replayed ones). */
  order: number;
}

interface SubjectState {
  recorded: Pending[];
  replayed: Pending[];
  /** Outputs compared on this subject so far. */
  matched: number;
  lastRecorded: Uint8Array | undefined;
}

/**
 * Compares outputs subject by subject, in order: an instance publishes its outputs in the order of
 * its inputs on its own subject, while outputs of different instances may interleave differently.
 */
class OutputComparator {
  #subjects = new Map<string, SubjectState>();
  #replayedOrder = 0;
  #first: ReplayMismatch | undefined;
  #different = 0;
  #equal = 0;
  #duplicates = 0;
  /** Recorded outputs not yet matched by a replayed one. */
  waiting = 0;

  #state(subject: string): SubjectState {
    let s = this.#subjects.get(subject);
    if (!s) {
      s = { recorded: [], replayed: [], matched: 0, lastRecorded: undefined };
      this.#subjects.set(subject, s);
    }
    return s;
  }

  recorded(subject: string, data: Uint8Array, index: number): void {
    const s = this.#state(subject);
    // The recorder saw the same output twice (redelivery): its id is unique, so equal bytes repeat it.
    if (s.lastRecorded && sameBytes(s.lastRecorded, data)) {
      this.#duplicates++;
      return;
    }
    s.lastRecorded = data;
    const other = s.replayed.shift();
    if (other) this.#compare(subject, s, data, other.data);
    else {
      s.recorded.push({ data, order: index });
      this.waiting++;
    }
  }

  replayed(subject: string, data: Uint8Array): void {
    const s = this.#state(subject);
    const other = s.recorded.shift();
    if (other) {
      this.waiting--;
      this.#compare(subject, s, other.data, data);
    } else s.replayed.push({ data, order: this.#replayedOrder++ });
  }

  #compare(subject: string, s: SubjectState, recorded: Uint8Array, replayed: Uint8Array) {
    const index = s.matched++;
    if (sameBytes(recorded, replayed)) {
      this.#equal++;
      return;
    }
    this.#different++;
    if (!this.#first) {
      const a = safeDecode(recorded), b = safeDecode(replayed);
      this.#first = {
        kind: "different",
        subject,
        index,
        recordedId: idOf(a),
        replayedId: idOf(b),
        detail: firstDifference(a, b, "") ?? "the bytes differ, the decoded values do not",
      };
    }
  }

  /** The verdict. `cut`: the recording stopped short, so outputs past its end cannot be checked. */
  finish(cut: boolean): ReplayVerification {
    let missing = 0, extra = 0, unverifiable = 0;
    let firstMissing: ReplayMismatch & { order: number } | undefined;
    let firstExtra: ReplayMismatch & { order: number } | undefined;
    for (const [subject, s] of this.#subjects) {
      missing += s.recorded.length;
      const m = s.recorded[0];
      if (m && (!firstMissing || m.order < firstMissing.order)) {
        firstMissing = {
          kind: "missing",
          subject,
          index: s.matched,
          recordedId: idOf(safeDecode(m.data)),
          replayedId: undefined,
          detail:
            `the recording has ${s.recorded.length} more output(s) on this subject than the replay produced`,
          order: m.order,
        };
      }
      if (cut) {
        unverifiable += s.replayed.length;
        continue;
      }
      extra += s.replayed.length;
      const e = s.replayed[0];
      if (e && (!firstExtra || e.order < firstExtra.order)) {
        firstExtra = {
          kind: "extra",
          subject,
          index: s.matched,
          recordedId: undefined,
          replayedId: idOf(safeDecode(e.data)),
          detail:
            `the replay produced ${s.replayed.length} output(s) on this subject that the recording does not have`,
          order: e.order,
        };
      }
    }
    const strip = (
      m: (ReplayMismatch & { order: number }) | undefined,
    ): ReplayMismatch | undefined => {
      if (!m) return undefined;
      const { order: _order, ...rest } = m;
      return rest;
    };
    const first = this.#first ?? strip(firstMissing) ?? strip(firstExtra);
    return {
      ok: this.#different === 0 && missing === 0 && extra === 0,
      equal: this.#equal,
      different: this.#different,
      missing,
      extra,
      unverifiable,
      duplicates: this.#duplicates,
      first,
    };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decodeValue(data);
  } catch {
    return data;
  }
}

function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : undefined;
}

/** The path and values of the first difference between two decoded values, or undefined. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  const at = path || "message";
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array)) {
      return `${at}: recorded ${show(a)}, replayed ${show(b)}`;
    }
    if (sameBytes(a, b)) return undefined;
    if (a.byteLength !== b.byteLength) {
      return `${at}: recorded ${a.byteLength} bytes, replayed ${b.byteLength} bytes`;
    }
    let i = 0;
    while (a[i] === b[i]) i++;
    if (a.byteLength % 8 === 0) {
      const k = i >>> 3;
      const va = new DataView(a.buffer, a.byteOffset + k * 8, 8).getFloat64(0, true);
      const vb = new DataView(b.buffer, b.byteOffset + k * 8, 8).getFloat64(0, true);
      return `${at}[${k}] (8-byte values): recorded ${va}, replayed ${vb}`;
    }
    return `${at}: byte ${i} differs: recorded ${a[i]}, replayed ${b[i]}`;
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    if (Array.isArray(a) !== Array.isArray(b)) {
      return `${at}: recorded ${show(a)}, replayed ${show(b)}`;
    }
    const ka = Object.keys(a), kb = Object.keys(b);
    for (const k of ka) {
      if (!(k in b)) {
        return `${path ? `${path}.` : ""}${k}: recorded ${
          show((a as Record<string, unknown>)[k])
        }, replayed absent`;
      }
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      );
      if (d) return d;
    }
    for (const k of kb) {
      if (!(k in a)) {
        return `${path ? `${path}.` : ""}${k}: recorded absent, replayed ${
          show((b as Record<string, unknown>)[k])
        }`;
      }
    }
    if (ka.join() !== kb.join()) return `${at}: the fields come in another order`;
    return undefined;
  }
  if (Object.is(a, b)) return undefined;
  if (typeof a === "number" && typeof b === "number" && a === b) {
    return `${at}: ${a} encoded differently`;
  }
  return `${at}: recorded ${show(a)}, replayed ${show(b)}`;
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) {
    return String(v);
  }
  const s = JSON.stringify(jsonable(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
