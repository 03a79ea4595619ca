/**
 * A replay reading its recording: inputs before the range are applied at once, inputs in the
 * range at the recorded pace times the speed (or as fast as they go), recorded outputs of the
 * kinds replayed are handed to the comparator, and past the range only the recorded outputs of
 * inputs replayed are still read (for `verify`). It keeps the replay's counters, outputs included
 * (the actors hand theirs to `onOutput` or `onCount`).
 */
import { type IncidentConfig, IncidentStage } from "../../actors/incidents/mod.ts";
import {
  areaPrefix,
  decodeValue,
  findingActors,
  findingOutputSubject,
  INCIDENT_ACTOR,
  isIncidentControlSubject,
  PROGRESS_PATTERN,
  SUBJECT_ROOT,
  subjectMatches,
} from "../../protocol/mod.ts";
import type { Clock, Sleeper } from "../clock.ts";
import { OutputComparator } from "./_replay_compare.ts";
import { outputLane } from "./_output_lane.ts";
import type { RecordedMessage } from "./recording.ts";
import type { RecordingReader } from "./recording_reader.ts";
import { StageFindingOrder } from "./_stage_finding_order.ts";

/** Inputs published between two flushes of the bus, at most: bounds what is in flight. */
const FLUSH_EVERY_INPUTS = 256;
/** Pacing: records due within this many µs are sent now. */
const AHEAD_US = 1000;
/** After `toUs`, recorded outputs are read for this long to find those of replayed inputs. */
const TAIL_US = 10_000_000;

/**
 * Where the replay's inputs go: a bus (a host in this thread, or a live cluster) or the threads.
 */
export interface InputSink {
  publish(area: "feed" | "ctl", subject: string, data: Uint8Array): void;
  /** Called every FLUSH_EVERY_INPUTS inputs: bounds what is in flight. */
  breathe(): Promise<void>;
  /** Resolves when every input so far is applied and its outputs are handed on. */
  flush(): Promise<void>;
}

/** How a replay reads (see ReplayOptions). */
export interface ReplayReadingOptions {
  /** The kinds replayed: recorded outputs of others are not counted. */
  replayed: ReadonlySet<string>;
  /** With `verify`: the kinds whose outputs are compared (of `replayed`; default all of them). */
  compared?: ReadonlySet<string>;
  verify: boolean;
  fromUs: number;
  toUs: number;
  speed: number;
  clock: Clock & Sleeper;
  progressEveryS: number;
  /**
   * The incident stage's configuration, when the recorded cluster ran one (its header says so):
   * the replayed findings go through a stage of their own, whose updates are outputs like the
   * actors' (kind `incident`), compared with the recorded ones.
   */
  incidents?: IncidentConfig;
  /**
   * A recording begun mid-session: per stream, the ids of the inputs its start state holds. A
   * recorded output of that instance caused by one of them is not the replay's to make, so it
   * is neither counted nor compared (`beforeStart` counts it).
   */
  held?: ReadonlyMap<string, { has(id: string): boolean }>;
  /**
   * Whether the recording holds each finding once, on `troupe.finding.<type>.<key>` (its header's
   * `findings_once`): those are then its actors' outputs, keyed by their output subject as the
   * replay's are. An older recording's findings are outputs on `troupe.out.*`, and their copies on
   * `troupe.finding.*` are passed over.
   */
  findingsOnce?: boolean;
  onOutput?(subject: string, data: Uint8Array): void;
  /** With `verify`: each recorded output compared. */
  onRecordedOutput?(subject: string, data: Uint8Array): void;
  onProgress?(progress: {
    bytes: number;
    fileBytes: number;
    inputs: number;
    outputs: number;
    tUs: number;
  }): void;
}

/** A replay's counters, as its result gives them (see ReplayResult). */
export interface ReplayCounts {
  /** Receive times of the first and last inputs replayed in the range (µs), null if none. */
  firstUs: number | null;
  lastUs: number | null;
  /**
   * Inputs applied before the range (unpaced) and in it; the range's frames, control messages,
   * samples.
   */
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
}

