/**
 * A step that ran past its deadline, as the step watchdog wrote it before it ended the process
 * (step_watch.ts), and what the next start does with it: the input is skipped and sent to
 * `troupe.dlq.deadline`. If the input was journaled, recovery skips it (a skip record, as for an
 * input the host died on: crash_attempts.ts); if not (its append was still in the journal's buffer
 * when the process ended), JetStream input delivers it again and the edge dead-letters it, with a
 * `dead` decision journaled, when it comes. The record (the file, or a leased partition's key in
 * its bucket: leased_step_deadlines.ts) is removed once the skip is journaled.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { type BusMessage, checkStepOverrun, type StepOverrun } from "../../../protocol/mod.ts";
import { InputRejectedError } from "../instances/mod.ts";

export type { StepOverrun };

/** The file the watchdog writes, in the data directory. */
export const STEP_OVERRUN_FILE = "step_overrun.json";

/** Reads the overrun file at `path`, if there is one; a damaged one is reported and removed. */
export function readStepOverrun(
  path: string,
  log: (message: string) => void,
): StepOverrun | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return checkStepOverrun(JSON.parse(readFileSync(path, "utf8")), "step overrun");
  } catch (err) {
    log(`${path}: not a step overrun the watchdog wrote (${(err as Error).message}); removed`);
    rmSync(path, { force: true });
    return undefined;
  }
}

/** Where the overrun's input delivered again is dead-lettered (the host's notices). */
export interface OverrunLetters {
  deadLetter(msg: BusMessage, err: unknown, actor?: string): void;
}

/** Where that is journaled (the host's edge decisions). */
export interface OverrunDecisions {
  /** Resolves once the decision outlives the process. */
  deadLetterKept(srcPos: number, subject: string, reason: string): Promise<void>;
}

/** Where an overrun is kept until its skip is journaled: a file, or a key in a bucket. */
export interface OverrunPlace {
  /** What it is called in a log line. */
  name: string;
  /** Removes it; a failure is logged, and the record found again at the next start. */
  remove(): void | Promise<void>;
}

/** The overrun a start found, until its input is skipped. */
export class StepOverrunSkip {
  readonly overrun: StepOverrun;
  readonly #place: OverrunPlace;
  readonly #log: (line: string) => void;
  #done = false;

  /** `place`: the path of the file it was read from, or where else it is kept. */
  constructor(overrun: StepOverrun, place: string | OverrunPlace, log: (line: string) => void) {
    this.overrun = overrun;
    this.#place = typeof place === "string" ? overrunFile(place) : place;
    this.#log = log;
  }

  /** Whether the input is still to be skipped. */
  get pending(): boolean {
    return !this.#done;
  }

  /**
   * Whether the input journaled at `pos` of `stream` from source position `srcPos` is the one that
   * overran (an input not journaled leaves its position to the next: its source position tells).
   */
  journaledAt(stream: string, pos: number, srcPos: number): boolean {
    const o = this.overrun;
    return !this.#done && stream === o.stream && pos === o.pos && srcPos === o.src_pos;
  }

  /** The dead letter's error. */
  error(): InputRejectedError {
    const o = this.overrun;
    return new InputRejectedError(
      "deadline",
      `Step of kind "${o.kind}" on key "${o.key}" ran past its deadline of ${o.deadline_ms} ms ` +
        `on its input at position ${o.pos} (source position ${o.src_pos}): the host was ended ` +
        `after ${o.elapsed_ms} ms; skipped`,
    );
  }

  /** The skip is journaled: the record goes. */
  done(): void {
    this.#done = true;
    this.#remove();
  }

  /** Removes the record: a file at once, a bucket's key once the server has it. */
  #remove(): void {
    const place = this.#place;
    const failed = (err: Error) =>
      this.#log(`${place.name}: kept, as it could not be removed: ${err.message}`);
    try {
      const removed = place.remove();
      if (removed instanceof Promise) removed.catch(failed);
    } catch (err) {
      failed(err as Error);
    }
  }

  /**
   * The skip is being journaled by `kept`: the input is no longer pending, and the record goes
   * once the skip outlives the process, so that a host ended meanwhile (a `kill -9`) still finds
   * it and skips the input again, rather than apply it and spin.
   */
  #doneOnceKept(kept: Promise<void>): void {
    this.#done = true;
    kept.then(
      () => this.#remove(),
      (err: Error) =>
        this.#log(`${this.#place.name}: kept, as the skip could not be journaled: ${err.message}`),
    );
  }

  /**
   * Takes a feed message at source position `srcPos` if it is the overrun's input, delivered
   * again: dead-lettered, the decision journaled. True when taken.
   */
  take(
    msg: BusMessage,
    srcPos: number,
    letters: OverrunLetters,
    decisions: OverrunDecisions,
  ): boolean {
    if (this.#done || srcPos <= 0 || srcPos !== this.overrun.src_pos) return false;
    letters.deadLetter(msg, this.error(), this.overrun.stream);
    this.#doneOnceKept(decisions.deadLetterKept(srcPos, msg.subject, "deadline"));
    return true;
  }
}

/** The overrun file at `path`, as the place an overrun is kept. */
export function overrunFile(path: string): OverrunPlace {
  return { name: path, remove: () => rmSync(path, { force: true }) };
}
