/**
 * The compaction of a journal that is the only writer of its JetStream stream (a leased
 * partition's, under its lease): purges of the whole stream below the first message any of its
 * journal streams still needs, as the file journal drops sealed segments, rather than a filtered
 * purge of each journal stream's subject. A filtered purge on nats-server 2.9 loads every block of
 * the stream that holds its subject, and finding where to purge needs a binary search of direct
 * gets: compacting each instance's subject costs the server more than the appends it compacts
 * (docs/leased_journal_cut.md).
 *
 * Where the cut may go: below the first message of each journal stream that holds a position past
 * the stream's snapshot. The journal knows the sequence of every message it stored since it
 * loaded the stream (`StreamState.seqs`). Where a stream's snapshot is older than what the journal
 * found on the server when it loaded it (a partition taken over, its instances' records past
 * their snapshots), the sequence of its first needed record is not known, and the stream is not
 * cut until that instance's next snapshot covers them (a round takes every instance with news
 * within `snapshots.max_age_ms`). A journal stream its snapshot covers whole holds the cut
 * nowhere: its last message goes too, its position lives on in the journal and, at the next
 * start, in its snapshot (recovery continues positions after a snapshot past the journal's end). A
 * message in flight is stored above every sequence acknowledged before it was sent, so the cut
 * never passes the highest acknowledged when the oldest append still in flight began, nor that of
 * an append whose fate is unknown (`StreamState.unsure`); and it keeps the newest message stored.
 *
 * nats-server 2.9 holds the stream while it purges below a sequence, and spends on each message
 * it purges a scan of its block for the next message of the same subject, which grows with the
 * subjects a partition holds (measured: docs/leased_journal_cut.md). So the stream is cut
 * `CUT_STEP_MESSAGES` at a time, each purge answered before the next is sent, and a process's
 * journals take turns (`CutTurns`): appends wait on one step, not on the whole.
 *
 * After a cut, a subject whose last message went expects none (its appends name sequence 0); an
 * append sent before the cut that the server refuses for it finds its subject empty and is sent
 * again as its first (_journal_append.ts).
 */
import type { StreamState } from "./jetstream_stream.ts";
import type { CutTurns } from "./cut_turns.ts";

/**
 * Messages one purge takes at most: the stream is held from its appends while a purge runs, for a
 * time that grows with the messages it purges (docs/leased_journal_cut.md), so a cut's appends
 * wait for a purge of this many, not for one of the whole cut.
 */
export const CUT_STEP_MESSAGES = 256;

/** What a cut works with: the stream's first sequence, the journal's guard and its purge. */
export interface CutParts {
  /** The stream's first sequence now, as the server says. */
  firstSeq(): Promise<number>;
  /** Asked before each purge is sent: an error refuses it (a lease lost). */
  guard: (() => Error | undefined) | undefined;
  /** `call`, waiting out a cluster's leader election. */
  retry<T>(what: string, call: () => Promise<T>): Promise<T>;
  /** Purges every message of the stream below sequence `seq`. */
  purge(seq: number): Promise<unknown>;
  /** Whether the journal is closing: no more steps are begun. */
  closed(): boolean;
  /** The turns its purges take (shared with the process's other journals). */
  turns: CutTurns;
}

/** The acknowledged sequences and the appends in flight of a journal that cuts its stream. */
export class StreamCut {
  readonly #parts: CutParts;
  /** The highest stream sequence acknowledged to this journal. */
  #maxAcked = 0;
  /** Appends in flight, by the highest sequence acknowledged when each began: their count. */
  readonly #inFlight = new Map<number, number>();
  /** The highest cut sent to the server: every message below it may be gone. */
  sent = 0;
  /** Where the stream begins: below it the server holds nothing (0: not asked yet). */
  #first = 0;

  constructor(parts: CutParts) {
    this.#parts = parts;
  }

  /**
   * `append`, an append to `st`, followed while in flight: it is stored above the highest sequence
   * acknowledged as it begins, and a cut does not pass that until it ends (nor, when its fate is
   * unknown, until the next append to `st` settles it).
   */
  follow(st: StreamState, append: () => Promise<number>): Promise<number> {
    const floor = this.#maxAcked;
    this.#inFlight.set(floor, (this.#inFlight.get(floor) ?? 0) + 1);
    return append().then((pos) => {
      this.#end(floor, st.lastSeq);
      return pos;
    }, (err) => {
      if (st.unsure !== undefined) st.unsure.floor ??= floor;
      this.#end(floor, undefined);
      throw err;
    });
  }

