/**
 * The journal positions a stream's `void` records void (see protocol/input_record.ts): what a fold
 * that reads a whole stream at once (an instance rebuilt the careful way, a check or a tool reading
 * the journal) consumes without applying. A void record follows the records it voids, so a reader
 * gathers the ranges first and folds afterwards.
 */
import type { JournalRecord } from "./journal.ts";
import { decodeInputRecord, isVoidRecord, voidedRange } from "../../../protocol/mod.ts";

/** The positions voided in one stream. */
export class VoidedPositions {
  readonly #ranges: Array<{ from: number; to: number }> = [];

  /** The positions the void records among `records` void. */
  static of(records: Iterable<Pick<JournalRecord, "data">>): VoidedPositions {
    const voided = new VoidedPositions();
    for (const rec of records) {
      if (isVoidRecord(rec.data)) voided.add(voidedRange(decodeInputRecord(rec.data)));
    }
    return voided;
  }

  /** Voids the positions `from` to `to`. */
  add(range: { from: number; to: number }): void {
    this.#ranges.push({ from: range.from, to: range.to });
  }

  /** How many ranges are voided. */
  get size(): number {
    return this.#ranges.length;
  }

  /** Whether position `pos` is voided. */
  has(pos: number): boolean {
    for (const r of this.#ranges) if (pos >= r.from && pos <= r.to) return true;
    return false;
  }
}
