/**
 * The journal an instance's inputs are written to before they apply: its interface, and its file,
 * memory and JetStream forms.
 */
export { crc32, crc32Word } from "./crc32.ts";
export { type DirLock, DirLockedError, LOCK_FILE, lockDir } from "./dir_lock.ts";
export { FileJournal, type TruncateInfo } from "./file_journal.ts";
export { checkFileJournalOptions, type FileJournalOptions } from "./file_journal_options.ts";
export {
  EPOCH_HEADER,
  JetStreamJournal,
  JOURNAL_STREAM,
  JOURNAL_SUBJECT_PREFIX,
  POS_HEADER,
} from "./jetstream_journal.ts";
export {
  isStreamNotFound,
  isWrongLastSequence,
  type JetStreamJournalOptions,
  openJournalStream,
  StreamGets,
  type StreamGetsOptions,
  type StreamState,
} from "./jetstream_stream.ts";
export {
  type FsyncPolicy,
  joinJournalData,
  type Journal,
  JournalConflictError,
  JournalCorruptError,
  type JournalDamage,
  type JournalData,
  journalDataLength,
  type JournalRecord,
  type JournalStats,
} from "./journal.ts";
export {
  describeLoss,
  type JournalLoss,
  JournalLossError,
  type LossContext,
  type LossPlan,
  planLossRebuild,
} from "./journal_loss.ts";
export { MemoryJournal } from "./memory_journal.ts";
export { lowestSourcePosition } from "./resume_from_lowest.ts";
export { VoidedPositions } from "./voided_positions.ts";
