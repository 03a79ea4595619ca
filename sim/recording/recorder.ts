/**
 * The recorder: subscribes to a bus (in-process or NATS) and appends every message it receives to
 * a recording file (see `recording.ts`), with its subject, headers and receive time. Started
 * before anything is published (`troupe up --record`), a recording holds a whole session from its
 * first input, which is what `troupe replay --verify` needs to reproduce every output; attached to
 * a running cluster (`troupe record`), it holds what crossed the bus from then on.
 */
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { type Bus, type BusSubscription, RECORDED_SUBJECTS } from "../../protocol/mod.ts";
import { type Clock, SystemClock } from "../clock.ts";
import type { RecordingHeaderInit } from "./recording.ts";
import { RecordingWriter, type RecordingWriterOptions } from "./recording_writer.ts";

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
}

/** A running recorder. */
export class Recorder {
  readonly writer: RecordingWriter;
  readonly #subs: BusSubscription[] = [];
  readonly #byArea: Record<string, number> = {};
  #firstUs: number | null = null;
  #lastUs: number | null = null;
  #error: Error | undefined;
  #stopped = false;

  private constructor(writer: RecordingWriter) {
    this.writer = writer;
  }

  /** Creates the file, writes its header and subscribes to `subjects` on `bus`. */
  static start(bus: Bus, options: RecorderOptions): Recorder {
    const subjects = options.subjects ?? RECORDED_SUBJECTS;
    const clock = options.clock ?? new SystemClock();
    const writerOptions: RecordingWriterOptions = {};
    if (options.bufferBytes !== undefined) writerOptions.bufferBytes = options.bufferBytes;
    if (options.flushEveryMs !== undefined) writerOptions.flushEveryMs = options.flushEveryMs;
    const writer = RecordingWriter.create(options.path, {
      ...options.header,
      subjects: subjects.join(","),
      created_us: options.header.created_us ?? clock.now(),
      versions: options.header.versions ?? kindVersions(),
    }, writerOptions);
    const rec = new Recorder(writer);
    for (const pattern of subjects) {
      rec.#subs.push(bus.subscribe(pattern, (msg) => {
        if (rec.#stopped || rec.#error) return;
        const t = Math.round(clock.now());
        try {
          writer.append(msg.subject, t, msg.data, msg.headers);
        } catch (err) {
          // A full disk must not take the bus down with it: stop recording and say so at stop().
          rec.#error = err as Error;
          return;
        }
        rec.#firstUs ??= t;
        rec.#lastUs = t;
        const area = msg.subject.split(".", 2)[1] ?? "";
        rec.#byArea[area] = (rec.#byArea[area] ?? 0) + 1;
      }));
    }
    return rec;
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
      for (const sub of this.#subs) sub.unsubscribe();
      this.writer.close();
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
    };
  }
}

/** One line saying what a recorder wrote: `1234 messages (feed 1000, out 234), 2.1 MB, 5.0 s`. */
export function describeRecording(summary: RecorderSummary): string {
  const areas = Object.entries(summary.byArea).sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`).join(", ");
  const span = summary.firstUs !== null && summary.lastUs !== null
    ? `, ${((summary.lastUs - summary.firstUs) / 1e6).toFixed(1)} s`
    : "";
  return `${summary.records} messages${areas ? ` (${areas})` : ""}, ${
    (summary.bytes / 1e6).toFixed(1)
  } MB${span} in ${summary.path}`;
}

/** Each actor kind's version in this troupe, for a recording's header. */
function kindVersions(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, def] of Object.entries(ACTOR_KINDS)) out[kind] = def.version;
  return out;
}
