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
 * configuration in the header, the kinds whose outputs it holds). Given a `bus`, the inputs are
 * published there instead, into a live cluster, and its outputs are collected from it.
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
import type { AnyActorDefinition } from "../actors/runtime/actor_definition.ts";
import type { ActorInstance } from "../actors/runtime/actor_instance.ts";
import { Host } from "../actors/runtime/host.ts";
import { InProcessBus } from "../actors/runtime/in_process_bus.ts";
import type { Journal, JournalRecord, JournalStats } from "../actors/runtime/journal.ts";
import { MemorySnapshotStore } from "../actors/runtime/memory_snapshot_store.ts";
import type { Snapshot, SnapshotStore } from "../actors/runtime/snapshot_store.ts";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { type Bus, decodeValue, type FrameLimits, SUBJECT_ROOT } from "../protocol/mod.ts";
import { type Clock, type Sleeper, SystemClock } from "./clock.ts";
import { type RecordingCut, type RecordingHeader, RecordingReader } from "./recording.ts";

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

/** The state of an instance at the end of a replay. */
export interface ReplayInspection {
  kind: string;
  key: string;
  /** The instance's journal position: its records so far (its starting configuration included). */
  journalPosition: number;
  machine: { value: unknown; status: unknown; context: unknown };
  /** The kernel state as JSON (typed arrays as arrays, long ones shortened), and its saved size. */
  kernel: unknown;
  kernelBytes: number;
}

/** What a replay did. */
export interface ReplayResult {
  path: string;
  header: RecordingHeader;
  /** Where the recording stopped short, if it did. */
  cut: RecordingCut | undefined;
  /** The kinds run, and recorded kinds that could not be (unknown to this troupe). */
  kinds: string[];
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

