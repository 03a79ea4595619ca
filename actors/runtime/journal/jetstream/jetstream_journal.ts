/**
 * The JetStream journal: each journal stream (an actor instance, `"stats/BTC-USD"`) is one subject
 * of a JetStream stream (`troupe.journal.stats.BTC-USD` in `TROUPE_JOURNAL`, file storage), so the
 * journal survives the loss of a host and another host can take over its actors. Single-writer
 * safety comes from the server: every append carries `Nats-Expected-Last-Subject-Sequence`, so a
 * second writer of the same actor instance is refused and told which stream it collided on.
 *
 * The record's position travels in the `Troupe-Pos` header. Appends to one subject are serialized
 * (one in flight, since each must name the sequence of the one before), appends to different
 * subjects are pipelined. So one subject takes one record a server round trip, unless a run of
 * records goes as one message (`appendMany`: the first's position, a `Troupe-Count` header and
 * the records packed, _journal_message.ts), which the reads unpack. After a publish times out,
 * the subject's last message tells whether the server stored it (then it is not sent again) or
 * not (then it is retried; and a retry refused because the first send was stored after that look
 * finds it stored), so a record is never stored twice; a `Nats-Msg-Id` would not do, as the
 * server checks it before the expected sequence and would take a second writer's record for a
 * duplicate of the first's.
 *
 * Positions are known after open: by default `open` reads the last message of every subject of
 * the stream (one direct get each, pipelined), and a stream with no subject then is known to be
 * empty, so another writer's first message on it is detected too. With `loadPositions: "lazy"` a
 * stream's last message is read when it is first appended to or read, or by `prepare(stream)`;
 * `lastPosition` of a stream not yet prepared is 0, and the single-writer guard covers a stream
 * from the moment it is loaded. A stream whose append failed with its fate unknown (a timeout
 * after every retry, a cluster that elected no leader in time) is loaded again before its next
 * append, which finds out whether the failed record was stored: if it was and the next append is
 * the same record (the host retries the input that failed), that append resolves to its position
 * without sending it again; if another writer's record is there, it is a conflict. A stream whose
 * append met another writer (a conflict) refuses appends, with a JournalConflictError, until
 * `prepare(stream)` reloads it: its writer's state may be stale (the host rebuilds the instance
 * from the journal, restarts.ts).
 *
 * Every call to the server waits out a cluster's leader election (jetstream_retry.ts): a request
 * refused while the cluster has no leader is sent again with backoff, for `electionBudgetMs`.
 *
 * Compaction purges each subject below its snapshot's position, keeping its last message (which
 * holds its position); a journal that is its stream's only writer cuts the whole stream instead.
 *
 * Damage: a message deleted from the stream (by hand, by a limit) leaves its subject's positions
 * with a hole; a message whose position or count header, or whose packed records, cannot be read
 * cannot be placed. Reads pass over both and report each once (`damage()`, `onDamage`,
 * `stats().damagedBytes`), naming the subject, the stream sequence and the positions missing;
 * recovery finds the same holes in the positions it reads and judges the loss (journal_loss.ts),
 * as for the file journal. `advance` continues a stream's positions past a snapshot when the
 * journal lost its tail.
 */
