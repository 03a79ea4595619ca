/**
 * A host's writes to its journal. Each gives undefined, and stops the host, when the journal
 * cannot be written (its file, say: `isFatalIoError`), and throws any other error on; none is
 * tried once the host has stopped so. An append is a method here, not a closure made around the
 * write by the host: every input of every instance is appended, and a closure and its context
 * made for each are garbage a fleet host collects by the gigabyte. Private to the host folder.
 */
import { isFatalIoError } from "../operations/mod.ts";
import type { Journal, JournalData, StreamMemo } from "../journal/mod.ts";

/** What the writes work with: the journal, and the host's fatal stop. */
export interface JournalWritesParts {
  journal: Journal;
  /** Whether the host stopped on an error it cannot go on after. */
  stopped(): boolean;
  /** Stops the host on `err`, which it cannot go on after. */
  fatal(err: unknown): void;
}

/** The journal's appends, each stopping the host where the journal cannot be written. */
export class JournalWrites {
  readonly #parts: JournalWritesParts;

  constructor(parts: JournalWritesParts) {
    this.#parts = parts;
  }

  /** `Journal.append`; undefined when the host stops (or has). */
  append(
    stream: string,
    bytes: JournalData,
    memo?: StreamMemo,
  ): number | Promise<number> | undefined {
    if (this.#parts.stopped()) return undefined;
    try {
      return this.#parts.journal.append(stream, bytes, memo);
    } catch (err) {
      return this.#failed(err);
    }
  }

  /** `Journal.appendMany`, where the journal has it; undefined when the host stops (or has). */
  appendMany(stream: string, records: readonly JournalData[]): Promise<number> | undefined {
    if (this.#parts.stopped()) return undefined;
    try {
      return this.#parts.journal.appendMany!(stream, records);
    } catch (err) {
      return this.#failed(err);
    }
  }

  /** A write threw `err`: thrown on, or, where the journal cannot be written, the host stops. */
  #failed(err: unknown): undefined {
    if (!isFatalIoError(err)) throw err;
    this.#parts.fatal(err);
    return undefined;
  }
}
