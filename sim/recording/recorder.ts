/**
 * The recorder: subscribes to a bus (in-process or NATS) and appends every message it receives to
 * a recording file (see `recording.ts`), with its subject, headers and receive time. Started
 * before anything is published (`troupe up --record`), a recording holds a whole session from its
 * first input, which is what `troupe replay --verify` needs to reproduce every output. Attached to
 * a running cluster (`troupe record`, `Recorder.begin`), it subscribes first, then asks every
 * host for its actors' state (a state capture, protocol/state_capture.ts) and writes the answers
 * as the file's start section before what it received meanwhile, so that the recording replays
 * from that state.
 */
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  type Bus,
  type BusMessage,
  type BusSubscription,
  decodeValue,
  RECORDED_SUBJECTS,
  stateCaptureSubject,
} from "../../protocol/mod.ts";
import { type Clock, SystemClock } from "../clock.ts";
import { type CaptureOutcome, captureState, type StateCaptureOptions } from "./capture_state.ts";
import type { RecordingHeaderInit, RecordingKindModule } from "./recording.ts";
import type { RecordingStart } from "./recording_start.ts";
import { RecordingWriter, type RecordingWriterOptions } from "./recording_writer.ts";

/** Input ids a recorder begun mid-session keeps to tell, as it ends, whose outputs to take. */
export const RECORDED_INPUT_IDS_MAX = 100_000;

/**
 * A recorder ending waits for the last outputs at least this many times the longest an output of a
 * recorded input came after that input: an instance lagging its inputs (a loaded host, a journal's
 * round trips per input) sends its last outputs that long after the last input.
 */
export const OUTPUTS_QUIET_LAGS = 2;

/** Bytes a recorder holds while the hosts answer its state capture, at most. */
export const CAPTURE_QUEUE_BYTES_MAX = 256 << 20;

/** Options of `Recorder.start`. */
export interface RecorderOptions extends RecordingWriterOptions {
  /** The file to write (created or truncated). */
  path: string;
  /**
   * Header fields: source, bus, config, seed (subjects and times are filled in; versions, when not
   * given, are this troupe's kinds' versions).
   */
  header: RecordingHeaderInit;
  /** Subject patterns to record, not overlapping. Default RECORDED_SUBJECTS: all but requests. */
  subjects?: readonly string[];
  /** Receive times come from here. Default: the SystemClock. */
  clock?: Clock;
}

/** What a recorder wrote, by subject area (`feed`, `ctl`, `out`, `dlq`, ...). */
export interface RecorderSummary {
  path: string;
  records: number;
  bytes: number;
  byArea: Record<string, number>;
  /** Receive times of the first and last records (µs), null when nothing was recorded. */
  firstUs: number | null;
  lastUs: number | null;
  /** When the recorder subscribed and when it stopped (µs, its clock): how long it recorded. */
  beganUs: number;
  endedUs: number;
  /**
   * Outputs of recorded inputs were not quiet when `outputsSettled` gave up waiting: the file may
   * lack some (its trailer says so, and a replay does not check those past the last recorded).
   */
  outputsCut: boolean;
  /** The longest an output of a recorded input came after it, ms (0 when none was seen). */
  outputLagMs: number;
}

/** A running recorder. */
export class Recorder {
  readonly writer: RecordingWriter;
  readonly #subs: BusSubscription[] = [];
  readonly #byArea: Record<string, number> = {};
  #firstUs: number | null = null;
  #lastUs: number | null = null;
  readonly #clock: Clock;
  #beganUs: number;
  #endedUs: number | undefined;
  #error: Error | undefined;
  #stopped = false;
  /**
   * Begun mid-session: the ids of the inputs recorded lately (oldest first) and when each came
   * (performance.now() ms), see `endInputs`.
   */
  #inputIds: Map<string, number> | undefined;
  /** The longest an output of a recorded input came after it, ms. */
  #outputLagMs = 0;
  #inputsEnded = false;
  /** When an output was last taken after `endInputs` (performance.now() ms). */
  #lastTakenMs = 0;
  /** `outputsSettled` ran out of time before the outputs were quiet. */
  #outputsCut = false;

  private constructor(writer: RecordingWriter, clock: Clock) {
    this.writer = writer;
    this.#clock = clock;
    this.#beganUs = clock.now();
  }

  /** Creates the file, writes its header and subscribes to `subjects` on `bus`. */
  static start(bus: Bus, options: RecorderOptions): Recorder {
    const clock = options.clock ?? new SystemClock();
    const rec = new Recorder(createWriter(options, clock), clock);
    rec.#subscribe(bus, options, (msg, t) => rec.#append(msg, t));
    return rec;
  }

