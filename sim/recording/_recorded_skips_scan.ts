/**
 * The inputs a recording says its live host skipped (actors/runtime/host/recorded_skips.ts),
 * read from its `troupe.dlq.deadline` and `troupe.dlq.crash` dead letters before a replay starts:
 * a dead letter comes after its input (a deadline later, or after a restart), so a replay meeting
 * the input must know already. It costs a read of the recording; a letter that cannot be decoded
 * is left out (the replay then applies its input, and the log says why).
 */
import { type RecordedSkip, recordedSkipOf } from "../../actors/runtime/mod.ts";
import { deadLetterBodyOf, decodeEnvelope, dlqSubject } from "../../protocol/mod.ts";
import { RecordingReader } from "./recording_reader.ts";

/** The dead letters' subjects read. */
const SUBJECTS: ReadonlySet<string> = new Set([dlqSubject("deadline"), dlqSubject("crash")]);

/** The recorded skips of the recording at `path`, in the order their letters were recorded. */
export async function readRecordedSkips(
  path: string,
  log: (message: string) => void,
): Promise<RecordedSkip[]> {
  const reader = await RecordingReader.open(path);
  const skips: RecordedSkip[] = [];
  for await (const batch of reader.batches()) {
    for (const m of batch) {
      if (!SUBJECTS.has(m.subject)) continue;
      try {
        const skip = recordedSkipOf(deadLetterBodyOf(decodeEnvelope(m.data)));
        if (skip !== undefined) skips.push(skip);
      } catch (err) {
        log(`${path}: a dead letter on ${m.subject} is not one (${(err as Error).message})`);
      }
    }
  }
  return skips;
}