  /** The append begun at `floor` ended (stored at `seq`, or not). */
  #end(floor: number, seq: number | undefined): void {
    const n = this.#inFlight.get(floor)! - 1;
    if (n === 0) this.#inFlight.delete(floor);
    else this.#inFlight.set(floor, n);
    if (seq !== undefined && seq > this.#maxAcked) this.#maxAcked = seq;
  }

  /**
   * Cuts the stream below the first message any journal stream of `states` needs past its
   * snapshot position (`upTo`; a stream not in it has none), `CUT_STEP_MESSAGES` a purge.
   */
  async cut(states: ReadonlyMap<string, StreamState>, upTo: ReadonlyMap<string, number>) {
    const parts = this.#parts;
    const at = this.#where(states.values(), upTo);
    if (at <= Math.max(1, this.#first)) return;
    if (this.#first === 0) {
      this.#first = await parts.retry("read where the journal's stream begins", parts.firstSeq);
    }
    while (this.#first < at && !parts.closed()) {
      const below = Math.min(at, this.#first + CUT_STEP_MESSAGES);
      const refused = parts.guard?.();
      if (refused) throw refused;
      await parts.turns.take(() => {
        this.sent = Math.max(this.sent, below);
        return parts.retry(`cut the journal below sequence ${below}`, () => {
          const refused = parts.guard?.();
          if (refused) throw refused;
          return parts.purge(below);
        });
      });
      this.#first = below;
      this.#cutDone(states.values(), below);
    }
  }

  /**
   * The highest cut that takes no message in flight nor one not yet acknowledged, and keeps the
   * newest message this journal stored: a stream of no message would read as a new host's at the
   * next start, which then reads no snapshots (recovery.ts).
   */
  #bound(): number {
    let bound = this.#maxAcked;
    for (const floor of this.#inFlight.keys()) bound = Math.min(bound, floor + 1);
    return bound;
  }

  /**
   * Where the stream may be cut now, given each journal stream's snapshot position (`upTo`; a
   * stream not in it has none): every message below the result is one no journal stream needs.
   * 0 or 1: nowhere.
   */
  #where(states: Iterable<StreamState>, upTo: ReadonlyMap<string, number>): number {
    let cut = this.#bound();
    let known = true;
    for (const st of states) {
      if (st.unsure?.floor !== undefined) cut = Math.min(cut, st.unsure.floor + 1);
      const need = neededFrom(st, upTo.get(st.stream) ?? 0);
      if (need === 0) known = false;
      else cut = Math.min(cut, need);
    }
    return known ? cut : 0;
  }

  /**
   * After the server purged everything below `cut`: the subjects whose last message went expect
   * none, and keep their positions; the sequences below it are forgotten.
   */
  #cutDone(states: Iterable<StreamState>, cut: number): void {
    for (const st of states) {
      if (st.lastSeq > 0 && st.lastSeq < cut) {
        st.lastSeq = 0;
        st.floor = Math.max(st.floor, st.lastPos);
      }
      const seqs = st.seqs;
      if (seqs === undefined || seqs.length === 0 || seqs[1]! >= cut) continue;
      let i = 0;
      while (i < seqs.length && seqs[i + 1]! < cut) i += 2;
      seqs.splice(0, i);
    }
  }
}

/**
 * The sequence of `st`'s first message holding a position past `limit`: Infinity when it needs
 * none; 0 when it is not known (a record the journal found on the server is needed). Forgets the
 * messages the limit covers: limits only rise (a stream's newest saved snapshot), and one below
 * what was forgotten is not known.
 */
function neededFrom(st: StreamState, limit: number): number {
  if (limit < st.knownAfter) return 0;
  const seqs = st.seqs!;
  let i = 0;
  while (i < seqs.length && seqs[i]! <= limit) i += 2;
  if (i > 0) {
    seqs.splice(0, i);
    st.knownAfter = limit;
  }
  if (limit >= st.lastPos) return Infinity;
  // Positions past the limit that no message holds: continued after a lost tail (`advance`).
  return seqs.length > 0 ? seqs[1]! : Infinity;
}