/** One replay's reading of its recording, and its counters. */
export class ReplayReading {
  readonly cmp = new OutputComparator();
  outputs = 0;
  rangeOutputs = 0;
  inRange = false;
  warmupInputs = 0;
  inputs = 0;
  frames = 0;
  ctl = 0;
  samples = 0;
  recordedOutputs = 0;
  /** Recorded outputs caused by inputs the start state holds: not the replay's, not compared. */
  beforeStart = 0;
  dlqRecorded = 0;
  firstUs: number | null = null;
  lastUs: number | null = null;
  /** The reading went past the range (the recording's end was not reached). */
  tail = false;
  /** Whether reading stopped at `toUs` before the recording's end (its trailer was not read). */
  stoppedEarly = false;
  /** When the reading started (the clock's µs). */
  t0 = 0;
  readonly #reader: RecordingReader;
  readonly #options: ReplayReadingOptions;
  readonly #stage: IncidentStage | undefined;
  /** When the recording holds each finding once: the stage takes them in its order. */
  #order: StageFindingOrder | undefined;
  readonly #notReplayed = new Set<string>();
  /**
   * Output subjects, per lane (`columns` and `machine`: _output_lane.ts), past the outputs
   * caused by inputs the start state holds: the columns of the range's first inputs may be
   * recorded before the last finding of an input the start state holds.
   */
  readonly #pastStart = { columns: new Set<string>(), machine: new Set<string>() };
  /**
   * The ids of every input the recording holds, of a recording begun mid-session (undefined past
   * RECORDED_INPUTS_TRACKED_MAX, or without a start state). Read before the replay, not as it
   * goes: the bus orders what one publisher sends, not an input and the output it caused. The
   * input's publisher may hand it to a host before the recorder, and the host's output overtake
   * it, so an output may be in the file before its input.
   */
  #recordedInputs: Set<string> | undefined;
  #sinceFlush = 0;
  #paceWall = 0;
  #paceUs = 0;
  #nextProgress = 0;
  #bytes: number;
  #lastRecordUs = 0;

