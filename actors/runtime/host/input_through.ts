/**
 * How far a host's input is journaled: the source position through which every input it was
 * delivered is in the journal or was settled at the edge (dropped as a duplicate or as another
 * host's, refused, dead-lettered). It is noted with the edge's decisions and carried by their
 * snapshot, saved after the journal is synced (edge_decisions.ts), and a start resumes the input
 * no lower than it (recover_at_start.ts): below the oldest position an instance took, which a
 * channel gone quiet holds far back, lies only what is journaled already. A clean stop notes it
 * last; a running host with each snapshot of the decisions, and at least every `everyMs` (the
 * snapshots' `max_age_ms`: the journal keeps that much past a snapshot too), so that a start
 * after a crash reads again at most about that much of the feed.
 *
 * An input still waiting unjournaled in a mailbox keeps it below its own position; inputs held
 * for rebuilt instances leave it where it was. And whether an instance's pump still waits for an
 * append, which a stop lets finish first.
 */
import type { Slot } from "../instances/mod.ts";
import type { EdgeDecisions, FirstFrameTaken } from "../edge/mod.ts";
import type { Snapshot } from "../snapshots/mod.ts";

/** The highest source position delivered, and what is journaled through it. */
export class InputThrough {
  readonly #slots: ReadonlyMap<string, Slot>;
  readonly #held: { readonly waiting: number };
  readonly #everyMs: number;
  #delivered = 0;
  /** When a snapshot of the decisions last carried a new position (host ms). */
  #savedMs = 0;

  constructor(
    slots: ReadonlyMap<string, Slot>,
    held: { readonly waiting: number },
    everyMs: number,
  ) {
    this.#slots = slots;
    this.#held = held;
    this.#everyMs = everyMs;
  }

  /** Where the input resumes: nothing at or below it is to come. */
  resume(after: number): void {
    this.#delivered = after;
  }

  /** Notes an input delivered at `srcPos` (0: one without a source position). */
  took(srcPos: number): void {
    if (srcPos > this.#delivered) this.#delivered = srcPos;
  }

  /**
   * The source position through which every input delivered is journaled or settled; 0 while
   * inputs wait held for rebuilt instances.
   */
  through(): number {
    if (this.#held.waiting > 0) return 0;
    let through = this.#delivered;
    for (const slot of this.#slots.values()) {
      for (let i = slot.head; i < slot.mailbox.length; i++) {
        const item = slot.mailbox[i]!;
        const src = item.record.srcPos;
        // An append in flight has no position yet: not journaled until it has.
        if (item.pos === undefined && src > 0 && src <= through) through = src - 1;
      }
    }
    return through;
  }

  /**
   * The decisions' snapshot for a round of snapshots (taken before the journal is synced): the
   * position noted on them, and due when a decision was made since the last, or when the
   * position moved and the last that carried one is `everyMs` old.
   */
  edgeSnapshot(
    decisions: EdgeDecisions,
    taken: FirstFrameTaken,
    now: number,
  ): Snapshot | undefined {
    const due = now - this.#savedMs >= this.#everyMs;
    // Looked for (every mailbox) only where a snapshot would carry it.
    const through = due || decisions.sinceSnapshot > 0 ? this.through() : 0;
    if (through > 0) decisions.noteThrough(through, due);
    const moved = decisions.throughMoved;
    const snap = decisions.snapshotDue(taken);
    if (snap !== undefined && moved) this.#savedMs = now;
    return snap;
  }

  /** As the host stops, its input stopped: notes the position, the decisions' snapshot due. */
  stopping(decisions: EdgeDecisions): void {
    const through = this.through();
    if (through > 0) decisions.noteThrough(through, true);
  }
}

/** Whether an instance's pump waits for an append (looked at without copying the slots). */
export function anyPumping(slots: Iterable<Slot>): boolean {
  for (const slot of slots) if (slot.pumping) return true;
  return false;
}
