/**
 * The runtime's storage on its own: the journal interface, the file journal and the file snapshot
 * store, for a process that keeps records but hosts no actors. The collab server imports this,
 * not `actors/runtime/mod.ts`, whose evaluation also loads the host, xstate and the NATS and
 * JetStream clients: a collab server without NATS never uses them, and they stayed resident.
 * `describeControlApplied` is here for the collab bridge (the wording of a host's answer to a
 * control message), so that it too leaves the host unloaded; so are `askControl`, `requestAll`
 * and `readControlAnswers`, with which it gathers and reads every host's answer to a change.
 */
export * from "../journal.ts";
export { FileJournal } from "../file_journal.ts";
export type { FileJournalOptions } from "../file_journal_options.ts";
export type { Snapshot, SnapshotStore } from "../snapshot_store.ts";
export { FileSnapshotStore } from "../file_snapshot_store.ts";
export { type ControlApplied, describeControlApplied } from "../control_input.ts";
export {
  answeredByAddressee,
  type ControlAnswers,
  describeHosts,
  describePasses,
  readControlAnswers,
} from "../control_answers.ts";
export { requestAll } from "../request_all.ts";
export { askControl } from "../ask_control.ts";
