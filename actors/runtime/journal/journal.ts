/**
 * The journal contract: what an event-sourced actor host needs from durable storage of its inputs.
 * Every actor instance has a stream (`"stats/BTC-USD"`) of records at consecutive positions from
 * 1; recovery loads the newest snapshot and replays the stream past the snapshot's position. Two
 * implementations: FileJournal (segment files on local disk) and JetStreamJournal (a JetStream
 * subject per stream).
 */

/** A journal's streams and their last positions (`Journal.streamLasts`). */
export interface StreamLasts {
  streams: string[];
  /** The last position of `streams[i]` at `i`. */
  lasts: Float64Array;
}

/** One journaled record of a stream (an actor instance's inputs, e.g. stream "stats/BTC-USD"). */
export interface JournalRecord {
  stream: string;
  pos: number;
  data: Uint8Array;
}

/** Counters a journal reports for metrics. */
export interface JournalStats {
  bytes: number;
  records: number;
  truncatedBytes: number;
  /** Bytes found damaged between intact records (skipped, kept on disk, never read as data). */
  damagedBytes?: number;
}

/**
 * A damaged range of a journal file followed by intact records: the journal reads on past it, at
 * the next intact record, and keeps the file as it is. What the range held is lost to the journal.
 */
export interface JournalDamage {
  /** The file's path. */
  segment: string;
  /** The first byte that is not an intact record. */
  offset: number;
  /** How many bytes up to the next intact record (or the end of the written data). */
  bytes: number;
  /** Why the bytes there were not a record. */
  reason: string;
}

/**
 * What `append` takes: the record's bytes, or its parts in order (a small header and a large
 * payload, say), which the file journal writes into its buffer without joining them first.
 */
export type JournalData = Uint8Array | readonly Uint8Array[];

/** The total length of journal data. */
export function journalDataLength(data: JournalData): number {
  if (data instanceof Uint8Array) return data.length;
  let n = 0;
  for (const part of data) n += part.length;
  return n;
}

/** Journal data as one array (a copy only when it is in parts). */
export function joinJournalData(data: JournalData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data.length === 1) return data[0]!;
  const out = new Uint8Array(journalDataLength(data));
  let at = 0;
  for (const part of data) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * An object a caller keeps for one stream and hands to each of that stream's appends: a journal
 * may keep in it how it finds the stream, so that an append to one of a host's hundreds of
 * thousands of streams needs no lookup by name (a map of that size is mostly cache misses to
 * look in). A journal may ignore it; one memo serves one stream of one journal (the file journal
 * checks both).
 */
export interface StreamMemo {
  /** Whose it is: an object of the journal that kept something here (the file journal's table of
   *  streams). */
  journal?: object;
  /** What it kept. */
  held?: unknown;
}

