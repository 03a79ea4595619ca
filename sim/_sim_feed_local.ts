/**
 * A simulation's feed and reference computed in the run's own thread, lazily: frames as they are
 * pulled, the reference when the run first waits for it, the recovery checks as they are handed
 * over. What the worker does too (see _sim_feed_worker.ts), and what a run falls back to.
 */
import { decodeFrame } from "../protocol/mod.ts";
import { checkPlanned, FeedGenerator, feedPlan } from "./_sim_feed_generator.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import type {
  CheckOp,
  CheckViolation,
  FeedSource,
  FeedSpec,
  ReferenceOutcome,
  ReferenceSetup,
} from "./_sim_feed_source.ts";
import { type DecodedFrame } from "./invariants.ts";
import { type LoggedFrames, RecoveryChecker } from "./recovery_checker.ts";
import { runReference } from "./fault_free_reference.ts";

/** Runs check work on a RecoveryChecker; the checks' violations go to `results`. */
export function runChecks(
  checker: RecoveryChecker,
  ops: readonly CheckOp[],
  results: Map<number, CheckViolation[]>,
): void {
  for (const op of ops) {
    if (op.op === "records") checker.records(op.host, op.stream, op.base, op.data);
    else if (op.op === "cut") checker.cut(op.host, op.lengths);
    else if (op.op === "patch") checker.patch(op.host, op.stream, op.pos, op.data);
    else {
      let found: CheckViolation[];
      try {
        found = checker.check(op.check);
      } catch (err) {
        found = [{
          invariant: "no_exception",
          message: `${op.check.host} recovery check failed: ${(err as Error).stack ?? err}`,
        }];
      }
      results.set(op.id, found);
    }
  }
}

/** The logged frames of `entries` for a checker, decoded once each (into `decoded`). */
export function loggedFrames(
  entry: (seq: number) => FeedEntry,
  decoded: DecodedFrame[],
): LoggedFrames {
  return {
    entry,
    decoded: (seq) => decoded[seq - 1] ??= decodeFrame(entry(seq).data),
  };
}

/** The feed and reference computed in this thread, as they are pulled. */
export class LocalSource implements FeedSource {
  readonly count: number;
  readonly threaded = false;
  feedMs = 0;
  referenceMs = 0;
  checksMs = 0;
  readonly #gen: FeedGenerator;
  readonly #plan: readonly number[];
  readonly #setup: ReferenceSetup;
  readonly #entries: FeedEntry[] = [];
  #reference: ReferenceOutcome | undefined;
  #checker: RecoveryChecker | undefined;
  readonly #checked = new Map<number, CheckViolation[]>();

  constructor(spec: FeedSpec, setup: ReferenceSetup) {
    this.#plan = feedPlan(spec);
    this.count = this.#plan.length;
    this.#gen = new FeedGenerator(spec);
    this.#setup = setup;
  }

  check(ops: readonly CheckOp[]): void {
    this.#checker ??= new RecoveryChecker(
      new Map(this.#setup.actors.map((def) => [def.kind, def])),
      loggedFrames((seq) => this.entry(seq), []),
    );
    const t = performance.now();
    runChecks(this.#checker, ops, this.#checked);
    this.checksMs += performance.now() - t;
  }

  checked(): Map<number, CheckViolation[]> {
    return this.#checked;
  }

  entry(seq: number): FeedEntry {
    if (seq <= this.#entries.length) return this.#entries[seq - 1]!;
    const t = performance.now();
    while (this.#entries.length < seq) {
      const e = this.#gen.next();
      if (!e) throw new RangeError(`Feed frame ${seq} requested of a feed of ${this.count}`);
      checkPlanned(e, this.#plan);
      this.#entries.push(e);
    }
    this.feedMs += performance.now() - t;
    return this.#entries[seq - 1]!;
  }

  reference(wait: boolean): ReferenceOutcome | undefined {
    if (this.#reference || !wait) return this.#reference;
    if (this.count > 0) this.entry(this.count);
    const t = performance.now();
    const ref = runReference(this.#entries, this.#setup.actors, this.#setup.configs);
    this.#reference = {
      outputs: ref.outputs,
      finals: ref.finals,
      conflicts: ref.conflicts,
      reapplied: ref.reapplied,
    };
    this.referenceMs += performance.now() - t;
    return this.#reference;
  }

  close(): void {
    this.#checker?.stop();
  }
}
