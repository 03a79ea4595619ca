/**
 * One journal stream's compaction: its records up to a position purged from the JetStream stream,
 * its last message always kept (it holds the stream's position). The journal runs it in the
 * stream's append chain, a few streams at once (jetstream_journal.ts `compact`).
 */
import type { StreamGets, StreamState } from "./jetstream_stream.ts";

/**
 * Streams a compaction works on at once: each is a search of a score of direct gets, one after
 * another, then a purge, so the compaction keeps at most this many requests at the server ahead
 * of the appends and a lease's renewals. With every stream at once, a round's searches and
 * purges reached nats-server together and held back its answers to the renewals for seconds
 * (docs/fleet_sizing.md).
 */
export const COMPACT_STREAMS_AT_ONCE = 4;

/** What a compaction works with: the journal's gets, its guard, its retries and its purge. */
export interface CompactParts {
  gets: StreamGets;
  /** Asked before the search and before the purge: an error refuses it (a lease lost). */
  guard: (() => Error | undefined) | undefined;
  /** `call`, waiting out a cluster's leader election. */
  retry<T>(what: string, call: () => Promise<T>): Promise<T>;
  /** Purges `subject`'s messages below stream sequence `seq`. */
  purge(subject: string, seq: number): Promise<unknown>;
}

/** Purges `st`'s records with pos <= limit; to be run in its append chain. */
async function compactStream(
  parts: CompactParts,
  st: StreamState,
  limit: number,
): Promise<void> {
  if (!st.loaded || st.broken || st.lastPos === 0) return;
  const refused = parts.guard?.();
  if (refused) throw refused;
  // Below the first record past the limit, found on the server: a count to keep, taken
  // from this journal's view, would purge records another writer appended since.
  // Never past the subject's last message, which keeps its position.
  // Where it cannot be found (no direct gets), nothing is purged; below the stream's first
  // message there is nothing to purge, and nats-server reads a filtered purge's sequence 1
  // as no bound at all (the subject purged whole, its last message with it).
  // A limit at this journal's last position (a snapshot of everything it appended, as a
  // stop's are) needs no read: every message before the last holds positions below it, and
  // what another writer appended since lies past the last.
  const seq = limit >= st.lastPos
    ? st.lastSeq
    : Math.min(await parts.gets.firstSeqAfter(st, limit), st.lastSeq);
  if (seq > 1) {
    await parts.retry(`compact ${st.subject}`, () => {
      const refused = parts.guard?.();
      if (refused) throw refused;
      return parts.purge(st.subject, seq);
    });
  }
  st.compactedTo = Math.max(st.compactedTo, limit);
}

/**
 * Compacts each of `states`' streams to its limit in `upTo` (one named there whose limit rose
 * since its last compaction), `COMPACT_STREAMS_AT_ONCE` at a time, each in its append chain; no
 * more are begun once `closed()`.
 */
export async function compactStreams(
  states: ReadonlyMap<string, StreamState>,
  upTo: ReadonlyMap<string, number>,
  parts: CompactParts,
  closed: () => boolean,
): Promise<void> {
  const due: Array<readonly [StreamState, number]> = [];
  for (const [stream, limit] of upTo) {
    const st = states.get(stream);
    if (st && limit > st.compactedTo) due.push([st, limit]);
  }
  let next = 0;
  const worker = async () => {
    while (next < due.length && !closed()) {
      const [st, limit] = due[next++]!;
      const step = st.tail.then(() => compactStream(parts, st, limit));
      st.tail = step.catch(() => {});
      await step;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(COMPACT_STREAMS_AT_ONCE, due.length) }, worker),
  );
}