/** Append-only, per-stream ordered storage of actor inputs. */
export interface Journal {
  /** True for a journal whose records do not outlive the process (in memory). */
  readonly volatile?: boolean;
  /**
   * Whether a host compacts it as it stops, after the stop's snapshots: default true (the file
   * journal's next start reads the table of streams of every segment it keeps); the JetStream
   * journal's is false.
   */
  readonly compactsAtStop?: boolean;
  /** Appends `data` to `stream` and returns its position: 1-based, consecutive per stream. The file
   *  journal appends synchronously to an in-memory buffer (and returns a number); the JetStream
   *  journal returns a Promise. Records of one stream are kept in append order. `memo`: the
   *  caller's for this stream (StreamMemo), where it keeps one. */
  append(stream: string, data: JournalData, memo?: StreamMemo): number | Promise<number>;
  /**
   * Appends `records` to `stream` at consecutive positions in one write and resolves to the
   * first's position: one round trip for a run of inputs where each append would wait for the one
   * before (the JetStream journal). Stored all or none. A journal whose appends return at once
   * has none: its callers append one at a time.
   */
  appendMany?(stream: string, records: readonly JournalData[]): Promise<number>;
  /** The last position appended to `stream` (0 when empty). */
  lastPosition(stream: string): number;
  /** The streams that hold records. */
  streams(): string[];
  /**
   * `streams()` and each one's `lastPosition`, in the same order: what a start reads of every
   * stream without a lookup by name for each (a fleet host's journal holds hundreds of
   * thousands). Only a journal that keeps its streams in memory has it.
   */
  streamLasts?(): StreamLasts;
  /** The records of `stream` with pos > after, in order. */
  read(stream: string, after?: number): AsyncIterable<JournalRecord>;
  /**
   * Every record with pos > after[stream], in append order across streams: recovery's single
   * pass. A stream not in `after` is read past `unlisted`: 0 (all of it, the default), or
   * Infinity (none of it: a fleet host's start names only the streams it reads).
   */
  readAll(after?: ReadonlyMap<string, number>, unlisted?: number): AsyncIterable<JournalRecord>;
  /**
   * `readAll` in batches: the same records in the same order, one await a batch rather than one
   * a record (recovery over millions of small records). A record's `data` may be a view of a
   * buffer its batch shares: copy it to keep it past the batch. Only a journal that reads in
   * chunks has it.
   */
  readAllBatches?(
    after?: ReadonlyMap<string, number>,
    unlisted?: number,
  ): AsyncIterable<JournalRecord[]>;
  /** Makes everything appended so far durable per the journal's policy (write + fsync). */
  sync(): Promise<void>;
  /**
   * Starts writing what was appended now (at once, or as soon as a write in flight ends), without
   * an fsync: once written it outlives the process (a `kill -9`), if not the machine. Only a
   * journal that buffers appends has it.
   */
  flush?(): void;
  /**
   * Writes what was appended before returning, on the calling thread, without an fsync: it then
   * outlives the process (a `kill -9`, a `process.exit`), if not the machine. Only a journal that
   * buffers appends has it; one whose appends resolve once stored needs none.
   */
  writeOut?(): void;
  /** Drops records every stream no longer needs: all records with pos <= upTo[stream] may go
   *  (whole sealed segments only; never required). */
  compact?(upTo: ReadonlyMap<string, number>): Promise<void>;
  stats(): JournalStats;
  /** The damaged ranges met so far (on open and while reading), oldest first. */
  damage?(): readonly JournalDamage[];
  /** Reloads `stream`'s last position from storage, where another writer may have appended, and
   *  lets appends to it go on after a conflict (JournalConflictError); appends made after the call
   *  wait for it. Only a journal that other processes can write (JetStream) has it. */
  prepare?(stream: string): Promise<number>;
  /** Continues `stream`'s positions after `pos` when the journal lost records a snapshot covers
   *  (a damaged or deleted tail): the next append gets `pos + 1`, never a position used before. */
  advance?(stream: string, pos: number): void;
  close(): Promise<void>;
}

/** When a journal forces its writes to stable storage. */
export type FsyncPolicy = "always" | "interval" | "never";

/**
 * A journal's stored data is damaged where it cannot be a torn tail (a sealed segment, an index).
 */
export class JournalCorruptError extends Error {
  override name = "JournalCorruptError";
  /** The file or subject at fault. */
  readonly where: string;
  /** The byte offset in the file, when there is one. */
  readonly offset: number | undefined;

  constructor(message: string, options: { where: string; offset?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.where = options.where;
    this.offset = options.offset;
  }
}

/**
 * Another writer appended to a stream this journal writes: single-writer safety was violated. The
 * stream refuses appends, with this error again, until `prepare(stream)` reloads it.
 */
export class JournalConflictError extends Error {
  override name = "JournalConflictError";
  /** The journal stream (actor instance) both writers appended to. */
  readonly stream: string;

  constructor(message: string, options: { stream: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.stream = options.stream;
  }
}

/**
 * Every record with pos > after[stream], as `readAll`, in batches: the journal's own where it
 * reads in batches, else a batch a record.
 */
export async function* recordBatches(
  journal: Journal,
  after?: ReadonlyMap<string, number>,
  unlisted = 0,
): AsyncIterable<readonly JournalRecord[]> {
  if (journal.readAllBatches) {
    yield* journal.readAllBatches(after, unlisted);
    return;
  }
  for await (const rec of journal.readAll(after, unlisted)) yield [rec];
}
