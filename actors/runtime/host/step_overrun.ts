/**
 * A step that ran past its deadline, as the step watchdog wrote it before it ended the process
 * (step_watch.ts), and what the next start does with it: the input is skipped and sent to
 * `troupe.dlq.deadline`. If the input was journaled, recovery skips it (a skip record, as for an
 * input the host died on: crash_attempts.ts); if not (its append was still in the journal's buffer
 * when the process ended), JetStream input delivers it again and the edge dead-letters it, with a
 * `dead` decision journaled, when it comes. The file is removed once the skip is journaled.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import type { BusMessage } from "../../../protocol/mod.ts";
import { InputRejectedError } from "../instances/mod.ts";

/** The file the watchdog writes, in the data directory. */
export const STEP_OVERRUN_FILE = "step_overrun.json";

/** A step past its deadline: the instance, the input, the time spent and the deadline. */
export interface StepOverrun {
  stream: string;
  kind: string;
  key: string;
  /** The input's journal position (perhaps not written when the process ended). */
  pos: number;
  /** The input's source position (0: core input, never delivered again). */
  src_pos: number;
  elapsed_ms: number;
  deadline_ms: number;
}

/** Reads the overrun file at `path`, if there is one; a damaged one is reported and removed. */
export function readStepOverrun(
  path: string,
  log: (message: string) => void,
): StepOverrun | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const o = JSON.parse(readFileSync(path, "utf8")) as Partial<StepOverrun>;
    const numbers = [o.pos, o.src_pos, o.elapsed_ms, o.deadline_ms];
    if (
      typeof o.stream === "string" && typeof o.kind === "string" && typeof o.key === "string" &&
      numbers.every((n) => typeof n === "number" && Number.isFinite(n))
    ) {
      return o as StepOverrun;
    }
    throw new Error("a field is missing or not of its type");
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

/** The overrun a start found, until its input is skipped. */
export class StepOverrunSkip {
  readonly overrun: StepOverrun;
  readonly #path: string;
  readonly #log: (line: string) => void;
  #done = false;

  constructor(overrun: StepOverrun, path: string, log: (line: string) => void) {
    this.overrun = overrun;
    this.#path = path;
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

  /** The skip is journaled: the file goes. */
  done(): void {
    this.#done = true;
    rmSync(this.#path, { force: true });
  }

  /**
   * The skip is being journaled by `kept`: the input is no longer pending, and the file goes once
   * the skip outlives the process, so that a host ended meanwhile (a `kill -9`) still finds the
   * file and skips the input again, rather than apply it and spin.
   */
  #doneOnceKept(kept: Promise<void>): void {
    this.#done = true;
    kept.then(
      () => rmSync(this.#path, { force: true }),
      (err: Error) =>
        this.#log(`${this.#path}: kept, as the skip could not be journaled: ${err.message}`),
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
