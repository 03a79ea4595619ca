/**
 * A host's recovery at start: the edge's decisions (channels admitted, inputs dead-lettered) read
 * back, every instance rebuilt from its newest snapshot and its journal past it, and the one
 * source position the input resumes after, decided once for every input (resume_from_lowest.ts).
 * The positions dead-lettered from there on are kept, so that a frame dead-lettered before the
 * restart is passed over, not judged again.
 */
import type { EdgeDecisions } from "../edge/mod.ts";
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
  /** The host's instances after recovery: the highest source position each has taken. */
  instances(): ReadonlyArray<{ srcPos: number }>;
}

/** Recovers the host; resolves to the source position its input resumes after. */
export async function recoverAtStart(parts: RecoverAtStartParts): Promise<number> {
  const { journal, decisions, metrics, log } = parts;
  const t0 = parts.now();
  // A journal with no streams is a new host's: nothing decided yet, nothing to wait for.
  if (journal.streams().length > 0) await decisions.recover(parts.snapshots);
  const journaled = await parts.recovery.recoverAll(decisions.maxSrcPos);
  const instances = parts.instances();
  const resumeAfter = lowestSourcePosition(journaled, instances);
  decisions.resumeAt(resumeAfter);
  const stats = journal.stats();
  metrics.journalTruncatedBytes.set(stats.truncatedBytes);
  if (stats.truncatedBytes > 0) {
    log(`journal: truncated a torn tail of ${stats.truncatedBytes} bytes on open`);
  }
  log(`recovered ${instances.length} actor instances in ${(parts.now() - t0).toFixed(0)} ms`);
  return resumeAfter;
}
