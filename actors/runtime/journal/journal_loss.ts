/**
 * Inputs a journal lost that an instance needs: journal positions past its snapshot that no intact
 * record holds any more (damage skipped over, a deleted segment, a snapshot too damaged to load
 * over a compacted journal). Recovery finds them as gaps in a stream's positions; this file judges
 * them. Where the input keeps positions (JetStream) and still holds everything after the last input
 * kept before the loss, the loss is rebuilt: the host voids what its journal holds after the hole,
 * resumes the input there, and applies everything again in order (see recovery.ts). Anything else
 * cannot be rebuilt, and the host starts over it only when told to accept the loss, naming what is
 * lost.
 */

/** A run of journal positions of one stream that recovery needs and no intact record holds. */
export interface JournalLoss {
  stream: string;
  /** The first journal position lost. */
  from: number;
  /** The last journal position lost (the stream's last known position for a lost tail). */
  to: number;
  /** The highest source position the instance kept before the loss (its snapshot's, or 0). */
  srcAfter: number;
  /** Whether the stream's starting configuration (position 1) is among what was lost. */
  init: boolean;
}

/** How the losses of a recovery are dealt with. */
export interface LossPlan {
  /** Losses the input gives back: it resumes after `resumeAfter`. */
  rebuilt: JournalLoss[];
  /** Losses accepted as lost. */
  accepted: JournalLoss[];
  /**
   * Where the input must resume for the rebuilt losses: the lowest `srcAfter` (undefined: none).
   */
  resumeAfter: number | undefined;
}

/** What the judge knows of the input and of the operator's wishes. */
export interface LossContext {
  /** The first source position the input still holds; undefined when it keeps no positions. */
  firstSrcPos: number | undefined;
  /** Whether to start over losses that cannot be rebuilt (`--accept-journal-loss`). */
  accept: boolean;
}

/** Journal losses that cannot be rebuilt, refused because the host was not told to accept them. */
export class JournalLossError extends Error {
  override name = "JournalLossError";
  readonly losses: readonly JournalLoss[];

  constructor(message: string, losses: readonly JournalLoss[]) {
    super(message);
    this.losses = losses;
  }
}

/** A loss in words: the stream, the positions, and where the input would give them back. */
export function describeLoss(loss: JournalLoss): string {
  const count = loss.to - loss.from + 1;
  const what = count === 1 ? `input ${loss.from}` : `inputs ${loss.from}-${loss.to} (${count})`;
  return `${loss.stream}: ${what}${loss.init ? ", with its starting configuration" : ""}` +
    ` after source position ${loss.srcAfter}`;
}

/**
 * Sorts losses into rebuilt and accepted; throws JournalLossError naming every loss that cannot be
 * rebuilt when `context.accept` is false.
 */
export function planLossRebuild(losses: readonly JournalLoss[], context: LossContext): LossPlan {
  const rebuilt: JournalLoss[] = [], lost: JournalLoss[] = [];
  const first = context.firstSrcPos;
  for (const loss of losses) {
    const kept = first !== undefined && !loss.init && loss.srcAfter + 1 >= first;
    (kept ? rebuilt : lost).push(loss);
  }
  if (lost.length > 0 && !context.accept) {
    const why = first === undefined
      ? "the input keeps no positions to read them again from"
      : `the input holds source positions from ${first} on`;
    throw new JournalLossError(
      `Cannot start: the journal lost ${lost.length} run${
        lost.length === 1 ? "" : "s"
      } of inputs that cannot be rebuilt (${why}): ${
        lost.map(describeLoss).join("; ")
      }; start with --accept-journal-loss (or "accept_journal_loss": true) to go on without them`,
      lost,
    );
  }
  let resumeAfter: number | undefined;
  for (const loss of rebuilt) {
    if (resumeAfter === undefined || loss.srcAfter < resumeAfter) resumeAfter = loss.srcAfter;
  }
  return { rebuilt, accepted: lost, resumeAfter };
}
