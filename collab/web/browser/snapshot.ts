/**
 * How much of the stream gateway's buffer a fresh page starts from: a snapshot of recent state,
 * not the whole buffer replayed. A page that drained a full buffer took seconds, showing old
 * events on top of its list meanwhile, and its backlog made the gateway drop for it as slow.
 */

/**
 * The newest messages of the buffer a fresh page is handed (about 30 s of 16 cards' scores,
 * bands and events), drawn in well under a second.
 */
export const SNAPSHOT_MESSAGES = 4000;
