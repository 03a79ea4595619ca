/**
 * The inputs a recording says its live host skipped: dead letters of reason `deadline` (a step
 * that ran past its deadline) and `crash` (a step that ended its thread, or an input the host died
 * applying `crash_attempts_max` times), each naming its instance. A replay skips them as the live
 * host did, journaling the skip and sending the same dead letter, rather than applying them: a
 * team's step that never returns would hold the replay for good, one that ends the process would
 * end the replay, and one that returns now (the host was killed for another reason) would make
 * outputs the live host never made. Other dead letters (a step that threw, a malformed input) are
 * made again by the replay itself, the kernel being deterministic.
 *
 * An input is known by its instance, its subject and its bytes, which a replay rebuilds exactly
 * from the recorded feed (positions differ: a live journal holds more than a recording).
 */
import { bytesEqual, type DeadLetter, type InputRecord } from "../../../protocol/mod.ts";

/** The dead letter reasons of inputs skipped rather than applied. */
export const SKIPPED_REASONS: ReadonlySet<string> = new Set(["deadline", "crash"]);

/** One recorded skip: the dead letter's instance, input and what it said. */
export interface RecordedSkip {
  /** The instance, `kind/key`. */
  actor: string;
  subject: string;
  raw: Uint8Array;
  reason: "deadline" | "crash";
  error: string;
}

/** The recorded skip of a dead letter, when it is one. */
export function recordedSkipOf(letter: DeadLetter): RecordedSkip | undefined {
  if (letter.actor === undefined || !SKIPPED_REASONS.has(letter.reason)) return undefined;
  return {
    actor: letter.actor,
    subject: letter.subject,
    raw: letter.raw,
    reason: letter.reason as RecordedSkip["reason"],
    error: letter.error,
  };
}

/** The recorded skips of a replay, each taken once. */
export class RecordedSkips {
  readonly #byActor = new Map<string, RecordedSkip[]>();

  constructor(skips: Iterable<RecordedSkip>) {
    for (const s of skips) {
      const list = this.#byActor.get(s.actor) ?? [];
      list.push(s);
      this.#byActor.set(s.actor, list);
    }
  }

  /** Skips not yet taken. */
  get size(): number {
    let n = 0;
    for (const list of this.#byActor.values()) n += list.length;
    return n;
  }

  /** The recorded skip of `record` in instance `stream`, if it is one; taken, so once. */
  take(stream: string, record: InputRecord): RecordedSkip | undefined {
    const list = this.#byActor.get(stream);
    if (list === undefined || record.kind === "tick") return undefined;
    const at = list.findIndex((s) =>
      s.subject === record.subject && bytesEqual(s.raw, record.payload)
    );
    if (at < 0) return undefined;
    const [skip] = list.splice(at, 1);
    if (list.length === 0) this.#byActor.delete(stream);
    return skip;
  }
}
