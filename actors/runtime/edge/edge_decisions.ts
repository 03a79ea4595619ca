/**
 * A host's decisions at its edge, made once and journaled, so that a restart repeats none of them:
 * which channels it admitted under its `channels_max` limit, and which inputs with a source
 * position (JetStream) it dead-lettered instead of applying. They belong to no actor instance, so
 * they have a journal stream of their own, `_edge/<hostId>` (no actor kind starts with `_`), with a
 * snapshot in the snapshot store so that compaction can drop its old records like any other's.
 *
 * On restart the admitted channels come back whole, so the limit counts them: a channel refused
 * before is refused after. The input resumes past the highest source position decided here as well
 * as past those journaled by instances, so a dead-lettered input is not read, judged and
 * dead-lettered again; where the input resumes lower (rebuilding what a damaged journal lost), the
 * positions dead-lettered above that point are passed over.
 *
 * A host that stops cleanly notes here, with the edge's snapshot, the position through which each
 * instance it did not snapshot had its outputs published and flushed: a restart replays those
 * instances' journal tails without publishing their outputs again. After a crash, the tail past
 * what was noted is published again (its outputs carry the ids they had).
 *
 * Records are input records of kinds `admit` (the channel as subject) and `dead` (the source
 * position, the message's subject, the reason), so that whatever reads a journal reads them. The
 * stream also holds recovery's `attempt` records (attempt_record.ts): read back here, and judged by
 * recovery (crash_attempts.ts).
 */
import type { ChannelBook } from "../instances/mod.ts";
import type { Journal } from "../journal/mod.ts";
import type { Snapshot, SnapshotStore } from "../snapshots/mod.ts";
import {
  attemptOf,
  type AttemptRecord,
  decodeInputRecord,
  encodeAttemptRecord,
  encodeInputRecord,
  type InputRecord,
} from "../../../protocol/mod.ts";

const utf8 = new TextEncoder();

/** The version of an edge snapshot's contents. */
const EDGE_VERSION = 1;

/** The journal stream of a host's edge decisions. */
export function edgeStream(hostId: string): string {
  return `_edge/${hostId}`;
}

/** What an edge needs around it. */
export interface EdgeDecisionsOptions {
  hostId: string;
  journal: Journal;
  log: (message: string) => void;
  /** The process's channels, when its hosts share a limit: what this host admits goes in it. */
  book?: ChannelBook | undefined;
}

/** A host's journaled edge decisions. */
export class EdgeDecisions {
  readonly stream: string;
  readonly #journal: Journal;
  readonly #log: (message: string) => void;
  readonly #channels = new Set<string>();
  readonly #book: ChannelBook | undefined;
  readonly #holder: string;
  /** Source positions dead-lettered above where the input resumes (see `resumeAt`). */
  readonly #dead = new Set<number>();
  #maxSrcPos = 0;
  #pos = 0;
  /** The attempt records read back past the edge's snapshot, in order. */
  readonly #attempts: AttemptRecord[] = [];
  /** The journal positions recovery skipped, by stream (kept in the edge's snapshot too). */
  readonly #skipped = new Map<string, Set<number>>();
  #sinceSnapshot = 0;
  /** Each stream's position through which its outputs were published at the last clean stop. */
  #published = new Map<string, number>();

  constructor(options: EdgeDecisionsOptions) {
    this.stream = edgeStream(options.hostId);
    this.#journal = options.journal;
    this.#log = options.log;
    this.#book = options.book;
    this.#holder = options.hostId;
  }

