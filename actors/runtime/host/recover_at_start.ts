/**
 * A host's recovery at start: the edge's decisions (channels admitted, inputs dead-lettered) read
 * back, every instance rebuilt from its newest snapshot and its journal past it, and the one
 * source position the input resumes after, decided once for every input: after the lowest any
 * instance took (resume_from_lowest.ts), but no lower than where the edge's snapshot says every
 * input was journaled (input_through.ts; unless the journal lost inputs to give again), nor past
 * what was journaled; and below the first frame of any channel admitted whose instances did not
 * journal it.
 * The positions dead-lettered from there on are kept, so that a frame dead-lettered before the
 * restart is passed over, not judged again. How long it took and how many inputs it applied again
 * past the snapshots are logged and kept as gauges: a leased host must be back within its TTL.
 */
import type { EdgeDecisions, FirstFrameTaken } from "../edge/mod.ts";
import { type Journal, lowestSourcePosition } from "../journal/mod.ts";
import type { HostMetrics } from "../operations/mod.ts";
import type { Recovery } from "../recovery/mod.ts";
import type { SnapshotStore } from "../snapshots/mod.ts";

/** What recovery at start works with. */
export interface RecoverAtStartParts {
  journal: Journal;
  snapshots: SnapshotStore;
  decisions: EdgeDecisions;
  recovery: Recovery;
  metrics: HostMetrics;
  now(): number;
  log(message: string): void;
  /**
   * The host's instances after recovery: the highest source position each has taken, its stream
   * and its journal position.
   */
  instances(): ReadonlyArray<{ srcPos: number; stream: string; pos: number }>;
  /** Whether a channel's instances took its first frame (see EdgeDecisions.firstFrameHeld). */
  firstFrameTaken: FirstFrameTaken;
}

/** Recovers the host; resolves to the source position its input resumes after. */
export async function recoverAtStart(parts: RecoverAtStartParts): Promise<number> {
  const { journal, decisions, metrics, log } = parts;
  const t0 = parts.now();
  // A journal with no streams is a new host's: nothing decided yet, nothing to wait for.
  if (journal.streams().length > 0) await decisions.recover(parts.snapshots);
  const journaled = await parts.recovery.recoverAll(decisions.maxSrcPos);
  const instances = parts.instances();
  // Below the first frame of a channel admitted whose instances did not journal it: else the
  // input resumes past it, after the channels that shared its source position took it.
  const held = decisions.firstFrameHeld(parts.firstFrameTaken);
  const lowest = lowestSourcePosition(journaled, instances);
  const from = parts.recovery.rebuildsLost
    ? lowest
    : Math.max(lowest, Math.min(decisions.journaledThrough, journaled));
  const resumeAfter = held > 0 ? Math.min(from, held - 1) : from;
  decisions.resumeAt(resumeAfter);
  metrics.inputJournaledThrough.set(decisions.journaledThrough);
  const stats = journal.stats();
  metrics.journalTruncatedBytes.set(stats.truncatedBytes);
  if (stats.truncatedBytes > 0) {
    log(`journal: truncated a torn tail of ${stats.truncatedBytes} bytes on open`);
  }
  const ms = parts.now() - t0;
  const deferred = parts.recovery.deferredAtStart;
  const replayed = parts.recovery.pastSnapshotsAtStart - deferred;
  metrics.recoverySeconds.set(ms / 1000);
  metrics.recoveryInputs.set(replayed);
  const dormant = parts.recovery.dormantAtStart;
  log(
    `recovered ${instances.length} actor instances in ${ms.toFixed(0)} ms, ${replayed} inputs ` +
      `applied from the journal past their snapshots` +
      (dormant > 0 && deferred === 0
        ? `; ${dormant} with nothing past their snapshots are restored as first used or in the ` +
          `background`
        : "") +
      (deferred > 0
        ? `; ${dormant} are restored as first used or in the background, with the ${deferred} ` +
          `inputs past their snapshots whose outputs went out before the last stop`
        : ""),
  );
  return resumeAfter;
}
