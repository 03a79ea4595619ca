/** A stream of record batches as a stream of records, for journals that read in batches. */
import type { JournalRecord } from "./journal.ts";

/**
 * The records of batches one by one. A hand-written iterator: an async generator's `yield*` costs
 * several promises per record, which is most of the time of a recovery over small records.
 */
export function flattenBatches(
  batches: AsyncIterable<JournalRecord[]>,
): AsyncIterable<JournalRecord> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<JournalRecord> {
      const source = batches[Symbol.asyncIterator]();
      let batch: JournalRecord[] = [];
      let i = 0;
      const pull = async (): Promise<IteratorResult<JournalRecord>> => {
        while (i >= batch.length) {
          const next = await source.next();
          if (next.done) return { done: true, value: undefined };
          batch = next.value;
          i = 0;
        }
        return { done: false, value: batch[i++]! };
      };
      return {
        next: () =>
          i < batch.length ? Promise.resolve({ done: false, value: batch[i++]! }) : pull(),
        return: async () => {
          batch = [];
          await source.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