  /** `channel` is admitted here (and in the process's book). */
  #hold(channel: string): void {
    this.#channels.add(channel);
    this.#book?.add(channel, this.#holder);
  }

  /** How many channels are admitted. */
  get channels(): number {
    return this.#channels.size;
  }

  /** The highest source position decided here (0: none). */
  get maxSrcPos(): number {
    return this.#maxSrcPos;
  }

  /** Decisions made since the last snapshot. */
  get sinceSnapshot(): number {
    return this.#sinceSnapshot;
  }

  /** Rebuilds the decisions from the edge's snapshot and the journal past it. */
  async recover(store: SnapshotStore): Promise<void> {
    const snap = await store.load(this.stream);
    let after = 0;
    if (snap && snap.version === EDGE_VERSION) {
      const m = snap.machine as { channels?: unknown; skipped?: unknown; published?: unknown };
      if (Array.isArray(m.channels)) {
        for (const c of m.channels) if (typeof c === "string") this.#hold(c);
      }
      if (Array.isArray(m.skipped)) {
        for (const e of m.skipped) {
          if (Array.isArray(e) && typeof e[0] === "string" && typeof e[1] === "number") {
            this.#skip(e[0], e[1]);
          }
        }
      }
      if (Array.isArray(m.published)) {
        for (const e of m.published) {
          if (Array.isArray(e) && typeof e[0] === "string" && typeof e[1] === "number") {
            this.#published.set(e[0], e[1]);
          }
        }
      }
      this.#maxSrcPos = Number(snap.meta?.srcPos ?? 0);
      after = snap.pos;
    }
    this.#pos = after;
    for await (const rec of this.#journal.read(this.stream, after)) {
      this.#pos = rec.pos;
      try {
        const r = decodeInputRecord(rec.data);
        if (r.kind === "admit") this.#hold(r.subject);
        else if (r.kind === "attempt") this.#attempted(attemptOf(r));
        else if (r.kind === "dead") {
          this.#dead.add(r.srcPos);
          if (r.srcPos > this.#maxSrcPos) this.#maxSrcPos = r.srcPos;
        }
      } catch (err) {
        this.#log(
          `${this.stream}: record ${rec.pos} is not an edge decision: ${(err as Error).message}`,
        );
      }
    }
    if (this.#journal.lastPosition(this.stream) < this.#pos) {
      this.#journal.advance?.(this.stream, this.#pos);
    }
  }

  /**
   * Forgets the dead-lettered positions at or below `resumeAfter`: the input will not repeat them.
   */
  resumeAt(resumeAfter: number): void {
    for (const s of this.#dead) if (s <= resumeAfter) this.#dead.delete(s);
  }

  /**
   * The journal positions of `stream` recovery skipped (an input the host died applying, or whose
   * step overran): known before its journal is read, so that no fold applies them first.
   */
  skippedIn(stream: string): ReadonlySet<number> | undefined {
    return this.#skipped.get(stream);
  }

  /**
   * The position through which `stream`'s outputs were published at the last clean stop (0), read
   * once: recovery takes it, and later snapshots of the edge do not carry it on (a crash after this
   * start republishes the tail, as after any crash).
   */
  takePublished(stream: string): number {
    const pos = this.#published.get(stream) ?? 0;
    this.#published.delete(stream);
    return pos;
  }

  /**
   * Notes, for the edge's next snapshot, the position through which each stream's outputs were
   * published and flushed (a stopping host's instances that no snapshot covers); replaces what was
   * noted before.
   */
  notePublished(published: ReadonlyMap<string, number>): void {
    this.#published = new Map(published);
    this.#sinceSnapshot++;
  }

  /** The attempt records recovery journaled before this start (past the edge's snapshot). */
  get attempts(): readonly AttemptRecord[] {
    return this.#attempts;
  }

  /**
   * Journals an attempt record (see attempt_record.ts); resolves once it outlives the process: a
   * buffering journal has written it, any other has stored it.
   */
  async attempt(attempt: AttemptRecord): Promise<void> {
    this.#sinceSnapshot++;
    if (attempt.phase === "skipped") this.#skip(attempt.stream, attempt.pos);
    const r = this.#journal.append(this.stream, encodeAttemptRecord(attempt));
    this.#track(r);
    if (typeof r === "number") this.#journal.writeOut?.();
    else await r;
  }

  /** Whether `channel` was admitted. */
  admitted(channel: string): boolean {
    return this.#channels.has(channel);
  }

  /** Admits `channel`, journaling the decision. */
  admit(channel: string): void {
    this.#hold(channel);
    this.#append({ kind: "admit", srcPos: 0, subject: channel, payload: new Uint8Array(0) });
  }

  /** Whether the input at `srcPos` was dead-lettered already (above where the input resumed). */
  deadLettered(srcPos: number): boolean {
    return this.#dead.has(srcPos);
  }

  /** Journals that the input at `srcPos` on `subject` was dead-lettered for `reason` (nothing
   *  for an input without a source position: it is never delivered again). */
  deadLetter(srcPos: number, subject: string, reason: string): void {
    void this.#dead1(srcPos, subject, reason);
  }

  /**
   * As deadLetter, resolving once the decision outlives the process (a buffering journal has
   * written it, any other has stored it): for a decision something else is removed on the strength
   * of, such as a step overrun's file.
   */
  async deadLetterKept(srcPos: number, subject: string, reason: string): Promise<void> {
    const r = this.#dead1(srcPos, subject, reason);
    if (r === undefined) return;
    if (typeof r === "number") this.#journal.writeOut?.();
    else await r;
  }

  #dead1(srcPos: number, subject: string, reason: string): number | Promise<number> | undefined {
    if (srcPos <= 0) return undefined;
    if (srcPos > this.#maxSrcPos) this.#maxSrcPos = srcPos;
    return this.#append({ kind: "dead", srcPos, subject, payload: utf8.encode(reason) });
  }

  /** The edge's snapshot at its last journaled decision; resets `sinceSnapshot`. */
  snapshot(): Snapshot {
    this.#sinceSnapshot = 0;
    return {
      stream: this.stream,
      version: EDGE_VERSION,
      pos: this.#pos,
      machine: {
        channels: [...this.#channels],
        skipped: [...this.#skipped].flatMap(([stream, ps]) => [...ps].map((p) => [stream, p])),
        published: [...this.#published],
      },
      kernel: new Uint8Array(0),
      meta: { srcPos: this.#maxSrcPos },
    };
  }

  #attempted(attempt: AttemptRecord): void {
    this.#attempts.push(attempt);
    if (attempt.phase === "skipped") this.#skip(attempt.stream, attempt.pos);
  }

  #skip(stream: string, pos: number): void {
    let set = this.#skipped.get(stream);
    if (!set) this.#skipped.set(stream, set = new Set());
    set.add(pos);
  }

  #append(record: InputRecord): number | Promise<number> {
    this.#sinceSnapshot++;
    const r = this.#journal.append(this.stream, encodeInputRecord(record));
    this.#track(r);
    return r;
  }

  /** Follows the position of a record appended to the edge's stream. */
  #track(r: number | Promise<number>): void {
    if (typeof r === "number") this.#pos = r;
    else {
      r.then((pos) => {
        if (pos > this.#pos) this.#pos = pos;
      }, (err: Error) => this.#log(`${this.stream}: cannot journal a decision: ${err.message}`));
    }
  }
}