  constructor(reader: RecordingReader, options: ReplayReadingOptions) {
    this.#reader = reader;
    this.#options = options;
    this.#bytes = reader.headerBytes;
    this.#stage = options.incidents === undefined
      ? undefined
      : new IncidentStage({ config: options.incidents, publish: this.#output });
    this.#findingActors = new Set(findingActors());
  }

  /** The actor kinds that declared findings: their outputs go through the incident stage. */
  readonly #findingActors: ReadonlySet<string>;

  /** The kinds whose outputs this replay produces and compares: the actors' and `incident`. */
  static replayedKinds(kinds: readonly string[], incidents: boolean): Set<string> {
    return new Set(incidents ? [...kinds, INCIDENT_ACTOR] : kinds);
  }

  /** An output the actors published (a finding also goes through the incident stage). */
  readonly onOutput = (subject: string, data: Uint8Array): void => {
    this.#output(subject, data);
    if (!this.#stage || !this.#findingActors.has(kindOf(subject))) return;
    if (this.#order) this.#order.replayed(envelopeField(data, "id"), data);
    else this.#stage.take(data);
  };

  /** The recording is read through: the stage takes the replayed findings still held back. */
  releaseHeld(): void {
    this.#order?.release();
  }

  /**
   * In one pass before the replay's, what the recording holds that the replay must know ahead:
   * with `findings`, the ids of its findings (each once, on `troupe.finding.*`); with `inputs`, the
   * ids of its inputs up to `toUs`, those the replay applies (undefined past
   * RECORDED_INPUTS_TRACKED_MAX).
   */
  async #prescan(
    findings: boolean,
    inputs: boolean,
  ): Promise<{ findings: Set<string>; inputs: Set<string> | undefined }> {
    const found = { findings: new Set<string>(), inputs: inputs ? new Set<string>() : undefined };
    if (!findings && !inputs) return found;
    const toUs = this.#options.toUs;
    for await (const batch of this.#reader.batches()) {
      for (const m of batch) {
        if (!findings && m.tUs > toUs) return found;
        const area = isIncidentControlSubject(m.subject) ? "ctl" : areaOf(m.subject);
        let into: Set<string> | undefined;
        if (area === "feed" || area === "ctl") into = m.tUs > toUs ? undefined : found.inputs;
        else if (findings && area === "finding" && findingOutputSubject(m.subject)) {
          into = found.findings;
        }
        const id = into === undefined ? undefined : envelopeField(m.data, "id");
        if (id !== undefined) into!.add(id);
        // Past the bound an output of an input not recorded is compared, as before this was kept.
        if (found.inputs && found.inputs.size > RECORDED_INPUTS_TRACKED_MAX) {
          found.inputs = undefined;
        }
      }
    }
    return found;
  }

  readonly #output = (subject: string, data: Uint8Array): void => {
    if (!this.#options.replayed.has(kindOf(subject))) return;
    this.outputs++;
    if (this.inRange) this.rangeOutputs++;
    this.#options.onOutput?.(subject, data);
    if (this.#options.verify && this.#compares(subject)) this.cmp.replayed(subject, data);
  };

  /** Whether `verify` compares the outputs on `subject`. */
  #compares(subject: string): boolean {
    return this.#options.compared === undefined || this.#options.compared.has(kindOf(subject));
  }

  /** Outputs the actors published, counted only. */
  readonly onCount = (n: number): void => {
    this.outputs += n;
    if (this.inRange) this.rangeOutputs += n;
  };

  /** The counters, as a replay's result gives them. */
  counts(): ReplayCounts {
    return {
      firstUs: this.firstUs,
      lastUs: this.lastUs,
      warmupInputs: this.warmupInputs,
      inputs: this.inputs,
      frames: this.frames,
      ctl: this.ctl,
      samples: this.samples,
      outputs: this.outputs,
      rangeOutputs: this.rangeOutputs,
      recordedOutputs: this.recordedOutputs,
    };
  }

  /** Reports progress. */
  progress(): void {
    this.#options.onProgress?.({
      bytes: this.#bytes,
      fileBytes: this.#reader.fileBytes,
      inputs: this.warmupInputs + this.inputs,
      outputs: this.outputs,
      tUs: this.#lastRecordUs,
    });
  }

  /** Reads the recording through, handing its inputs to `sink`. */
  async read(sink: InputSink): Promise<void> {
    const { clock, toUs, verify } = this.#options;
    const stage = this.#stage;
    const findings = stage !== undefined && this.#options.findingsOnce === true;
    const held = this.#options.held;
    const ahead = await this.#prescan(findings, held !== undefined && held.size > 0);
    if (stage && findings) {
      this.#order = new StageFindingOrder(ahead.findings, (d) => stage.take(d));
    }
    this.#recordedInputs = ahead.inputs;
    this.t0 = clock.now();
    this.#nextProgress = this.t0 + this.#options.progressEveryS * 1e6;
    for await (const batch of this.#reader.batches()) {
      for (const m of batch) {
        this.#bytes = m.offset + 8 + m.data.byteLength;
        this.#lastRecordUs = m.tUs;
        // The incident stage's control (under troupe.req.) is an input like the hosts' control.
        const area = isIncidentControlSubject(m.subject) ? "ctl" : areaOf(m.subject);
        if (m.tUs > toUs) {
          // Past the range: only recorded outputs of replayed inputs are still wanted.
          if (!verify || m.tUs > toUs + TAIL_US) {
            this.stoppedEarly = true;
            return;
          }
          this.#past(m, area);
        } else if (area === "feed" || area === "ctl") {
          await this.#input(m, area, sink);
        } else if (
          area === "finding" && this.#stage && subjectMatches(PROGRESS_PATTERN, m.subject)
        ) {
          // A host's progress mark, an input of the stage: in its place after the findings of
          // the inputs recorded before it, as the live stage took it after theirs.
          await sink.flush();
          this.#order?.settle();
          this.#stage.takeRecord(m.data);
        } else if (area === "out" || area === "finding") {
          const o = this.#asOutput(m, area);
          if (o === undefined) continue;
          if (area === "finding") this.#order?.recorded(envelopeField(o.data, "id"));
          if (!this.#options.replayed.has(kindOf(o.subject)) || this.#beforeStart(o)) continue;
          this.recordedOutputs++;
          if (verify && this.#compares(o.subject)) this.#recorded(o);
        } else if (area === "dlq") {
          this.dlqRecorded++;
        }
      }
    }
  }

  /** A record past the range: inputs are noted as not replayed, outputs of replayed ones kept. */
  #past(m: RecordedMessage, area: string): void {
    this.tail = true;
    if (area === "feed" || area === "ctl") {
      const id = envelopeField(m.data, "id");
      if (id !== undefined) this.#notReplayed.add(id);
      return;
    }
    const o = area === "out" || area === "finding" ? this.#asOutput(m, area) : undefined;
    if (o && area === "finding") this.#order?.recorded(envelopeField(o.data, "id"));
    if (o && this.#options.replayed.has(kindOf(o.subject)) && !this.#beforeStart(o)) {
      const cause = envelopeField(o.data, "cause");
      if (cause !== undefined && this.#notReplayed.has(cause)) return;
      this.recordedOutputs++;
      if (this.#compares(o.subject)) this.#recorded(o);
    }
  }

  /**
   * A recorded output as the replay keys it: an actor's output as recorded, a finding by its
   * actor's output subject where the recording holds findings once, else undefined (a progress
   * mark, a silence table, an older recording's copy of a finding).
   */
  #asOutput(m: RecordedMessage, area: "out" | "finding"): RecordedMessage | undefined {
    if (area === "out") return m;
    if (!this.#options.findingsOnce) return undefined;
    const subject = findingOutputSubject(m.subject);
    return subject === undefined ? undefined : { ...m, subject };
  }

  /**
   * Whether a recorded output was caused by an input before the recording: one its instance's
   * start state holds, or one the recording does not hold (before or after the output; one past
   * the range is not replayed, and its outputs are passed over as such).
   * The second is an instance that lagged its inputs: the outputs of inputs it applied before the
   * start, the oldest past the window of ids its state keeps, came after the recorder subscribed.
   * On each subject and lane, only the outputs before the first of a replayed input are such.
   */
  #beforeStart(m: RecordedMessage): boolean {
    const held = this.#options.held;
    if (held === undefined || held.size === 0) return false;
    const pastStart = this.#pastStart[outputLane(m.data)];
    if (pastStart.has(m.subject)) return false;
    const ids = held.get(streamOfOutput(m.subject));
    const cause = envelopeField(m.data, "cause");
    const unrecorded = cause !== undefined && this.#recordedInputs?.has(cause) === false &&
      !this.#notReplayed.has(cause);
    if (cause === undefined || (!ids?.has(cause) && !unrecorded)) {
      // Each lane of an instance's outputs follows its inputs: after one of a recorded input, none.
      pastStart.add(m.subject);
      return false;
    }
    this.beforeStart++;
    return true;
  }

  /** A recorded silence table or ack for the replay's stage (a malformed one was refused live). */
  #incidentControl(data: Uint8Array): void {
    try {
      this.#stage?.control(data);
    } catch {
      // Live, the stage dead-lettered it and changed nothing: so here.
    }
  }

  /** A recorded output to compare with the replay's. */
  #recorded(m: RecordedMessage): void {
    this.cmp.recorded(m.subject, m.data.slice(), m.index);
    this.#options.onRecordedOutput?.(m.subject, m.data);
  }

  /** An input, before the range (applied at once) or in it (paced). */
  async #input(m: RecordedMessage, area: "feed" | "ctl", sink: InputSink): Promise<void> {
    const { clock, speed } = this.#options;
    if (m.tUs >= this.#options.fromUs) {
      if (!this.inRange) {
        await sink.flush(); // the warm-up's outputs are out
        this.inRange = true;
        this.firstUs = m.tUs;
        this.#paceWall = clock.now();
        this.#paceUs = m.tUs;
      }
      if (speed !== Infinity) {
        const due = this.#paceWall + (m.tUs - this.#paceUs) / speed;
        if (due - clock.now() > AHEAD_US) {
          await sink.flush();
          await clock.sleep(due - clock.now());
          this.#sinceFlush = 0;
        }
      }
      this.inputs++;
      this.lastUs = m.tUs;
      if (area === "feed") {
        this.frames++;
        this.samples += frameSamples(m.data);
      } else this.ctl++;
    } else this.warmupInputs++;
    // Its silence tables go to the replay's stage (and, published, to a live one under --nats).
    if (area === "ctl" && isIncidentControlSubject(m.subject)) this.#incidentControl(m.data);
    sink.publish(area, m.subject, m.data);
    if (++this.#sinceFlush >= FLUSH_EVERY_INPUTS) {
      await sink.breathe();
      this.#sinceFlush = 0;
      if (this.#options.onProgress && clock.now() >= this.#nextProgress) {
        this.progress();
        this.#nextProgress = clock.now() + this.#options.progressEveryS * 1e6;
      }
    }
  }
}

/** Input ids a replay of a recording begun mid-session keeps, at most (see ReplayReading). */
const RECORDED_INPUTS_TRACKED_MAX = 1_000_000;

/** `feed`, `ctl`, `out`, `dlq`, ... of a troupe subject; "" for others. */
export function areaOf(subject: string): string {
  if (!subject.startsWith(ROOT_PREFIX)) return "";
  const start = ROOT_PREFIX.length;
  const end = subject.indexOf(".", start);
  return end < 0 ? subject.slice(start) : subject.slice(start, end);
}

const ROOT_PREFIX = `${SUBJECT_ROOT}.`;
const OUT_PREFIX = areaPrefix("out");

/** The `<kind>` of `troupe.out.<kind>.<key>`. */
export function kindOf(subject: string): string {
  const start = OUT_PREFIX.length;
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

/** `<kind>/<key>` of an output subject `troupe.out.<kind>.<key>`. */
function streamOfOutput(subject: string): string {
  const parts = subject.split(".");
  return `${parts[2] ?? ""}/${parts.slice(3).join(".")}`;
}