  /**
   * Begins recording a running cluster: subscribes, holds what arrives while it asks every host
   * on `bus` for its actors' state, then creates the file with their answers as its start section
   * and appends what it held. With no host answering, the file has no start section (`outcome`
   * says so) and holds what crossed the bus from the subscription on.
   */
  static async begin(
    bus: Bus,
    options: RecorderOptions & { capture?: StateCaptureOptions },
  ): Promise<{ recorder: Recorder; outcome: CaptureOutcome }> {
    const clock = options.clock ?? new SystemClock();
    const held: Array<{ msg: BusMessage; t: number }> = [];
    let heldBytes = 0;
    let overflow: Error | undefined;
    let rec: Recorder | undefined;
    const subs = new Recorder(undefined as unknown as RecordingWriter, clock);
    const ask = stateCaptureSubject();
    subs.#subscribe(bus, options, (msg, t) => {
      if (msg.subject === ask) return; // its own ask, or another recorder's: no part of a session
      if (rec) return rec.#append(msg, t);
      if (overflow) return;
      heldBytes += msg.data.byteLength;
      if (heldBytes > CAPTURE_QUEUE_BYTES_MAX) {
        overflow = new Error(
          `over ${CAPTURE_QUEUE_BYTES_MAX} bytes arrived while the hosts answered the state ` +
            "capture",
        );
        return;
      }
      held.push({ msg: { ...msg, data: msg.data.slice() }, t });
    });
    await bus.flush(); // the subscriptions are in place before the hosts are asked
    let outcome: CaptureOutcome;
    try {
      outcome = await captureState(bus, options.capture ?? {}, clock);
    } catch (err) {
      for (const sub of subs.#subs) sub.unsubscribe();
      throw err;
    }
    try {
      rec = new Recorder(createWriter(options, clock, outcome.start), clock);
    } catch (err) {
      for (const sub of subs.#subs) sub.unsubscribe();
      throw err;
    }
    rec.#subs.push(...subs.#subs);
    rec.#beganUs = subs.#beganUs; // it records from the subscription on
    rec.#inputIds = new Map();
    if (overflow) rec.#error = overflow;
    for (const { msg, t } of held) rec.#append(msg, t);
    return { recorder: rec, outcome };
  }

  #subscribe(
    bus: Bus,
    options: RecorderOptions,
    take: (msg: BusMessage, t: number) => void,
  ): void {
    const clock = options.clock ?? new SystemClock();
    for (const pattern of options.subjects ?? RECORDED_SUBJECTS) {
      this.#subs.push(bus.subscribe(pattern, (msg) => take(msg, Math.round(clock.now()))));
    }
  }

  /**
   * Ends a recording begun mid-session in two steps: from here on no input is recorded, and an
   * output only when an input recorded caused it, so that outputs still on their way after the
   * last input (wait for them before `stop`) are in, and none of an input not recorded is.
   */
  endInputs(): void {
    this.#inputsEnded = true;
    this.#endedUs ??= this.#clock.now();
    this.#lastTakenMs = performance.now();
  }

  /**
   * After `endInputs`: resolves once no output of a recorded input has come for `quietMs`, or for
   * OUTPUTS_QUIET_LAGS times the longest such an output lagged its input when that is longer, or
   * after `maxMs` in all (a host still applying what it was sent is heard out). Resolves to
   * false in the last case: outputs may still have been coming, and the file will say so
   * (`RecorderSummary.outputsCut`).
   */
  async outputsSettled(quietMs: number, maxMs: number): Promise<boolean> {
    const t0 = performance.now();
    const quiet = () => Math.max(quietMs, OUTPUTS_QUIET_LAGS * this.#outputLagMs);
    const coming = () => performance.now() - this.#lastTakenMs < quiet();
    while (performance.now() - t0 < maxMs && coming()) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (coming()) this.#outputsCut = true;
    return !this.#outputsCut;
  }

  /**
   * Says the file may lack outputs of inputs it holds (its trailer's `outputs_cut`), as when the
   * hosts stopped before taking every input recorded.
   */
  outputsMayLack(): void {
    this.#outputsCut = true;
  }

  #append(msg: BusMessage, t: number): void {
    if (this.#stopped || this.#error) return;
    const ids = this.#inputIds;
    if (ids !== undefined) {
      const area = msg.subject.split(".", 2)[1];
      const input = area === "feed" || area === "ctl";
      if (area === "out" || area === "finding") {
        const cause = envelopeString(msg.data, "cause");
        const at = cause === undefined ? undefined : ids.get(cause);
        if (at !== undefined) {
          this.#outputLagMs = Math.max(this.#outputLagMs, performance.now() - at);
        }
        if (this.#inputsEnded) {
          if (at === undefined) return;
          this.#lastTakenMs = performance.now();
        }
      } else if (this.#inputsEnded) return;
      else if (input) {
        const id = envelopeString(msg.data, "id");
        if (id !== undefined) {
          ids.set(id, performance.now());
          if (ids.size > RECORDED_INPUT_IDS_MAX) ids.delete(ids.keys().next().value!);
        }
      }
    }
    try {
      this.writer.append(msg.subject, t, msg.data, msg.headers);
    } catch (err) {
      // A full disk must not take the bus down with it: stop recording and say so at stop().
      this.#error = err as Error;
      return;
    }
    this.#firstUs ??= t;
    this.#lastUs = t;
    const area = msg.subject.split(".", 2)[1] ?? "";
    this.#byArea[area] = (this.#byArea[area] ?? 0) + 1;
  }

  /** Records written so far. */
  get records(): number {
    return this.writer.records;
  }

  /** The error that stopped recording early, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Unsubscribes, writes what is buffered, fsyncs and closes the file. Throws a write error. */
  stop(): RecorderSummary {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#endedUs ??= this.#clock.now();
      for (const sub of this.#subs) sub.unsubscribe();
      this.writer.close({ outputsCut: this.#outputsCut });
    }
    if (this.#error) {
      throw new Error(
        `Recording to ${this.writer.path} stopped after ${this.writer.records} records: ` +
          `${this.#error.message}`,
        { cause: this.#error },
      );
    }
    return {
      path: this.writer.path,
      records: this.writer.records,
      bytes: this.writer.bytes,
      byArea: { ...this.#byArea },
      firstUs: this.#firstUs,
      lastUs: this.#lastUs,
      beganUs: this.#beganUs,
      endedUs: this.#endedUs ?? this.#clock.now(),
      outputsCut: this.#outputsCut,
      outputLagMs: this.#outputLagMs,
    };
  }
}

/**
 * One line saying what a recorder wrote: `1234 messages (feed 1000, out 234), 2.1 MB, recorded
 * 20.0 s; messages over 15.0 s, in FILE`.
 */
export function describeRecording(summary: RecorderSummary): string {
  const areas = Object.entries(summary.byArea).sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`).join(", ");
  // How long it recorded, and the span of what it took: a feed that ran for part of the time
  // shows as a shorter span, not as a shorter recording.
  const recorded = `, recorded ${((summary.endedUs - summary.beganUs) / 1e6).toFixed(1)} s`;
  const span = summary.firstUs !== null && summary.lastUs !== null
    ? `; messages over ${((summary.lastUs - summary.firstUs) / 1e6).toFixed(1)} s`
    : "; no messages";
  return `${summary.records} messages${areas ? ` (${areas})` : ""}, ${
    (summary.bytes / 1e6).toFixed(1)
  } MB${recorded}${span}, in ${summary.path}`;
}

/** A string field of an envelope, or undefined. */
function envelopeString(data: Uint8Array, field: "id" | "cause"): string | undefined {
  try {
    const v = (decodeValue(data) as Record<string, unknown> | null)?.[field];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The writer of a recorder's file. */
function createWriter(
  options: RecorderOptions,
  clock: Clock,
  start?: RecordingStart,
): RecordingWriter {
  const subjects = options.subjects ?? RECORDED_SUBJECTS;
  const writerOptions: RecordingWriterOptions = {};
  if (options.bufferBytes !== undefined) writerOptions.bufferBytes = options.bufferBytes;
  if (options.flushEveryMs !== undefined) writerOptions.flushEveryMs = options.flushEveryMs;
  return RecordingWriter.create(
    options.path,
    {
      ...options.header,
      subjects: subjects.join(","),
      created_us: options.header.created_us ?? clock.now(),
      versions: options.header.versions ?? kindVersions(options.header.kinds ?? []),
    },
    writerOptions,
    start,
  );
}

/** Each actor kind's version in this troupe and in the user's modules, for a recording's header. */
function kindVersions(user: readonly RecordingKindModule[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, def] of Object.entries(ACTOR_KINDS)) out[kind] = def.version;
  for (const m of user) Object.assign(out, m.kinds);
  return out;
}
