/**
 * Durable file writes shared by the journal, the snapshot store and the worker bundles: a file
 * replaced whole (written aside, then renamed, so that a reader never sees half of it) and a
 * folder's names made durable; a positioned read that fills what it asks for (the snapshot
 * store's); and the upkeep of caches of built files (the compiled mirror's, the worker bundles').
 * A folder of its own so that a light module (the worker threads') uses them without loading the
 * runtime.
 */
export {
  writeAtomically,
  writeAtomicallyAsync,
  type WriteAtomicallyOptions,
} from "./write_atomically.ts";
export { syncDir, syncDirAsync } from "./sync_dir.ts";
export { readAt } from "./read_at.ts";
export { markUsed, pruneUnused, UNUSED_MS } from "./unused_cache.mjs";
