/**
 * The JetStream stream under a JetStreamJournal (see jetstream_journal.ts): the journal's options,
 * the state it keeps of each journal stream, the stream's opening (created when missing,
 * waiting out a cluster's leader election) and its single-message gets.
 */
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type InboxRequests, retryJetStream } from "../../transport/mod.ts";
import { directGet, type DirectQuery, type GotMessage } from "../../transport/mod.ts";
import type { JournalDamage } from "../journal.ts";
import { lastPosIn } from "./_journal_consume.ts";
import type { CutTurns } from "./cut_turns.ts";

/**
 * What holds a journal's compactions back while it is `busy`: a compaction asked for then waits
 * until `ended`, and runs with the newest limits asked for meanwhile. A leased host's partitions
 * share one, busy while any of them recovers (recoveries_in_progress.ts): a stream's filtered
 * purge makes nats-server walk every message of the stream between the subject's first and its
 * cut, so a partition's first compaction (thousands of purges) held back the others' recovery
 * reads (docs/leased_stop_and_start.md).
 */
export interface CompactHold {
  readonly busy: boolean;
  /** Resolves once the work in progress at the call has ended (not work begun after it). */
  ended(): Promise<void>;
}

/** Options of `JetStreamJournal.open`. */
export interface JetStreamJournalOptions {
  /** The JetStream stream: `TROUPE_JOURNAL`. Created (file storage) when missing. */
  stream?: string;
  /** The subject prefix: `troupe.journal`. */
  subjectPrefix?: string;
  /** `open` (default): every stream's last position is read at open; `lazy`: on first use. */
  loadPositions?: "open" | "lazy";
  /** Milliseconds to wait for the server to acknowledge one publish: 5000. */
  publishTimeoutMs?: number;
  /** Publishes retried (with the same message id) after a timeout: 3. */
  publishRetries?: number;
  /** How many last-message requests `open` keeps in flight: 64. */
  loadConcurrency?: number;
  /** How long one call waits out a cluster's leader election, ms: `ELECTION_BUDGET_MS`. */
  electionBudgetMs?: number;
  /** Called once for each damage found while reading (also listed by `damage()`). */
  onDamage?(damage: JournalDamage): void;
  /**
   * Asked right before each publish and purge is sent (not when the append is queued): an error
   * refuses it. A host that holds its partition by lease passes its fence, so that an append
   * queued behind others while the lease was fresh is not sent once it is not.
   */
  guard?(): Error | undefined;
  /** Written in the `Troupe-Epoch` header of every record: the lease epoch of its writer. */
  epoch?: number;
  /** The stream's replicas when it is created (`nats.replicas`): 1. */
  replicas?: number;
  /**
   * The stream's description when it is created; a stream there whose description is not it is
   * refused (a leased partition's journal says which partition of how many it holds).
   */
  description?: string;
  /** What holds its compactions back (`CompactHold`); none when not given. */
  compactHold?: CompactHold;
  /**
   * No other journal writes the stream (a leased partition's, under its fence): a compaction then
   * purges the whole stream below the first message any journal stream needs (stream_cut.ts),
   * not each stream's subject. Only with `loadPositions` "open".
   */
  soleWriter?: boolean;
  /** The turns its cuts take, shared with the process's other journals (`CutTurns`); its own
   *  when not given. */
  cutTurns?: CutTurns;
}

export interface StreamState {
  stream: string;
  subject: string;
  loaded: boolean;
  lastPos: number;
  /** The stream sequence of the subject's last message, 0 when it has none. */
  lastSeq: number;
  /** Positions continue past this one (`advance`), whatever the subject's last message says. */
  floor: number;
  /** Its records up to this position are purged (or were not found to purge): `compact`. */
  compactedTo: number;
  /**
   * Why appends are refused: a conflict, until `prepare`; or an append whose fate is unknown,
   * found out before the next append.
   */
  broken: Error | undefined;
  /**
   * The append whose fate is unknown: its first position, its record count, its message's bytes
   * and the sequence it expected.
   */
  unsure: {
    pos: number;
    count: number;
    data: Uint8Array;
    afterSeq: number;
    /** Where the journal cuts its stream (stream_cut.ts): the highest sequence acknowledged
     *  when the append began (it is stored above it, if at all). */
    floor?: number;
  } | undefined;
  /** The end of this stream's chain of appends: one in flight at a time. */
  tail: Promise<unknown>;
  /**
   * Where the journal cuts its stream (stream_cut.ts), else undefined: the messages this journal
   * stored past `knownAfter`, oldest first, as pairs of the message's last position and its
   * stream sequence. A cut drops those its stream's snapshot covers, so it holds what a restart
   * would replay.
   */
  seqs: number[] | undefined;
  /** Every message of the subject holding a position past this one is in `seqs`. */
  knownAfter: number;
}

/**
 * The state of journal stream `stream` (subject `subject`) before anything is known of it:
 * `loaded` when it is known to have no message; `cut` when its journal cuts its stream
 * (stream_cut.ts), which needs the sequences it stores.
 */
export function newStreamState(
  stream: string,
  subject: string,
  loaded: boolean,
  cut: boolean,
): StreamState {
  return {
    stream,
    subject,
    loaded,
    lastPos: 0,
    lastSeq: 0,
    floor: 0,
    compactedTo: 0,
    broken: undefined,
    unsure: undefined,
    tail: Promise.resolve(),
    seqs: cut ? [] : undefined,
    knownAfter: 0,
  };
}

