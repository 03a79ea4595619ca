/**
 * The check of a stream's journal against the feed log at the end of a run: every logged input
 * routed to the stream journaled once, in log order (one of the invariants, see invariants.ts).
 */
import { type JournalRecord, VoidedPositions } from "../actors/runtime/mod.ts";
import type { InvariantName } from "./invariants.ts";
import { inputRecordKind, inputRecordSourcePosition } from "../protocol/mod.ts";

/**
 * Checks that a stream's journal holds exactly the frames `expected` (source positions in log
 * order), each once, in order: the frames in force, not those a void record voids (a rebuild
 * after damage journals them again after it). Returns the violation, if any.
 */
export function checkJournalInputs(
  stream: string,
  records: readonly JournalRecord[],
  expected: readonly number[],
): { invariant: InvariantName; message: string } | undefined {
  const got: number[] = [];
  const voided = VoidedPositions.of(records);
  for (const rec of records) {
    if (voided.has(rec.pos)) continue;
    if (inputRecordKind(rec.data) === "frame") got.push(inputRecordSourcePosition(rec.data));
  }
  for (let i = 1; i < got.length; i++) {
    if (got[i]! <= got[i - 1]!) {
      return {
        invariant: "no_input_applied_twice",
        message: `${stream}: journal applies source position ${got[i]} after ${got[i - 1]}`,
      };
    }
  }
  const have = new Set(got);
  const missing = expected.filter((s) => !have.has(s));
  if (missing.length) {
    return {
      invariant: "no_input_lost",
      message: `${stream}: ${missing.length} of ${expected.length} logged inputs never applied, ` +
        `first at source position ${missing[0]}`,
    };
  }
  const want = new Set(expected);
  const extra = got.filter((s) => !want.has(s));
  if (extra.length) {
    return {
      invariant: "no_input_applied_twice",
      message: `${stream}: journal holds ${extra.length} inputs that are not in the log, first at ${
        extra[0]
      }`,
    };
  }
  return undefined;
}
