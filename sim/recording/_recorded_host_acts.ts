/**
 * What a recording says its live host did on its own, read before a replay starts:
 *
 * - the inputs it skipped (actors/runtime/host/recorded_skips.ts), from its `troupe.dlq.deadline`
 *   and `troupe.dlq.crash` dead letters: a dead letter comes after its input (a deadline later, or
 *   after a restart), so a replay meeting the input must know already;
 * - the clock ticks it applied (actors/runtime/host/recorded_ticks.ts), from `troupe.tick.<host>`:
 *   a notice may reach the recorder after a sample the host took after the tick.
 *
 * It costs a read of the recording; a message that cannot be decoded is left out (the replay then
 * applies the input, or misses the tick, and the log says why).
 */
import { type RecordedSkip, recordedSkipOf } from "../../actors/runtime/mod.ts";
import {
  areaPrefix,
  deadLetterBodyOf,
  decodeEnvelope,
  decodeTickNotices,
  dlqSubject,
  type TickNotice,
} from "../../protocol/mod.ts";
import { RecordingReader } from "./recording_reader.ts";

/** The dead letters' subjects read. */
const SKIP_SUBJECTS: ReadonlySet<string> = new Set([dlqSubject("deadline"), dlqSubject("crash")]);
const TICK_PREFIX = areaPrefix("tick");

/** What a recording says its live host did on its own, each in the order it was recorded. */
export interface RecordedHostActs {
  skips: RecordedSkip[];
  ticks: TickNotice[];
}

/** The recorded skips and ticks of the recording at `path`. */
export async function readRecordedHostActs(
  path: string,
  log: (message: string) => void,
): Promise<RecordedHostActs> {
  const reader = await RecordingReader.open(path);
  const acts: RecordedHostActs = { skips: [], ticks: [] };
  for await (const batch of reader.batches()) {
    for (const m of batch) {
      if (m.subject.startsWith(TICK_PREFIX)) {
        try {
          acts.ticks.push(...decodeTickNotices(m.data, `tick notices on ${m.subject}`));
        } catch (err) {
          log(`${path}: ${(err as Error).message}; its ticks are not replayed`);
        }
        continue;
      }
      if (!SKIP_SUBJECTS.has(m.subject)) continue;
      try {
        const skip = recordedSkipOf(deadLetterBodyOf(decodeEnvelope(m.data)));
        if (skip !== undefined) acts.skips.push(skip);
      } catch (err) {
        log(`${path}: a dead letter on ${m.subject} is not one (${(err as Error).message})`);
      }
    }
  }
  return acts;
}