/**
 * Notes that `st`'s message ending at position `lastPos` is stored at stream sequence `seq`: its
 * subject's last message.
 */
export function noteStored(st: StreamState, lastPos: number, seq: number): void {
  st.lastSeq = seq;
  st.lastPos = lastPos;
  st.seqs?.push(lastPos, seq);
}

/**
 * Opens the journal's JetStream stream `streamName`, creating it (file storage) when missing, and
 * checks that its subjects hold `prefix.>`. Waits out a leader election for up to `budgetMs`.
 */
export async function openJournalStream(
  nc: NatsConnection,
  stream: {
    name: string;
    prefix: string;
    budgetMs: number;
    replicas: number;
    description?: string;
  },
): Promise<{ jsm: JetStreamManager; info: StreamInfo }> {
  const { name: streamName, prefix, budgetMs } = stream;
  const wanted = `${prefix}.>`;
  const opening = { budgetMs, repeatable: true };
  const jsm = await retryJetStream("reach JetStream", () => jetstreamManager(nc), opening);
  const info = await retryJetStream(`open the journal stream ${streamName}`, async () => {
    try {
      return await jsm.streams.info(streamName);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) {
        throw err;
      }
      // Repeatable: adding a stream that exists with this configuration succeeds.
      return await jsm.streams.add({
        name: streamName,
        subjects: [wanted],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        allow_direct: true,
        max_msgs_per_subject: -1,
        num_replicas: stream.replicas,
        ...(stream.description === undefined ? {} : { description: stream.description }),
      });
    }
  }, opening);
  if (!info.config.subjects?.includes(wanted)) {
    throw new Error(
      `Cannot use JetStream stream ${streamName} as the journal: its subjects ${
        JSON.stringify(info.config.subjects ?? [])
      } do not include ${wanted}`,
    );
  }
  const made = info.config.description;
  if (stream.description !== undefined && made !== stream.description) {
    throw new Error(
      `Cannot use JetStream stream ${streamName} as ${stream.description}: it was made as ${
        made ? `"${made}"` : "another journal (no description)"
      }`,
    );
  }
  return { jsm, info };
}

/** Whether `err` is JetStream's answer that the stream does not exist (and nothing else). */
export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * Whether `err` is JetStream's refusal of a publish whose expected last sequence is not the last.
 */
export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;
}

/**
 * Single-message gets from a journal's stream. With direct gets allowed, every replica of the
 * stream answers them, and a lagging one (a node catching up after a restart) answers with an
 * older last message: a read that ends there misses the subject's newest records (the 3-node
 * cluster test lost a channel's last frame to it), and an append guard loaded from it expects an
 * old sequence. So the gets that decide (a subject's last message; where a stalled read goes on;
 * the records a read's consumer lacked) are direct only with one replica (then the one answering
 * is the leader), and otherwise ask the stream's leader (STREAM.MSG.GET); the binary search for
 * where a read starts stays direct (a lagging replica answers for a message it lacks with a later
 * one, so the search may start early, never past a record the read needs).
 */
export class StreamGets {
  readonly #jsm: JetStreamManager;
  readonly #options: StreamGetsOptions;

  constructor(jsm: JetStreamManager, options: StreamGetsOptions) {
    this.#jsm = jsm;
    this.#options = options;
  }

  #get(query: DirectQuery, what: string): Promise<GotMessage | null> {
    const { stream, allowed, current, requests } = this.#options;
    return this.#options.retry(
      what,
      () =>
        allowed && current
          ? directGet(requests, stream, query)
          : this.#jsm.streams.getMessage(stream, query),
    );
  }

  /** The last message of `subject`, as the stream holds it now. */
  last(subject: string): Promise<GotMessage | null> {
    return this.#get({ last_by_subj: subject }, `read the last message of ${subject}`);
  }

  /** The first message of `filter` at or after `seq`, as the stream holds it (null: none). */
  next(filter: string, seq: number): Promise<GotMessage | null> {
    const query = { seq: Math.max(seq, 1), next_by_subj: filter };
    return this.#get(query, `read ${filter} at ${query.seq}`);
  }

  /**
   * The stream sequence of the message of `st` holding its first record with pos > after: the
   * first message whose last record is past `after` (its first may be at or below it, in a message
   * of several records). A binary search over sequences with "next message of this subject at or
   * after seq" direct gets. Positions rise with sequences within a subject, so the search is
   * sound. Without direct gets, 0 (read from the start and filter).
   */
  async firstSeqAfter(st: StreamState, after: number): Promise<number> {
    if (!this.#options.allowed) return 0;
    let lo = 1;
    let hi = st.lastSeq;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const query = { seq: mid, next_by_subj: st.subject };
      const msg = await this.#options.retry(
        `read ${st.subject} at ${mid}`,
        () => directGet(this.#options.requests, this.#options.stream, query),
      );
      if (!msg) return 0; // the subject changed under us: fall back to a full read
      if (lastPosIn(msg.header, st.subject, msg.seq) > after) hi = Math.min(mid, msg.seq);
      else lo = msg.seq + 1;
    }
    return lo;
  }
}

/** Options of `StreamGets`. */
export interface StreamGetsOptions {
  stream: string;
  /** Whether the stream allows direct gets. */
  allowed: boolean;
  /** Whether a direct get reads the stream as it is now: with one replica. */
  current: boolean;
  /** The journal's requests, which the direct gets go through. */
  requests: InboxRequests;
  /** Makes a call, waiting out a leader election (the journal's retry budget). */
  retry<T>(what: string, call: () => Promise<T>): Promise<T>;
}
