/**
 * The last few messages this journal appended to a stream's subject, each as its first position
 * and its stream sequence: where compaction finds the message holding the first record past a
 * snapshot's position without asking the server. A compaction's limit is a snapshot's position,
 * which on a live host trails the stream's last position by the inputs appended while the snapshot
 * was saved; the search it would otherwise make is a binary search over the whole stream (some 20
 * direct gets of "the subject's next message from sequence S" a compaction), which a fleet host
 * made about once for every sample it applied, and which nats-server pays for by walking its
 * blocks.
 *
 * The messages kept are consecutive messages of the subject: each append names the subject's last
 * sequence (another writer's append in between refuses it), and the list is emptied wherever this
 * journal's view of the subject is reloaded or its positions moved past its messages.
 */
import type { StreamState } from "./jetstream_stream.ts";

/** Messages kept a stream: a compaction's limit trails the last position by a few inputs. */
export const RECENT_MESSAGES = 4;

/** Notes that the subject's message at sequence `seq`, first position `firstPos`, is stored. */
export function noteStored(st: StreamState, firstPos: number, seq: number): void {
  const recent = st.recent;
  if (recent.length >= 2 * RECENT_MESSAGES) recent.splice(0, 2);
  recent.push(firstPos, seq);
}

/** Forgets the messages noted: the journal's view of the subject is read again or moved. */
export function forgetRecent(st: StreamState): void {
  st.recent.length = 0;
}

/**
 * The sequence of the subject's message holding position `pos`, when it is among those noted and
 * the newest noted is the subject's last message; undefined otherwise (the server is asked).
 */
export function recentSeqHolding(st: StreamState, pos: number): number | undefined {
  const recent = st.recent;
  const n = recent.length;
  if (n === 0 || recent[n - 1] !== st.lastSeq || pos > st.lastPos) return undefined;
  // The newest message whose first position is at or below `pos` holds it: the messages noted
  // are consecutive, and each holds the positions up to the next one's first.
  for (let i = n - 2; i >= 0; i -= 2) if (recent[i]! <= pos) return recent[i + 1];
  return undefined;
}