  // The actors: a fresh host in this process, or a live cluster behind options.bus.
  let host: Host | undefined;
  let bus: Bus;
  if (options.bus) {
    if (options.inspect) {
      throw new ReplayError("Inspecting an actor needs the in-process replay (no live cluster)");
    }
    bus = options.bus;
  } else {
    bus = new InProcessBus();
    const config: Record<string, unknown> = {};
    for (const kind of kinds) {
      const fromHeader = header.config?.actors?.[kind];
      const override = options.config?.[kind];
      const base = fromHeader ?? {};
      config[kind] = override === undefined
        ? base
        : { ...(base as Record<string, unknown>), ...(override as Record<string, unknown>) };
    }
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

  const cmp = new OutputComparator();
  let outputs = 0, rangeOutputs = 0, inRange = false, dlqReplayed = 0;
  const subs = [
    bus.subscribe(`${SUBJECT_ROOT}.out.>`, (msg) => {
      if (!replayed.has(kindOf(msg.subject))) return;
      outputs++;
      if (inRange) rangeOutputs++;
      options.onOutput?.(msg.subject, msg.data);
      if (verify) cmp.replayed(msg.subject, msg.data);
    }),
    bus.subscribe(`${SUBJECT_ROOT}.dlq.>`, () => dlqReplayed++),
  ];

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
              await bus.flush(); // the warm-up's outputs are out
              inRange = true;
              firstUs = m.tUs;
              paceWall = clock.now();
              paceUs = m.tUs;
            }
            if (speed !== Infinity) {
              const due = paceWall + (m.tUs - paceUs) / speed;
              const now = clock.now();
              if (due - now > AHEAD_US) {
                await bus.flush();
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
          bus.publish(m.subject, m.data);
          if (++sinceFlush >= FLUSH_EVERY_INPUTS) {
            await bus.flush();
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
    await bus.flush();
    if (options.bus) await settle(clock, options.settleS ?? 2, () => outputs, () => cmp.waiting);
    const elapsedS = (clock.now() - t0) / 1e6;
    let inspect: ReplayInspection | undefined;
    if (options.inspect && host) inspect = inspectInstance(host, options.inspect);
    progress();
    const spanS = firstUs !== null && lastUs !== null ? (lastUs - firstUs) / 1e6 : 0;
    return {
      path,
      header,
      cut: tail ? undefined : reader.cut,
      kinds,
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
  } finally {
    for (const sub of subs) sub.unsubscribe();
    if (host) {
      await host.stop();
      await bus.close();
    }
  }
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

// --- inspection --------------------------------------------------------------------------------

function inspectInstance(host: Host, which: { kind: string; key: string }): ReplayInspection {
  const inst: ActorInstance | undefined = host.instance(which.kind, which.key);
  if (!inst) {
    const names = host.instances().map((i) => i.stream);
    const shown = names.slice(0, 12).join(", ");
    throw new ReplayError(
      `No actor ${which.kind}/${which.key} ran in this replay; ${
        names.length
          ? `there were ${names.length}: ${shown}${names.length > 12 ? ", ..." : ""}`
          : "none ran"
      }`,
    );
  }
  const snap = inst.snapshot();
  const machine = (snap.machine ?? {}) as Record<string, unknown>;
  return {
    kind: which.kind,
    key: which.key,
    journalPosition: inst.pos,
    machine: { value: machine.value, status: machine.status, context: jsonable(machine.context) },
    kernel: jsonable(inst.kernelState),
    kernelBytes: snap.kernel.byteLength,
  };
}

const ARRAY_SHOWN_MAX = 64;

/** A JSON-safe view of a value: typed arrays as arrays (long ones cut), non-finite numbers as strings. */
export function jsonable(value: unknown, depth = 0): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? undefined : value;
  }
  if (depth > 6) return "…";
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number | bigint>);
    const shown = arr.slice(0, ARRAY_SHOWN_MAX).map((x) => jsonable(x, depth + 1));
    return arr.length > ARRAY_SHOWN_MAX
      ? { type: value.constructor.name, length: arr.length, first: shown }
      : shown;
  }
  if (Array.isArray(value)) {
    const shown = value.slice(0, ARRAY_SHOWN_MAX).map((x) => jsonable(x, depth + 1));
    return value.length > ARRAY_SHOWN_MAX ? { length: value.length, first: shown } : shown;
  }
  if (value instanceof Map) {
    return jsonable(Object.fromEntries([...value].map(([k, v]) => [String(k), v])), depth);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonable(v, depth + 1);
  return out;
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

// --- the in-memory journal of a replay host ----------------------------------------------------

/**
 * The journal of a replay host: in memory, per stream, and compacted when a snapshot is saved, so
 * it holds at most the inputs since each instance's last snapshot. The host appends fresh buffers
 * it never reuses, so they are kept without a copy. A replay host starts from an empty journal, so
 * `readAll` (recovery) has nothing to order across streams.
 */
class ReplayJournal implements Journal {
  #streams = new Map<string, { base: number; records: Uint8Array[] }>();
  #bytes = 0;
  #records = 0;

  append(stream: string, data: Uint8Array): number {
    let s = this.#streams.get(stream);
    if (!s) this.#streams.set(stream, s = { base: 0, records: [] });
    s.records.push(data);
    this.#bytes += data.byteLength;
    this.#records++;
    return s.base + s.records.length;
  }

  lastPosition(stream: string): number {
    const s = this.#streams.get(stream);
    return s ? s.base + s.records.length : 0;
  }

  streams(): string[] {
    return [...this.#streams.keys()];
  }

  async *read(stream: string, after = 0): AsyncIterable<JournalRecord> {
    const s = this.#streams.get(stream);
    if (!s) return;
    for (let i = Math.max(0, after - s.base); i < s.records.length; i++) {
      yield { stream, pos: s.base + i + 1, data: s.records[i]! };
    }
  }

  async *readAll(after?: ReadonlyMap<string, number>): AsyncIterable<JournalRecord> {
    for (const stream of this.#streams.keys()) yield* this.read(stream, after?.get(stream) ?? 0);
  }

  /** Forgets the records of `stream` up to `pos`: a snapshot holds their effect. */
  dropUpTo(stream: string, pos: number): void {
    const s = this.#streams.get(stream);
    if (!s || pos <= s.base) return;
    const n = Math.min(pos - s.base, s.records.length);
    for (let i = 0; i < n; i++) this.#bytes -= s.records[i]!.byteLength;
    s.records.splice(0, n);
    s.base += n;
    this.#records -= n;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  stats(): JournalStats {
    return { bytes: this.#bytes, records: this.#records, truncatedBytes: 0 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** An in-memory snapshot store that compacts the replay journal behind each snapshot it saves. */
class CompactingSnapshots implements SnapshotStore {
  readonly #inner = new MemorySnapshotStore();
  readonly #journal: ReplayJournal;

  constructor(journal: ReplayJournal) {
    this.#journal = journal;
  }

  async save(snapshot: Snapshot): Promise<void> {
    await this.#inner.save(snapshot);
    this.#journal.dropUpTo(snapshot.stream, snapshot.pos);
  }

  load(stream: string): Promise<Snapshot | undefined> {
    return this.#inner.load(stream);
  }

  list(): Promise<string[]> {
    return this.#inner.list();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
