/**
 * What recovery keeps of a stream past the first hole in its journal positions (a damaged range,
 * a deleted message): nothing is folded past a hole until the host has judged the loss. Where the
 * input gives the lost inputs back, the records after the hole are voided and every input from the
 * hole on is applied again, in order; the frames come again from the input, and the inputs it
 * cannot give (control messages, ticks) are held here with their place among the frames (see
 * held_inputs.ts). Where the loss is accepted, what follows the hole is folded as journaled.
 */
import type { HeldInput } from "./held_inputs.ts";
import { decodeInputRecordCopy, type InputRecord } from "../../../protocol/mod.ts";

/** One stream's hold, from its first hole. */
export class StreamHold {
  /** The first position not folded: the hole's first. */
  readonly from: number;
  /** The highest source position folded before the hole (the snapshot's, or 0). */
  readonly srcAfter: number;
  /** Records seen after the hole. */
  records = 0;
  /** The highest source position among them (what voiding them takes back), or 0. */
  maxSrc = 0;
  #lastSrc: number;
  readonly #held: HeldInput[] = [];
  /** Inputs without a source position that no frame of the stream has followed yet. */
  #open: Array<{ record: InputRecord; after: number }> = [];

  constructor(from: number, srcAfter: number) {
    this.from = from;
    this.srcAfter = srcAfter;
    this.#lastSrc = srcAfter;
  }

  /**
   * Notes a record read after the hole (`data`, decoded as `record`). `seenSrc` is the highest
   * source position journaled before it in any stream: where it goes when no frame follows it.
   */
  note(record: InputRecord, data: Uint8Array, seenSrc: number): void {
    this.records++;
    if (record.srcPos > this.maxSrc) this.maxSrc = record.srcPos;
    if (record.srcPos > 0) {
      for (const o of this.#open) this.#held.push({ record: o.record, before: record.srcPos });
      this.#open = [];
      if (record.srcPos > this.#lastSrc) this.#lastSrc = record.srcPos;
    } else if (record.kind === "ctl" || record.kind === "tick") {
      // A copy: the journal's read buffer is reused.
      const after = Math.max(seenSrc, this.#lastSrc);
      this.#open.push({ record: decodeInputRecordCopy(data), after });
    }
  }

  /** Whether a void record of positions `from`-`to` at `pos` voids the hole and all after it. */
  voidedBy(range: { from: number; to: number }, pos: number): boolean {
    return range.from <= this.from && range.to >= pos - 1;
  }

  /** The inputs to apply again, in their journal order, each with its place. */
  inputs(): HeldInput[] {
    return [...this.#held, ...this.#open.map((o) => ({ record: o.record, after: o.after }))];
  }
}
