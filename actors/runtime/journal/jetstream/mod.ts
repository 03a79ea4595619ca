/**
 * The journal kept in a JetStream stream, one subject per journal stream: what lets another host
 * take over an instance whose host is lost.
 */
export {
  COUNT_HEADER,
  EPOCH_HEADER,
  JetStreamJournal,
  JOURNAL_STREAM,
  JOURNAL_SUBJECT_PREFIX,
  POS_HEADER,
} from "./jetstream_journal.ts";
export {
  type CompactHold,
  isStreamNotFound,
  isWrongLastSequence,
  type JetStreamJournalOptions,
  openJournalStream,
  StreamGets,
  type StreamGetsOptions,
  type StreamState,
} from "./jetstream_stream.ts";
export { CutTurns } from "./cut_turns.ts";