import { jetstream, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { checkName, JOURNAL_SUBJECT_PREFIX } from "../../../../protocol/mod.ts";
import {
  type JetStreamJournalOptions,
  newStreamState,
  openJournalStream,
  StreamGets,
  type StreamState,
} from "./jetstream_stream.ts";
import { consumeJournal, type JournalReading, lastPosIn, POS_HEADER } from "./_journal_consume.ts";
import {
  CONSUMER_CREATE_TIMEOUT_MS,
  ELECTION_BUDGET_MS,
  InboxRequests,
  purgeStream,
  retryJetStream,
} from "../../transport/mod.ts";
import { type AppendParts, appendRecord, EPOCH_HEADER } from "./_journal_append.ts";
import { COUNT_HEADER, packRecords } from "./_journal_message.ts";
import { type CompactParts, compactStreams } from "./_journal_compact.ts";
import { HeldCompaction } from "./_held_compaction.ts";
import { StreamCut } from "./stream_cut.ts";
import { CutTurns } from "./cut_turns.ts";
import {
  joinJournalData,
  type Journal,
  type JournalDamage,
  type JournalData,
  type JournalRecord,
  type JournalStats,
} from "../journal.ts";

/** A compaction's purge waits this long for its answer: nats.js's manager's default timeout. */
const PURGE_TIMEOUT_MS = 5000;

/** The JetStream stream that holds the journal, by default. */
export const JOURNAL_STREAM = "TROUPE_JOURNAL";
/** The subject prefix of journal records, by default (`troupe.journal`). */
export { JOURNAL_SUBJECT_PREFIX };
/** The header that carries a record's position (the first's, in a message of several records). */
export { POS_HEADER };
/** The header that carries how many records a message holds, when it holds 2 or more. */
export { COUNT_HEADER };

export type { JetStreamJournalOptions } from "./jetstream_stream.ts";

export { EPOCH_HEADER };

/** A Journal over a JetStream stream, one subject per journal stream. */
export class JetStreamJournal implements Journal {
  readonly streamName: string;
  readonly subjectPrefix: string;
  /**
   * Not compacted as its host stops: each filtered purge makes nats-server read every block of the
   * stream that holds its subject, so a stop's purge of every stream it snapshotted would hold up
   * the handoff. What it would drop, the next host's first compaction does (it compacts every
   * stream it restored from a snapshot); meanwhile its start reads past those records only where
   * it reads the stream at all (an instance with inputs past its snapshot), as it reads past every
   * other partition's.
   */
  readonly compactsAtStop = false;
  #nc: NatsConnection;
  #js: JetStreamClient;
  #jsm: JetStreamManager;
  /** Single-message gets from the stream (direct, or from its leader). */
  #gets: StreamGets;
  /** The options with a default. */
  #options: Required<
    Pick<
      JetStreamJournalOptions,
      | "loadPositions"
      | "publishTimeoutMs"
      | "publishRetries"
      | "loadConcurrency"
      | "electionBudgetMs"
    >
  >;
  #guard: (() => Error | undefined) | undefined;
  #epoch: number | undefined;
  #onDamage: ((damage: JournalDamage) => void) | undefined;
  /** The damage met so far, by subject and stream sequence (each reported once). */
  #damage = new Map<string, JournalDamage>();
  #damagedBytes = 0;
  #states = new Map<string, StreamState>();
  #pending = new Set<Promise<number>>();
  /** The compactions in progress: `close` ends them after the stream each of its workers is on. */
  #compacting = new Set<Promise<unknown>>();
  /** The compaction held back while `JetStreamJournalOptions.compactHold` is busy. */
  readonly #held: HeldCompaction | undefined;
  /** Resolves the promise a compaction held back races (`close`): it is then dropped. */
  #closing: () => void = () => {};
  #failedSinceSync: Error | undefined;
  #bytes: number;
  #records: number;
  /** Whether every subject's last message was read at open: then an unseen stream is empty. */
  #allLoaded = false;
  #closed = false;
  /** What an append works with (_journal_append.ts). */
  readonly #appendParts: AppendParts;
  /** What a stream's compaction works with (_journal_compact.ts). */
  readonly #compactParts: CompactParts;
  /** The cut of the whole stream, for a journal that is its only writer (stream_cut.ts). */
  readonly #cut: StreamCut | undefined;
  /** The appends' publishes and the direct gets, answered on one inbox of the journal's own. */
  readonly #requests: InboxRequests;

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    streamName: string,
    subjectPrefix: string,
    direct: { allowed: boolean; current: boolean },
    options: JetStreamJournalOptions,
    state: { bytes: number; messages: number },
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    // Publishes pass their own timeout; this one is for the reads' consumer creates.
    this.#js = jetstream(nc, { timeout: CONSUMER_CREATE_TIMEOUT_MS });
    this.streamName = streamName;
    this.subjectPrefix = subjectPrefix;
    this.#requests = new InboxRequests(nc);
    this.#gets = new StreamGets(jsm, {
      stream: streamName,
      ...direct,
      requests: this.#requests,
      retry: (what, call) => this.#retry(what, call),
    });
    this.#options = {
      loadPositions: options.loadPositions ?? "open",
      publishTimeoutMs: options.publishTimeoutMs ?? 5000,
      publishRetries: options.publishRetries ?? 3,
      loadConcurrency: options.loadConcurrency ?? 64,
      electionBudgetMs: options.electionBudgetMs ?? ELECTION_BUDGET_MS,
    };
    this.#onDamage = options.onDamage;
    if (options.compactHold) {
      const closed = new Promise<void>((resolve) => this.#closing = resolve);
      this.#held = new HeldCompaction(
        options.compactHold,
        closed,
        (upTo) => this.#compactNow(upTo),
      );
    }
    this.#guard = options.guard;
    this.#epoch = options.epoch;
    this.#bytes = state.bytes;
    this.#records = state.messages;
    this.#compactParts = {
      gets: this.#gets,
      guard: this.#guard,
      retry: (what, call) => this.#retry(what, call),
      // On the journal's inbox, not nats.js's manager (jetstream_api.ts).
      purge: (filter, seq) =>
        purgeStream(this.#requests, this.streamName, { filter, seq }, PURGE_TIMEOUT_MS),
    };
    this.#cut = options.soleWriter
      ? new StreamCut({
        firstSeq: async () => (await this.#jsm.streams.info(this.streamName)).state.first_seq,
        guard: this.#guard,
        retry: (what, call) => this.#retry(what, call),
        purge: (seq) => purgeStream(this.#requests, this.streamName, { seq }, PURGE_TIMEOUT_MS),
        closed: () => this.#closed,
        turns: options.cutTurns ?? new CutTurns(),
      })
      : undefined;
    this.#appendParts = {
      requests: this.#requests,
      gets: this.#gets,
      guard: this.#guard,
      epoch: this.#epoch,
      publishTimeoutMs: this.#options.publishTimeoutMs,
      publishRetries: this.#options.publishRetries,
      retry: (what, call, repeatable) => this.#retry(what, call, repeatable),
      load: (st) => this.#load(st),
      stored: (bytes, records) => {
        this.#records += records;
        this.#bytes += bytes;
      },
      cutSent: () => this.#cut?.sent ?? 0,
    };
  }

  /** Opens the journal, creating the JetStream stream when it does not exist. */
  static async open(
    nc: NatsConnection,
    options: JetStreamJournalOptions = {},
  ): Promise<JetStreamJournal> {
    const streamName = options.stream ?? JOURNAL_STREAM;
    const prefix = options.subjectPrefix ?? JOURNAL_SUBJECT_PREFIX;
    for (const token of prefix.split(".")) checkName(token, "journal subject prefix token");
    const budgetMs = options.electionBudgetMs ?? ELECTION_BUDGET_MS;
    const { jsm, info } = await openJournalStream(nc, {
      name: streamName,
      prefix,
      budgetMs,
      replicas: options.replicas ?? 1,
      ...(options.description === undefined ? {} : { description: options.description }),
    });
    const journal = new JetStreamJournal(
      nc,
      jsm,
      streamName,
      prefix,
      {
        allowed: info.config.allow_direct === true,
        current: (info.config.num_replicas ?? 1) <= 1,
      },
      options,
      info.state,
    );
    if ((options.loadPositions ?? "open") === "open") await journal.#loadAll();
    return journal;
  }

  /** The subject of a journal stream: `stats/BTC-USD` -> `troupe.journal.stats.BTC-USD`. */
  subjectOf(stream: string): string {
    const tokens = stream.split("/");
    return `${this.subjectPrefix}.${
      tokens.map((t) => checkName(t, "journal stream token")).join(".")
    }`;
  }

  /** The journal stream of a subject, or undefined when it is not a journal subject. */
  streamOf(subject: string): string | undefined {
    if (!subject.startsWith(this.subjectPrefix + ".")) return undefined;
    return subject.slice(this.subjectPrefix.length + 1).split(".").join("/");
  }

  /**
   * (Re)loads `stream`'s last position from the server, clearing a refusal after a failed append.
   * Resolves once appends queued before it have settled.
   */
  async prepare(stream: string): Promise<number> {
    const st = this.#state(stream);
    const step = st.tail.then(async () => {
      await this.#load(st);
      st.broken = undefined;
      st.unsure = undefined;
      return st.lastPos;
    });
    st.tail = step.catch(() => {});
    return await step;
  }

  /** Appends `data` to `stream`; resolves to its position once the server has stored it. */
  append(stream: string, parts: JournalData): Promise<number> {
    return this.#enqueue(stream, joinJournalData(parts), 1);
  }

  /**
   * Appends `records` to `stream` at consecutive positions as one message (_journal_message.ts),
   * all or none; resolves to the first's position once the server has stored it. Queued behind
   * the stream's appends as one append is. A run whose message is over the server's max payload
   * is refused (a RangeError): the caller appends it in shorter runs. One record is written as
   * `append` writes it.
   */
  appendMany(stream: string, records: readonly JournalData[]): Promise<number> {
    if (records.length === 0) {
      return Promise.reject(
        new RangeError(`Cannot append to journal stream "${stream}": no records given`),
      );
    }
    if (records.length === 1) return this.append(stream, records[0]!);
    return this.#enqueue(stream, packRecords(records.map(joinJournalData)), records.length);
  }

  /**
   * Queues a message of `count` records (`data`, packed when 2 or more) behind `stream`'s appends;
   * resolves to its first position once stored.
   */
  #enqueue(stream: string, data: Uint8Array, count: number): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError());
    let st: StreamState;
    try {
      st = this.#state(stream);
    } catch (err) {
      return Promise.reject(err);
    }
    const maxPayload = this.#nc.info?.max_payload ?? Infinity;
    if (data.length + 1024 > maxPayload) {
      const what = count === 1 ? "record" : `run of ${count} records`;
      return Promise.reject(
        new RangeError(
          `Cannot append to journal stream "${stream}": ${what} of ${data.length} bytes is over ` +
            `the server's max payload of ${maxPayload} bytes (less 1 KiB for headers)`,
        ),
      );
    }
    const step = st.tail.then(() => this.#publish(st, data, count));
    st.tail = step.catch(() => {});
    this.#pending.add(step);
    step.then(
      () => this.#pending.delete(step),
      (err: Error) => {
        this.#pending.delete(step);
        this.#failedSinceSync ??= err;
      },
    );
    return step;
  }

  /** The last position the server acknowledged for `stream` (0 when empty or not prepared). */
  lastPosition(stream: string): number {
    return this.#states.get(stream)?.lastPos ?? 0;
  }

  /** The streams known to hold records. */
  streams(): string[] {
    return [...this.#states.values()].filter((s) => s.lastPos > 0).map((s) => s.stream);
  }

  /**
   * The records of `stream` with pos > after, in order, up to the last one acknowledged at the
   * call. The first record is found by binary search over the stream (direct gets), not by
   * reading the stream from its start; what the read's consumer lacks is read from the leader.
   */
  async *read(stream: string, after = 0): AsyncIterable<JournalRecord> {
    const st = this.#state(stream);
    if (!st.loaded) await this.prepare(stream);
    const endSeq = st.lastSeq;
    if (st.lastPos <= after || endSeq === 0) return;
    const startSeq = after > 0 ? await this.#gets.firstSeqAfter(st, after) : 0;
    yield* consumeJournal(this.#reading(), {
      filter: st.subject,
      startSeq,
      endSeq,
      keep: (_s, pos) => pos > after,
      // Checked as a read of the whole journal checks its streams: a consumer on a replica that
      // lacks records (catching up) neither ends the read short nor reports them missing.
      wanted: new Map([[st.subject, { after, lastSeq: endSeq }]]),
    });
  }

  /**
   * Every record with pos > after[stream], in stream-sequence (append) order, up to the last
   * message at the call. This reads the JetStream stream from its first message and filters;
   * `compact` keeps that short. The streams named in `after` are the ones the read is for: each
   * of their records past it comes out, even where another writer's compaction moves the read
   * on meanwhile (see _journal_consume.ts); holes are looked for in them only.
   */
  async *readAll(
    after: ReadonlyMap<string, number> = new Map(),
    unlisted = 0,
  ): AsyncIterable<JournalRecord> {
    // Nothing is read for: not a read of the whole journal, which would look for holes in every
    // subject (and find them where another writer's compaction carried it past records).
    if (after.size === 0 && unlisted === Infinity) return;
    const wanted = new Map<string, { after: number; lastSeq: number }>();
    for (const [stream, pos] of after) {
      const st = this.#states.get(stream);
      wanted.set(this.subjectOf(stream), { after: pos, lastSeq: st?.loaded ? st.lastSeq : 0 });
    }
    const { state } = await this.#retry(
      `read the journal stream ${this.streamName}`,
      () => this.#jsm.streams.info(this.streamName),
    );
    if (state.messages === 0) return;
    yield* consumeJournal(this.#reading(), {
      filter: `${this.subjectPrefix}.>`,
      startSeq: 0,
      endSeq: state.last_seq,
      keep: (stream, pos) => pos > (after.get(stream) ?? unlisted),
      ...(wanted.size > 0 ? { wanted } : {}),
    });
  }

  /**
   * Resolves when every append made so far is acknowledged by the server (which stores it per its
   * own sync policy); rejects if an append since the last sync failed.
   */
  async sync(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    const failed = this.#failedSinceSync;
    this.#failedSinceSync = undefined;
    if (failed) {
      throw new Error(
        `Cannot sync the journal ${this.streamName}: an append failed: ${failed.message}`,
        {
          cause: failed,
        },
      );
    }
  }

  /**
   * Purges each stream's records with pos <= upTo[stream], always keeping its last message so
   * that its position survives; a journal that is its stream's only writer (`soleWriter`) purges
   * the whole stream below the first record any stream needs instead (stream_cut.ts). A
   * stream's purge runs in its append chain, so no append is in flight. A
   * stream compacted to its limit already is left alone (a snapshotter names every stream it has
   * saved, most of them unchanged since its last compaction), and at most
   * `COMPACT_STREAMS_AT_ONCE` streams are compacted at once. While its hold is busy
   * (`compactHold`), the compaction is held back and this resolves at once: the held one runs
   * once the work in progress has ended, with the newest limits asked for meanwhile, and how it
   * failed is thrown by the next call.
   */
  async compact(upTo: ReadonlyMap<string, number>): Promise<void> {
    const failed = this.#held?.takeFailure();
    if (failed) throw failed;
    if (this.#held?.busy) {
      const run = this.#held.ask(upTo);
      this.#compacting.add(run);
      run.then(() => this.#compacting.delete(run));
      return;
    }
    // After the one held back, which would purge the same streams at the same time.
    if (this.#held?.running) await this.#held.running;
    await this.#compactNow(upTo);
  }

  async #compactNow(upTo: ReadonlyMap<string, number>): Promise<void> {
    const run = this.#cut !== undefined && this.#allLoaded
      ? this.#cut.cut(this.#states, upTo)
      : compactStreams(this.#states, upTo, this.#compactParts, () => this.#closed);
    this.#compacting.add(run);
    try {
      await run;
    } finally {
      this.#compacting.delete(run);
    }
  }

  /**
   * The stream's bytes and messages at open (a message of several records counts once) plus the
   * bytes and records this journal appended since.
   */
  stats(): JournalStats {
    return {
      bytes: this.#bytes,
      records: this.#records,
      truncatedBytes: 0,
      damagedBytes: this.#damagedBytes,
    };
  }

  /** The damage met so far while reading, in the order it was met. */
  damage(): readonly JournalDamage[] {
    return [...this.#damage.values()];
  }

  /**
   * Continues `stream`'s positions after `pos` (a snapshot past what the journal still holds): the
   * next append gets `pos + 1`, never a position a lost message had.
   */
  advance(stream: string, pos: number): void {
    const st = this.#state(stream);
    st.floor = Math.max(st.floor, pos);
    if (st.lastPos < pos) st.lastPos = pos;
  }

  /**
   * Waits for appends in flight, and for a compaction's streams in flight (it takes no more);
   * the connection stays open (the caller owns it).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing();
    await Promise.allSettled([...this.#pending, ...this.#compacting]);
    this.#requests.close();
  }

  /** Notes damage at stream sequence `seq` of `subject` (reported once). */
  #damaged(subject: string, seq: number, bytes: number, reason: string): void {
    const damage = { segment: `${this.streamName}:${subject}`, offset: seq, bytes, reason };
    const key = `${damage.segment}#${seq}`;
    if (this.#damage.has(key)) return;
    this.#damage.set(key, damage);
    this.#damagedBytes += bytes;
    this.#onDamage?.(damage);
  }

  #closedError(): Error {
    return new Error(`Cannot use the journal ${this.streamName}: it is closed`);
  }

  /** Appends to `st` once the appends before it settled (_journal_append.ts). */
  #publish(st: StreamState, data: Uint8Array, count: number): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const append = () => appendRecord(st, data, this.#appendParts, count);
    return this.#cut === undefined ? append() : this.#cut.follow(st, append);
  }

  #state(stream: string): StreamState {
    let st = this.#states.get(stream);
    if (!st) {
      // Known empty when open read every subject: appends then expect no earlier message, so a
      // writer that appended since is detected.
      st = newStreamState(stream, this.subjectOf(stream), this.#allLoaded, this.#cut !== undefined);
      this.#states.set(stream, st);
    }
    return st;
  }

  /** `call`, waiting out a cluster's leader election (see jetstream_retry.ts). */
  #retry<T>(what: string, call: () => Promise<T>, repeatable = true): Promise<T> {
    return retryJetStream(what, call, { budgetMs: this.#options.electionBudgetMs, repeatable });
  }

  /** Reads the subject's last message: its position and sequence. */
  async #load(st: StreamState): Promise<void> {
    const msg = await this.#gets.last(st.subject);
    if (msg) {
      st.lastPos = Math.max(st.floor, lastPosIn(msg.header, st.subject, msg.seq));
      st.lastSeq = msg.seq;
    } else {
      st.lastPos = st.floor;
      st.lastSeq = 0;
    }
    st.loaded = true;
    if (st.seqs !== undefined) {
      // What is on the server now is not known by sequence; what this journal stores is.
      st.seqs.length = 0;
      st.knownAfter = st.lastPos;
    }
  }

  async #loadAll(): Promise<void> {
    const info = await this.#retry(
      `list the subjects of the journal stream ${this.streamName}`,
      () => this.#jsm.streams.info(this.streamName, { subjects_filter: `${this.subjectPrefix}.>` }),
    );
    const states: StreamState[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const stream = this.streamOf(subject);
      if (stream !== undefined) states.push(this.#state(stream));
    }
    let next = 0;
    const worker = async () => {
      while (next < states.length) await this.#load(states[next++]!);
    };
    const n = Math.min(this.#options.loadConcurrency, states.length);
    await Promise.all(Array.from({ length: n }, worker));
    this.#allLoaded = true;
  }

  /** What a read of the stream needs of this journal (see _journal_consume.ts). */
  #reading(): JournalReading {
    return {
      js: this.#js,
      streamName: this.streamName,
      maxPayload: this.#nc.info?.max_payload ?? 1 << 20,
      streamOf: (subject) => this.streamOf(subject),
      damaged: (subject, seq, bytes, reason) => this.#damaged(subject, seq, bytes, reason),
      next: (filter, seq) => this.#gets.next(filter, seq),
    };
  }
}
