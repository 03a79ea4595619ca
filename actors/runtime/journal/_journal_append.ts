/**
 * One append to a journal stream's subject, stored once: it names the sequence of the subject's
 * last message (a second writer is refused), a publish that times out is looked for before it is
 * sent again, and an append whose fate stayed unknown is settled by the next one (see
 * jetstream_journal.ts).
 */
import type { JetStreamClient, StoredMsg } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { bytesEqual } from "../../../protocol/mod.ts";
import { isWrongLastSequence, type StreamGets, type StreamState } from "./jetstream_stream.ts";
import { POS_HEADER, readPos } from "./_journal_consume.ts";
import { electionError } from "../transport/mod.ts";
import { JournalConflictError } from "./journal.ts";

/** The header that carries the lease epoch of a record's writer, when it has one. */
export const EPOCH_HEADER = "Troupe-Epoch";

/** What an append works with: the journal's client, its gets, its guard and its counts. */
export interface AppendParts {
  js: JetStreamClient;
  gets: StreamGets;
  /** Asked before each send: an error refuses the append (a lease lost). */
  guard: (() => Error | undefined) | undefined;
  epoch: number | undefined;
  publishTimeoutMs: number;
  publishRetries: number;
  /** `call`, waiting out a cluster's leader election. */
  retry<T>(what: string, call: () => Promise<T>, repeatable?: boolean): Promise<T>;
  /** Reads the subject's last message: its position and sequence. */
  load(st: StreamState): Promise<void>;
  /** A record of `bytes` is stored. */
  stored(bytes: number): void;
}

/** Appends `data` to `st`'s subject; resolves to its position once the server has stored it. */
export async function appendRecord(
  st: StreamState,
  data: Uint8Array,
  parts: AppendParts,
): Promise<number> {
  if (st.broken instanceof JournalConflictError) {
    throw new JournalConflictError(
      `Cannot append to journal stream "${st.stream}": an earlier append failed ` +
        `(${st.broken.message}); call prepare() to reload it`,
      { stream: st.stream, cause: st.broken },
    );
  }
  if (st.broken) {
    const pos = await settle(st, data, parts);
    if (pos !== undefined) return pos;
  }
  if (!st.loaded) await parts.load(st);
  const pos = st.lastPos + 1;
  const h = headers();
  h.set(POS_HEADER, String(pos));
  if (parts.epoch !== undefined) h.set(EPOCH_HEADER, String(parts.epoch));
  const options = {
    headers: h,
    expect: { lastSubjectSequence: st.lastSeq },
    timeout: parts.publishTimeoutMs,
  };
  const stored = (seq: number) => {
    st.lastSeq = seq;
    st.lastPos = pos;
    parts.stored(data.length);
    return pos;
  };
  let refused: Error | undefined;
  const send = () => {
    refused = parts.guard?.();
    if (refused) throw refused;
    return parts.js.publish(st.subject, data, options);
  };
  for (let attempt = 0;; attempt++) {
    try {
      // Refusals (no leader) are sent again, the guard asked before each; a timeout comes
      // back, as the record may have been stored.
      return stored((await parts.retry(`append to ${st.subject}`, send, false)).seq);
    } catch (err) {
      if (isWrongLastSequence(err)) {
        // The subject's last message may be this very record: a send of it that timed out
        // (this append's, or a failed append's the host retries) and was stored after the look
        // that found it missing. Then the record is in, once.
        const mine = await storedLast(st, pos, data, parts);
        if (mine !== undefined) return stored(mine);
        throw conflictOf(st, err);
      }
      if (err === refused) throw err;
      if (attempt >= parts.publishRetries || electionError(err) !== "timeout") {
        st.broken = new Error(
          `Cannot append to journal stream "${st.stream}" at position ${pos}: ${
            (err as Error).message
          }`,
          { cause: err },
        );
        // Stored or not, the next append finds out (#settle).
        st.unsure = { pos, data, afterSeq: st.lastSeq };
        throw st.broken;
      }
    }
    // The publish timed out: it may have been stored. The subject's last message says.
    let last: StoredMsg | null;
    try {
      last = await parts.gets.last(st.subject);
    } catch {
      continue;
    }
    if (last && last.seq !== st.lastSeq) {
      if (isRecord(last, st.subject, pos, data)) return stored(last.seq);
      throw conflictOf(st, undefined);
    }
  }
}

/** The sequence of the subject's last message when it is the record `data` at `pos`. */
async function storedLast(
  st: StreamState,
  pos: number,
  data: Uint8Array,
  parts: AppendParts,
): Promise<number | undefined> {
  const last = await parts.gets.last(st.subject).catch(() => null);
  return last && isRecord(last, st.subject, pos, data) ? last.seq : undefined;
}

/**
 * Before the next append to a stream whose last append failed with its fate unknown: reads the
 * subject's last message. Nothing new there: the failed record was not stored, and the append
 * goes on. The failed record there: it was stored; an append of the same bytes (the host
 * retrying the input) resolves to its position without being sent again. Anything else:
 * another writer appended (a conflict).
 */
async function settle(
  st: StreamState,
  data: Uint8Array,
  parts: AppendParts,
): Promise<number | undefined> {
  const unsure = st.unsure;
  const last = await parts.gets.last(st.subject);
  st.broken = undefined;
  st.unsure = undefined;
  if (!unsure || (last?.seq ?? 0) === unsure.afterSeq) return undefined;
  if (last && isRecord(last, st.subject, unsure.pos, unsure.data)) {
    st.lastSeq = last.seq;
    st.lastPos = unsure.pos;
    parts.stored(unsure.data.length);
    return bytesEqual(data, unsure.data) ? unsure.pos : undefined;
  }
  throw conflictOf(st, undefined);
}

/** Marks `st` refused after another writer appended to its subject; the error to throw. */
export function conflictOf(st: StreamState, cause: unknown): JournalConflictError {
  st.broken = new JournalConflictError(
    `Cannot append to journal stream "${st.stream}": another writer appended to ${st.subject} ` +
      `(expected its last sequence to be ${st.lastSeq}); single-writer ownership of this actor ` +
      `instance was violated`,
    { stream: st.stream, cause },
  );
  return st.broken as JournalConflictError;
}

/** Whether a stored message is the record `data` at `pos` of `subject`. */
function isRecord(msg: StoredMsg, subject: string, pos: number, data: Uint8Array): boolean {
  return readPos(msg.header, subject, msg.seq) === pos && bytesEqual(msg.data, data);
}
