/**
 * The source positions a stream's journal holds, taken before a careful rebuild folds them (see
 * `takeJournaledSources`). Private to the recovery folder.
 */
import type { InputRecord } from "../../../protocol/mod.ts";
import type { Slot } from "../instances/mod.ts";
import type { VoidedPositions } from "../journal/mod.ts";

/**
 * Marks the source positions `slot`'s journal holds (past its snapshot at `snapSrc`) as taken,
 * before they are folded: if the fold fails and the instance waits in backoff, a redelivery of
 * one of them is a duplicate, not an input to journal a second time. A slot whose fold failed at
 * start-up has taken nothing else yet. Voided positions are not taken: the input gives them again.
 */
export function takeJournaledSources(
  slot: Slot,
  snapSrc: number,
  records: ReadonlyArray<{ pos: number; record: InputRecord }>,
  voided: VoidedPositions,
): void {
  let src = snapSrc;
  for (const { pos, record } of records) {
    if (record.srcPos > src && !voided.has(pos)) src = record.srcPos;
  }
  if (src > slot.srcPosMax) slot.srcPosMax = src;
}
