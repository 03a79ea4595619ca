/**
 * The journal an instance's inputs are written to before they apply: its interface, and its file
 * and memory forms. The JetStream form, which loads the NATS clients, is entered through
 * jetstream/mod.ts, so that what keeps a journal in files (a collaboration server without NATS)
 * does not load them.
 */
export { crc32, crc32Word } from "./crc32.ts";
export { type DirLock, DirLockedError, LOCK_FILE, lockDir } from "./dir_lock.ts";
export { FileJournal, type TruncateInfo } from "./file_journal.ts";
export { checkFileJournalOptions, type FileJournalOptions } from "./file_journal_options.ts";
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
  recordBatches,
  type StreamLasts,
  type StreamMemo,
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
