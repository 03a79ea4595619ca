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
 * The snapshot carries too the source position through which every input the host was delivered
 * was journaled or settled when it was taken (`noteThrough`, host/input_through.ts): saved after
 * the journal is synced, it stays true whatever comes after, and a start resumes its input no
 * lower (`journaledThrough`).
 *
 * A channel is admitted by its first frame, journaled here before that frame reaches its instances'
 * journals; a host that dies between the two kept no instance of it, and holds nothing back where
 * its input resumes, while the channels that shared the frame's source position (a feed batch)
 * took it. So an admit record carries the frame's source position, and until the channel's
 * instances have taken it (`firstFrameHeld`) the input resumes below it. Records of journals
 * written without it (0) hold nothing back.
 *
 * Records are input records of kinds `admit` (the channel as subject, the source position of its
 * first frame) and `dead` (the source position, the message's subject, the reason), so that
 * whatever reads a journal reads them. The stream also holds recovery's `attempt` records
 * (attempt_record.ts): read back here, and judged by recovery (crash_attempts.ts).
 */
import type { ChannelBook, HostLimits } from "../instances/mod.ts";
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

/** Whether the instances here of `channel` took (and journaled) its frame at `srcPos`. */
export type FirstFrameTaken = (channel: string, srcPos: number) => boolean;

/** What an edge needs around it. */
export interface EdgeDecisionsOptions {
  hostId: string;
  journal: Journal;
  log: (message: string) => void;
  /**
   * `channelBook`: the process's channels, when its hosts share a limit (what this host admits
   * goes in it); `lives`: which channels count against this host's limit (default: all).
   */
  limits?: Pick<HostLimits, "channelBook" | "lives"> | undefined;
}

/** A host's journaled edge decisions. */
export class EdgeDecisions {
  readonly stream: string;
  readonly #journal: Journal;
  readonly #log: (message: string) => void;
  readonly #channels = new Set<string>();
  readonly #book: ChannelBook | undefined;
  readonly #holder: string;
  readonly #lives: (channel: string) => boolean;
  /** The channels admitted whose own instances live here. */
  #living = 0;
  /** The subjects dead-lettered at each source position above where the input resumes (see
   *  `resumeAt`): a whole message's, or one frame's of a feed batch (whose others went on). */
  readonly #dead = new Map<number, Set<string>>();
  #maxSrcPos = 0;
  #pos = 0;
  /** The position of the last snapshot taken (`snapshot`). */
  #snapshotPos = 0;
  /** The attempt records read back past the edge's snapshot, in order. */
  readonly #attempts: AttemptRecord[] = [];
  /** The journal positions recovery skipped, by stream (kept in the edge's snapshot too). */
  readonly #skipped = new Map<string, Set<number>>();
  #sinceSnapshot = 0;
  /** Each stream's position through which its outputs were published at the last clean stop. */
  #published = new Map<string, number>();
  /** Per channel admitted, the source position of its first frame, until its instances took it. */
  readonly #firstFrames = new Map<string, number>();
  /** The source position the input is journaled through, as last noted (0: none). */
  #through = 0;
  /** What the last snapshot carried of it. */
  #savedThrough = 0;
  /** What the snapshot the decisions were rebuilt from carried of it. */
  #readThrough = 0;

  constructor(options: EdgeDecisionsOptions) {
    this.stream = edgeStream(options.hostId);
    this.#journal = options.journal;
    this.#log = options.log;
    this.#book = options.limits?.channelBook;
    this.#holder = options.hostId;
    this.#lives = options.limits?.lives ?? (() => true);
  }

  /** `channel` is admitted here (and in the process's book). */
  #hold(channel: string): void {
    if (this.#channels.has(channel)) return;
    this.#channels.add(channel);
    if (this.#lives(channel)) this.#living++;
    this.#book?.add(channel, this.#holder);
  }

  /** How many channels are admitted. */
  get channels(): number {
    return this.#channels.size;
  }

  /** How many of them live here (see `lives`): what counts against the host's limit. */
  get living(): number {
    return this.#living;
  }

  /** Whether `channel`'s own instances live on this host. */
  lives(channel: string): boolean {
    return this.#lives(channel);
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
      const m = snap.machine as {
        channels?: unknown;
        skipped?: unknown;
        published?: unknown;
        firstFrames?: unknown;
      };
      if (Array.isArray(m.channels)) {
        for (const c of m.channels) if (typeof c === "string") this.#hold(c);
      }
      if (Array.isArray(m.firstFrames)) {
        for (const e of m.firstFrames) {
          if (Array.isArray(e) && typeof e[0] === "string" && typeof e[1] === "number") {
            this.#firstFrames.set(e[0], e[1]);
          }
        }
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
      const through = journaledThroughOf(snap);
      if (through > 0) this.#through = this.#savedThrough = this.#readThrough = through;
    }
    this.#pos = after;
    for await (const rec of this.#journal.read(this.stream, after)) {
      this.#pos = rec.pos;
      try {
        const r = decodeInputRecord(rec.data);
        if (r.kind === "admit") {
          this.#hold(r.subject);
          if (r.srcPos > 0) this.#firstFrames.set(r.subject, r.srcPos);
        } else if (r.kind === "attempt") this.#attempted(attemptOf(r));
        else if (r.kind === "dead") {
          const at = this.#dead.get(r.srcPos);
          if (at) at.add(r.subject);
          else this.#dead.set(r.srcPos, new Set([r.subject]));
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
   * The source position through which every input the host was delivered was journaled or settled,
   * as the snapshot the decisions were rebuilt from said (0: none said).
   */
  get journaledThrough(): number {
    return this.#readThrough;
  }

  /**
   * Notes the source position through which every input the host was delivered is journaled or
   * settled, for the next snapshot (saved once the journal is synced); with `due`, that snapshot
   * is due if the position moved past what the last one carried.
   */
  noteThrough(through: number, due: boolean): void {
    if (through > this.#through) this.#through = through;
    if (due && this.#through > this.#savedThrough) this.#sinceSnapshot++;
  }

  /** Whether the position noted moved past what the last snapshot carried. */
  get throughMoved(): boolean {
    return this.#through > this.#savedThrough;
  }

  /**
   * Forgets the dead-lettered positions at or below `resumeAfter`: the input will not repeat them.
   */
  resumeAt(resumeAfter: number): void {
    for (const s of this.#dead.keys()) if (s <= resumeAfter) this.#dead.delete(s);
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

  /** Admits `channel` by its frame at source position `srcPos` (0: none), journaling it. */
  admit(channel: string, srcPos: number): void {
    this.#hold(channel);
    if (srcPos > 0) this.#firstFrames.set(channel, srcPos);
    this.#append({ kind: "admit", srcPos, subject: channel, payload: new Uint8Array(0) });
  }

  /**
   * The lowest source position of a channel's first frame that its instances have not taken (0:
   * none), forgetting those `taken(channel, srcPos)` says they have: the input is to resume below
   * it, or that frame is never read again.
   */
  firstFrameHeld(taken: FirstFrameTaken): number {
    let low = 0;
    for (const [channel, srcPos] of this.#firstFrames) {
      if (taken(channel, srcPos)) this.#firstFrames.delete(channel);
      else if (low === 0 || srcPos < low) low = srcPos;
    }
    return low;
  }

  /**
   * Whether the input at `srcPos` on `subject` was dead-lettered already (above where the input
   * resumed): the whole message's subject, or one frame's of a feed batch.
   */
  deadLettered(srcPos: number, subject: string): boolean {
    return this.#dead.get(srcPos)?.has(subject) ?? false;
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

  /** The edge's snapshot (see `snapshot`) when a decision was made since the last one. */
  snapshotDue(taken: FirstFrameTaken): Snapshot | undefined {
    return this.#sinceSnapshot > 0 ? this.snapshot(taken) : undefined;
  }

  /**
   * The edge's snapshot at its last journaled decision; resets `sinceSnapshot`. It keeps the first
   * frames `taken` does not say were taken (and journaled: the journal is synced before a snapshot
   * is saved), as its compaction drops the admit records that held them.
   */
  snapshot(taken: FirstFrameTaken = () => false): Snapshot {
    this.#sinceSnapshot = 0;
    this.#snapshotPos = this.#pos;
    this.#savedThrough = this.#through;
    this.firstFrameHeld(taken);
    return {
      stream: this.stream,
      version: EDGE_VERSION,
      pos: this.#pos,
      machine: {
        channels: [...this.#channels],
        skipped: [...this.#skipped].flatMap(([stream, ps]) => [...ps].map((p) => [stream, p])),
        published: [...this.#published],
        firstFrames: [...this.#firstFrames],
        ...(this.#through > 0 ? { through: this.#through } : {}),
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
        // Acknowledged after a snapshot was taken at an earlier position: the next one is due,
        // else the stream's records past it stay uncovered (and uncompacted) until the next
        // decision, which a host that admits no new channel may never make.
        if (pos > this.#snapshotPos && this.#sinceSnapshot === 0) this.#sinceSnapshot = 1;
      }, (err: Error) => this.#log(`${this.stream}: cannot journal a decision: ${err.message}`));
    }
  }
}

/** The source position an edge's snapshot says its host's input is journaled through (0: none). */
export function journaledThroughOf(snap: Snapshot): number {
  const through = (snap.machine as { through?: unknown }).through;
  return typeof through === "number" && through > 0 ? through : 0;
}
