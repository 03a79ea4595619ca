/**
 * Supervision policy: how long an instance that failed waits before it is rebuilt (exponential
 * backoff), when it is stopped instead (too many failures in a window), and when an input that
 * keeps failing it is given up on. The host applies the decision; this file only makes it.
 */

/** Supervision settings. */
export interface SupervisionOptions {
  backoffMsBase: number;
  backoffMsMax: number;
  /** Failures within `failureWindowMs` after which an instance is stopped. */
  failuresMax: number;
  failureWindowMs: number;
  /** Failures of one input after which it goes to the dead letters and is skipped. */
  inputFailuresMax: number;
  /**
   * Deaths of the host in a row applying one input (live, then in each recovery) after which
   * recovery skips it and sends it to the dead letters (see crash_attempts.ts); at least 2.
   */
  crashAttemptsMax: number;
}

/**
 * The defaults: backoff from 100 ms to 10 s, stop after 5 failures in a minute, skip after 3, and
 * skip an input the host died applying twice in a row.
 */
export const DEFAULT_SUPERVISION: SupervisionOptions = {
  backoffMsBase: 100,
  backoffMsMax: 10_000,
  failuresMax: 5,
  failureWindowMs: 60_000,
  inputFailuresMax: 3,
  crashAttemptsMax: 2,
};

/** An instance's failure history, kept by its host. */
export interface FailureHistory {
  /** When it failed (host clock, ms), within the window. */
  failures: number[];
  /** How often each journal position failed it; undefined until one has. */
  inputFailures: Map<number, number> | undefined;
  /** The furthest input (journal position) a failure has been at; -1 before any. */
  failedInputMax: number;
}

/** What to do with an instance that just failed. */
export type FailureDecision =
  | { stop: true; failures: number }
  | { stop: false; failures: number; delayMs: number };

/**
 * Records a failure of the instance on the input at `pos` (at `nowMs`) and decides: stop it, or
 * rebuild it after a backoff that doubles with each failure in the window. A failure at a later
 * input than every earlier one (`input`: the input the error names, when `pos` does not, as for a
 * rebuild that failed) means the instance moved on since: it is not failing in a loop, so its
 * backoff starts again from the base. Otherwise an instance catching up on a long journal, whose
 * inputs now and then fail once each, would wait the longest backoff between every two of them
 * and never catch up. How many failures stop it is counted over the window all the same.
 */
export function recordFailure(
  history: FailureHistory,
  at: { pos: number; nowMs: number; input?: number | undefined },
  options: SupervisionOptions,
): FailureDecision {
  const { pos, nowMs } = at;
  const input = pos >= 0 ? pos : at.input ?? -1;
  const movedOn = input > history.failedInputMax;
  if (movedOn) history.failedInputMax = input;
  history.failures = history.failures.filter((t) => nowMs - t < options.failureWindowMs);
  history.failures.push(nowMs);
  countInputFailure(history, pos);
  const n = history.failures.length;
  if (n >= options.failuresMax) return { stop: true, failures: n };
  const doublings = movedOn ? 0 : n - 1;
  return {
    stop: false,
    failures: n,
    delayMs: Math.min(options.backoffMsMax, options.backoffMsBase * 2 ** doublings),
  };
}

/**
 * Counts one more failure of the input at `pos` during a rebuild; true when it has now failed
 * `inputFailuresMax` times and is to be skipped.
 */
export function isPoison(
  history: FailureHistory,
  pos: number,
  options: SupervisionOptions,
): boolean {
  return countInputFailure(history, pos) >= options.inputFailuresMax;
}

/** Counts one more failure of the input at `pos`; its count now. */
function countInputFailure(history: FailureHistory, pos: number): number {
  const failures = history.inputFailures ??= new Map();
  const count = (failures.get(pos) ?? 0) + 1;
  failures.set(pos, count);
  return count;
}
