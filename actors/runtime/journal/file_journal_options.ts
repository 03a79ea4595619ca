/** The options of a file journal (`FileJournal.open`), and their check. */
import type { TruncateInfo } from "./_segment_files.ts";
import type { FsyncPolicy, JournalDamage } from "./journal.ts";

/** Options of `FileJournal.open`. */
export interface FileJournalOptions {
  /** When writes are forced to disk. */
  fsync: FsyncPolicy;
  /** Milliseconds between background writes (and fsyncs under `interval` and `always`): 100. */
  fsyncIntervalMs?: number;
  /** A segment is sealed and a new one started past this many bytes: 64 MiB. */
  segmentBytesMax?: number;
  /** Appends are buffered up to this many bytes before they are written out: 1 MiB. */
  writeBufferBytes?: number;
  /** Full buffers that may wait for the disk before appends write them themselves: 4. */
  writeBuffersMax?: number;
  /**
   * A batch of at most this many bytes, with nothing else waiting for the disk, is written on the
   * calling thread instead of an I/O thread: no thread hop and wake-up before it counts as written,
   * for a journal whose readers wait for each small batch (the collab server relays an update only
   * once it is written). 0, the default: every batch goes to an I/O thread.
   */
  inlineWriteBytesMax?: number;
  /** Reads go to the file in chunks of this many bytes: 4 MiB. */
  readChunkBytes?: number;
  /** Called for each torn tail cut off on open (also counted in `stats().truncatedBytes`). */
  onTruncate?(info: TruncateInfo): void;
  /** Called once for each damaged range found between intact records, on open or on a read
   *  (also listed by `damage()` and counted in `stats().damagedBytes`). */
  onDamage?(damage: JournalDamage): void;
  /** Called when a background write or fsync fails; the journal then refuses further appends. */
  onError?(error: Error): void;
}

/** Throws a RangeError naming the first option out of range. */
export function checkFileJournalOptions(options: FileJournalOptions): void {
  if (!["always", "interval", "never"].includes(options.fsync)) {
    throw new RangeError(
      `FileJournal option "fsync" must be "always", "interval" or "never", got ${
        JSON.stringify(options.fsync)
      }`,
    );
  }
  const positive: [string, number | undefined][] = [
    ["fsyncIntervalMs", options.fsyncIntervalMs],
    ["segmentBytesMax", options.segmentBytesMax],
    ["writeBufferBytes", options.writeBufferBytes],
    ["writeBuffersMax", options.writeBuffersMax],
    ["readChunkBytes", options.readChunkBytes],
  ];
  const inline = options.inlineWriteBytesMax;
  if (inline !== undefined && !(Number.isSafeInteger(inline) && inline >= 0)) {
    throw new RangeError(
      `FileJournal option "inlineWriteBytesMax" must be an integer >= 0, got ${inline}`,
    );
  }
  for (const [field, value] of positive) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
      throw new RangeError(
        `FileJournal option "${field}" must be a positive integer, got ${value}`,
      );
    }
  }
}
